//! `PATCH /mfa/factors/{factorId}`: renames one of the caller's factors.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-factor-rename", |app, req| Box::pin(handlers::rename_factor(app, req)))
}
