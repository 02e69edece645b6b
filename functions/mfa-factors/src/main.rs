//! `GET /mfa/factors`: the caller's factors, never a secret.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-factors").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::factors(&app, req).await) })).await
}
