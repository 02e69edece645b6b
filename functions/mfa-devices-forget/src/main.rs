//! `DELETE /mfa/devices`: forgets every remembered device of the caller.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-devices-forget").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::forget_devices(&app, req).await) })).await
}
