//! `PATCH /mfa/factors/{factorId}`: renames one of the caller's factors.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-factor-rename", |call| Box::pin(edge::run(call, handlers::factors::rename)))
}
