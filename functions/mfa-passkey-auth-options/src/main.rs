//! `POST /mfa/passkey/auth-options`: authentication options for the caller's passkeys.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-passkey-auth-options", |app, req| Box::pin(handlers::passkey_auth_options(app, req)))
}
