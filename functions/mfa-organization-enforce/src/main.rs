//! `POST /mfa/organization/enforce`: turns organization-wide MFA on or off.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-organization-enforce").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::enforce(&app, req).await) })).await
}
