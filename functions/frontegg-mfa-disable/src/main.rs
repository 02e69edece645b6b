//! `POST /resources/users/v1/mfa/disable` (and under `/frontegg/identity`): (legacy): turns MFA off with a code or recovery code.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-mfa-disable").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::disable(&app, req).await) })).await
}
