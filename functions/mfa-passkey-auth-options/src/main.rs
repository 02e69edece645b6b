//! `POST /mfa/passkey/auth-options`: authentication options for the caller's passkeys.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-passkey-auth-options", |call| Box::pin(edge::run(call, handlers::passkey::auth_options)))
}
