//! `POST /resources/auth/v1/user/mfa/emailcode/verify` (and under `/frontegg/identity`): login with the mailed code.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-emailcode-verify", |call| {
        Box::pin(edge::run(call, frontegg::login::emailcode_verify))
    })
}
