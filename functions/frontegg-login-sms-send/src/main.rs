//! `POST /resources/auth/v1/user/mfa/sms/{deviceId}` (and under `/frontegg/identity`): texts a login code to that phone.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-login-sms-send").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::login_sms_send(&app, req).await) })).await
}
