//! `DELETE /mfa/devices/{deviceId}`: forgets one remembered device.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-device-forget", |app, req| Box::pin(handlers::forget_device(app, req)))
}
