//! `POST /resources/users/v1/mfa/enroll` (and under `/frontegg/identity`): (legacy) begins an authenticator.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-mfa-enroll", |call| Box::pin(edge::run(call, frontegg::account::authenticator_enroll)))
}
