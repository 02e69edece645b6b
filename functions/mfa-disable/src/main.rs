//! `POST /mfa/disable`: switches a method off (step-up).
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-disable", |app, req| Box::pin(handlers::disable(app, req)))
}
