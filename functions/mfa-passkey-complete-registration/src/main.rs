//! `POST /mfa/passkey/complete-registration`: finishes a passkey registration.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-passkey-complete-registration", |call| {
        Box::pin(edge::run(call, handlers::passkey::complete_registration))
    })
}
