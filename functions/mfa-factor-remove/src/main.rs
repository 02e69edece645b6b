//! `DELETE /mfa/factors/{factorId}`: removes one of the caller's factors.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-factor-remove", |call| Box::pin(edge::run(call, handlers::factors::remove)))
}
