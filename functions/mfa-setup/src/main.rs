//! `POST /mfa/setup`: starts setting up an MFA method.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-setup", |call| Box::pin(edge::run(call, handlers::setup::setup)))
}
