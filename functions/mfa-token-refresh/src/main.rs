//! `POST /mfa/token/refresh`: rotates the refresh token.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-token-refresh").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::token_refresh(&app, req).await) })).await
}
