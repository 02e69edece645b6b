//! `GET /mfa/devices`: the caller's remembered devices, never a token.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-devices", |app, req| Box::pin(handlers::devices(app, req)))
}
