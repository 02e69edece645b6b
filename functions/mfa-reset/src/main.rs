//! `POST /mfa/reset`: resets a user's MFA (self with step-up, or an organization admin).
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-reset").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::reset(&app, req).await) })).await
}
