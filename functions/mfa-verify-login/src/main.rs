//! `POST /mfa/verify-login`: the second step of a login; issues a full-access token.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::app::{App, Needs};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::from_env(Needs { keyring: true, webauthn: true, signer: true, mail: true }).await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::verify_login(&app, req).await) })).await
}
