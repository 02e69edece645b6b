//! `POST /resources/auth/v1/user/mfa/authenticator/enroll` (and under `/frontegg/identity`): begins an authenticator at login.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-login-authenticator-enroll").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::login_authenticator_enroll(&app, req).await) }))
        .await
}
