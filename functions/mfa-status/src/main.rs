//! `GET /mfa/status`: the caller's MFA status, with whether a login may remember its device.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-status", |call| Box::pin(edge::run(call, handlers::status::status)))
}
