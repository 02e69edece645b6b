//! `POST /resources/auth/v1/user/mfa/recover` (and under `/frontegg/identity`): a recovery code resets the user's MFA.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-login-recover").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::login_recover(&app, req).await) })).await
}
