//! `POST /mfa/verify-login`: the second step of a login; issues a full-access token.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-verify-login", |call| Box::pin(edge::run(call, handlers::login::verify_login)))
}
