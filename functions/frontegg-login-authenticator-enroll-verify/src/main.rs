//! `POST /resources/auth/v1/user/mfa/authenticator/enroll/verify` (and under `/frontegg/identity`): completes the authenticator and logs in.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-authenticator-enroll-verify", |call| {
        Box::pin(edge::run(call, frontegg::login::authenticator_enroll_verify))
    })
}
