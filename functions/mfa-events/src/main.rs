//! `GET /mfa/events`: the audit trail, newest first, a page at a time.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-events").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::events(&app, req).await) })).await
}
