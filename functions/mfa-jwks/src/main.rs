//! `GET /.well-known/jwks.json`: the public keys that verify full-access tokens.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::run(Box::pin(async {
        // Built once: the document only changes with the configuration.
        let keys =
            std::env::var("MFA_TOKEN_PUBLIC_KEYS").map_err(|_| "missing required setting MFA_TOKEN_PUBLIC_KEYS")?;
        let document =
            handlers::jwks_document(&keys).map_err(|reason| format!("MFA_TOKEN_PUBLIC_KEYS is invalid ({reason})"))?;
        lambda::serve(&|req| Box::pin(handlers::jwks(&document, req))).await
    }))
}
