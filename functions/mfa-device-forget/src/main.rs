//! `DELETE /mfa/devices/{deviceId}`: forgets one remembered device.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-device-forget", |call| Box::pin(edge::run(call, handlers::devices::forget)))
}
