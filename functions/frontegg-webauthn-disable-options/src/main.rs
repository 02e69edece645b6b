//! `POST /resources/users/v1/mfa/webauthn/{deviceId}/disable` (and under `/frontegg/identity`): opens a ceremony to prove that passkey.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-webauthn-disable-options", |call| {
        Box::pin(edge::run(call, frontegg::account::webauthn_disable_options))
    })
}
