//! `GET /.well-known/jwks.json`: the public keys that verify full-access tokens.
use lambda_http::{Error, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // Built once: the document only changes with the configuration.
    let keys = std::env::var("MFA_TOKEN_PUBLIC_KEYS").map_err(|_| "missing required setting MFA_TOKEN_PUBLIC_KEYS")?;
    let document = mfa_shared::handlers::jwks_document(&keys)
        .map_err(|reason| format!("MFA_TOKEN_PUBLIC_KEYS is invalid ({reason})"))?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::jwks(&document, req).await) })).await
}
