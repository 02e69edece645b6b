//! `POST /resources/auth/v1/user/mfa/emailcode` (and under `/frontegg/identity`): mails a login code.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-emailcode-send", |call| Box::pin(edge::run(call, frontegg::login::emailcode_send)))
}
