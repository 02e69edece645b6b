//! `POST /resources/auth/v1/user/mfa/webauthn/{deviceId}/verify` (and under `/frontegg/identity`): login with that passkey.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-webauthn-verify", |call| {
        Box::pin(edge::run(call, frontegg::login::webauthn_verify))
    })
}
