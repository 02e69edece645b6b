//! `POST /mfa/recover`: logs in with a backup code.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-recover").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::recover(&app, req).await) })).await
}
