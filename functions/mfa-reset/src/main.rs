//! `POST /mfa/reset`: resets a user's MFA (self with step-up, or an organization admin).
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-reset", |call| Box::pin(edge::run(call, handlers::reset::reset)))
}
