//! `GET /mfa/remember-device`: whether a login may remember its device, and for how long.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-remember-device", |call| Box::pin(edge::run(call, handlers::devices::remember)))
}
