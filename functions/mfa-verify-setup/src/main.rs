//! `POST /mfa/verify-setup`: verifies a pending setup and enables the method.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-verify-setup", |call| Box::pin(edge::run(call, handlers::setup::verify_setup)))
}
