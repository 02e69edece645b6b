//! `POST /mfa/token/refresh`: rotates the refresh token.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-token-refresh", |call| Box::pin(edge::run(call, handlers::session::refresh)))
}
