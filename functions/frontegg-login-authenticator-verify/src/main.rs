//! `POST /resources/auth/v1/user/mfa/authenticator/{deviceId}/verify` (and under `/frontegg/identity`): login with that authenticator.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-login-authenticator-verify").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::login_authenticator_verify(&app, req).await) }))
        .await
}
