//! `POST /mfa/passkey/complete-registration-1`: the same, under the path older clients use.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-passkey-complete-registration-1", |call| {
        Box::pin(edge::run(call, handlers::passkey::complete_registration))
    })
}
