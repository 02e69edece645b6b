//! `POST /resources/auth/v1/user/mfa/webauthn/{deviceId}` (and under `/frontegg/identity`): opens a login ceremony for that passkey.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-login-webauthn-options").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::login_webauthn_options(&app, req).await) })).await
}
