//! `POST /resources/users/v1/mfa/sms/enroll/verify` (and under `/frontegg/identity`): completes the phone.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-sms-enroll-verify").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::sms_enroll_verify(&app, req).await) })).await
}
