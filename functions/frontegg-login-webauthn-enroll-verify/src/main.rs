//! `POST /resources/auth/v1/user/mfa/webauthn/enroll/verify` (and under `/frontegg/identity`): completes the passkey and logs in.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-webauthn-enroll-verify", |call| {
        Box::pin(edge::run(call, frontegg::login::webauthn_enroll_verify))
    })
}
