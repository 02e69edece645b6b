//! `POST /resources/auth/v1/user/mfa/recover` (and under `/frontegg/identity`): a recovery code resets the user's MFA.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-recover", |call| Box::pin(edge::run(call, frontegg::login::recover)))
}
