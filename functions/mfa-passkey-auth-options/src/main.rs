//! `POST /mfa/passkey/auth-options`: authentication options for the caller's passkeys.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-passkey-auth-options").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::passkey_auth_options(&app, req).await) })).await
}
