//! `POST /mfa/verify-login`: the second step of a login; issues a full-access token.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-verify-login").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::verify_login(&app, req).await) })).await
}
