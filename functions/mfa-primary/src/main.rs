//! `POST /mfa/primary`: chooses the primary method.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-primary", |app, req| Box::pin(handlers::primary(app, req)))
}
