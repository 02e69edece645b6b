//! `POST /mfa/token/refresh`: rotates the refresh token.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-token-refresh", |app, req| Box::pin(handlers::token_refresh(app, req)))
}
