//! `GET /mfa/status`: the caller's MFA status.
use lambda_http::{Error, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = mfa_shared::App::from_env().await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::status(&app, req).await) })).await
}
