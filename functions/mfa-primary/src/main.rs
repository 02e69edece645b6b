//! `POST /mfa/primary`: chooses the primary method.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-primary", |call| Box::pin(edge::run(call, handlers::manage::primary)))
}
