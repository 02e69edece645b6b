//! `POST /resources/auth/v1/user/mfa/webauthn/{deviceId}` (and under `/frontegg/identity`): opens a login ceremony for that passkey.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-webauthn-options", |call| {
        Box::pin(edge::run(call, frontegg::login::webauthn_options))
    })
}
