//! `POST /mfa/passkey/complete-registration-1`: the same, under the path older clients use.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-passkey-complete-registration-1", |app, req| {
        Box::pin(handlers::passkey_complete_registration(app, req))
    })
}
