//! `GET /mfa/methods`: every MFA method with the caller's state of it.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-methods", |app, req| Box::pin(handlers::methods(app, req)))
}
