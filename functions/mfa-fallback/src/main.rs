//! API Gateway's `$default` route: unknown paths (404) and wrong methods (405), in the envelope.
use lambda_http::{Error, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::fallback(req).await) })).await
}
