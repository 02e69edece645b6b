//! `POST /mfa/setup`: starts setting up an MFA method.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-setup", |app, req| Box::pin(handlers::setup(app, req)))
}
