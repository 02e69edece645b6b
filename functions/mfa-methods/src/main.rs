//! `GET /mfa/methods`: every MFA method with the caller's state of it.
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-methods", |call| Box::pin(edge::run(call, handlers::status::methods)))
}
