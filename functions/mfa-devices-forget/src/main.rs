//! `DELETE /mfa/devices`: forgets every remembered device of the caller.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-devices-forget", |call| Box::pin(edge::run(call, handlers::devices::forget_all)))
}
