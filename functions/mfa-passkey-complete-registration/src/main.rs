//! `POST /mfa/passkey/complete-registration`: finishes a passkey registration.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-passkey-complete-registration", |app, req| {
        Box::pin(handlers::passkey_complete_registration(app, req))
    })
}
