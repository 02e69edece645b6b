//! `GET /resources/users/v1/mfa/devices` (and under `/frontegg/identity`): the user's factors as its client lists them.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-devices").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::devices(&app, req).await) })).await
}
