//! `POST /resources/users/v1/mfa/webauthn/{deviceId}/disable/verify` (and under `/frontegg/identity`): removes that passkey (proof in the request).
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-webauthn-disable").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::webauthn_disable(&app, req).await) })).await
}
