//! `GET /mfa/remember-device`: whether a login may remember its device, and for how long.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-remember-device", |app, req| Box::pin(handlers::remember_device(app, req)))
}
