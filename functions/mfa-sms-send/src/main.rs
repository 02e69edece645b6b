//! `POST /mfa/sms/send`: texts a login code (SMS).
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-sms-send").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::send_sms_code(&app, req).await) })).await
}
