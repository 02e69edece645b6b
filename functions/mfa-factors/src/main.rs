//! `GET /mfa/factors`: the caller's factors, never a secret.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-factors", |call| Box::pin(edge::run(call, handlers::factors::list)))
}
