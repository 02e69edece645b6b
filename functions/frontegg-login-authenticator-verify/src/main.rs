//! `POST /resources/auth/v1/user/mfa/authenticator/{deviceId}/verify` (and under `/frontegg/identity`): login with that authenticator.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-authenticator-verify", |call| {
        Box::pin(edge::run(call, frontegg::login::authenticator_verify))
    })
}
