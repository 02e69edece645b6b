//! `POST /mfa/verify-login`: the second step of a login; issues a full-access token.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-verify-login", |app, req| Box::pin(handlers::verify_login(app, req)))
}
