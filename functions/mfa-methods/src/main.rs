//! `GET /mfa/methods`: every MFA method with the caller's state of it and its NIST SP 800-63B rev 4 standing.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-methods", |call| Box::pin(edge::run(call, handlers::status::methods)))
}
