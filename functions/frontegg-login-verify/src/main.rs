//! `POST /resources/auth/v1/user/mfa/verify` (and under `/frontegg/identity`): login with a code of any authenticator.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-verify", |call| Box::pin(edge::run(call, frontegg::login::verify)))
}
