//! `POST /resources/users/v1/mfa/disable` (and under `/frontegg/identity`): (legacy) turns MFA off with a code or recovery code.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-mfa-disable", |call| Box::pin(edge::run(call, frontegg::account::disable)))
}
