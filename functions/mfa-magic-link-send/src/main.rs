//! `POST /mfa/magic-link/send`: mails a login link.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-magic-link-send").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::magic_link_send(&app, req).await) })).await
}
