//! `DELETE /mfa/devices`: forgets every remembered device of the caller.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-devices-forget", |app, req| Box::pin(handlers::forget_devices(app, req)))
}
