//! `POST /resources/users/v1/mfa/authenticator/enroll` (and under `/frontegg/identity`): begins an authenticator.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-authenticator-enroll", |call| {
        Box::pin(edge::run(call, frontegg::account::authenticator_enroll))
    })
}
