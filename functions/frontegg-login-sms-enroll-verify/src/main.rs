//! `POST /resources/auth/v1/user/mfa/sms/enroll/verify` (and under `/frontegg/identity`): completes the phone and logs in.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-login-sms-enroll-verify").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::login_sms_enroll_verify(&app, req).await) }))
        .await
}
