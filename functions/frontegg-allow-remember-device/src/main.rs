//! `GET /resources/configurations/v1/mfa-policy/allow-remember-device` (and under `/frontegg/identity`): whether a login may remember its device.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-allow-remember-device").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::allow_remember_device(&app, req).await) })).await
}
