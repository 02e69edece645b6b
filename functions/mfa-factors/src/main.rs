//! `GET /mfa/factors`: the caller's factors, never a secret.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-factors", |app, req| Box::pin(handlers::factors(app, req)))
}
