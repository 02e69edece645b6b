//! `DELETE /mfa/factors/{factorId}`: removes one of the caller's factors.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-factor-remove", |app, req| Box::pin(handlers::remove_factor(app, req)))
}
