//! `GET /mfa/methods`: every MFA method with the caller's state of it.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-methods").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::methods(&app, req).await) })).await
}
