//! `POST /mfa/organization/enforce`: turns organization-wide MFA on or off.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-organization-enforce", |app, req| Box::pin(handlers::enforce(app, req)))
}
