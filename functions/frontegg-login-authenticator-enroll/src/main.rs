//! `POST /resources/auth/v1/user/mfa/authenticator/enroll` (and under `/frontegg/identity`): begins an authenticator at login.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-authenticator-enroll", |call| {
        Box::pin(edge::run(call, frontegg::login::authenticator_enroll))
    })
}
