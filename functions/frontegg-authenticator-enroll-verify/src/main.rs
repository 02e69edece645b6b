//! `POST /resources/users/v1/mfa/authenticator/enroll/verify` (and under `/frontegg/identity`): completes the authenticator.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-authenticator-enroll-verify", |call| {
        Box::pin(edge::run(call, frontegg::account::authenticator_enroll_verify))
    })
}
