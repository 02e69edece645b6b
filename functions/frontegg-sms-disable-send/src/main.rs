//! `POST /resources/users/v1/mfa/sms/{deviceId}/disable` (and under `/frontegg/identity`): texts a code to prove that phone.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-sms-disable-send").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::sms_disable_send(&app, req).await) })).await
}
