//! `DELETE /mfa/factors/{factorId}`: removes one of the caller's factors.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-factor-remove").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::remove_factor(&app, req).await) })).await
}
