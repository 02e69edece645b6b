//! `GET /mfa/devices`: the caller's remembered devices, never a token.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-devices", |call| Box::pin(edge::run(call, handlers::devices::list)))
}
