//! `GET /mfa/remember-device`: whether a login may remember its device, and for how long.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-remember-device").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::remember_device(&app, req).await) })).await
}
