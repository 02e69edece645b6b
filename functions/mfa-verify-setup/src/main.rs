//! `POST /mfa/verify-setup`: verifies a pending setup and enables the method.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-verify-setup", |app, req| Box::pin(handlers::verify_setup(app, req)))
}
