//! `POST /mfa/enable`: switches a configured method back on.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-enable", |app, req| Box::pin(handlers::enable(app, req)))
}
