//! `POST /mfa/recover`: logs in with a backup code.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-recover", |app, req| Box::pin(handlers::recover(app, req)))
}
