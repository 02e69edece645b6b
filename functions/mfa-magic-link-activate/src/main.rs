//! `POST /mfa/magic-link/activate`: enables MAGIC_LINK with the mailed token.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-magic-link-activate").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::magic_link_activate(&app, req).await) })).await
}
