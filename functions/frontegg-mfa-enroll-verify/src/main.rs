//! `POST /resources/users/v1/mfa/enroll/verify` (and under `/frontegg/identity`): (legacy) completes it.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-mfa-enroll-verify", |call| {
        Box::pin(edge::run(call, frontegg::account::authenticator_enroll_verify))
    })
}
