//! `GET /mfa/status`: the caller's MFA status.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-status", |app, req| Box::pin(handlers::status(app, req)))
}
