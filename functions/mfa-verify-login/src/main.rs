//! `POST /mfa/verify-login`: the second step of a login; issues a full-access token.
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-verify-login", |call| Box::pin(edge::run(call, handlers::login::verify_login)))
}
