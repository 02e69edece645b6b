//! `POST /mfa/passkey/auth-options`: authentication options for the caller's passkeys.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::app::{App, Needs};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::from_env(Needs { webauthn: true, ..Needs::default() }).await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::passkey_auth_options(&app, req).await) })).await
}
