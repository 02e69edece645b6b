//! `POST /mfa/reset`: resets a user's MFA (self with step-up, or an organization admin).
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-reset", |app, req| Box::pin(handlers::reset(app, req)))
}
