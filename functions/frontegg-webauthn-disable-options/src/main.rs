//! `POST /resources/users/v1/mfa/webauthn/{deviceId}/disable` (and under `/frontegg/identity`): opens a ceremony to prove that passkey.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-webauthn-disable-options").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::webauthn_disable_options(&app, req).await) }))
        .await
}
