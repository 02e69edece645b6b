//! `POST /resources/auth/v1/user/mfa/webauthn/enroll` (and under `/frontegg/identity`): begins a passkey at login.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-webauthn-enroll", |call| {
        Box::pin(edge::run(call, frontegg::login::webauthn_enroll))
    })
}
