//! `POST /mfa/disable`: switches a method off (step-up).
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-disable", |call| Box::pin(edge::run(call, handlers::manage::disable)))
}
