//! `POST /resources/auth/v1/user/mfa/sms/enroll` (and under `/frontegg/identity`): texts a setup code at login.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-sms-enroll", |call| Box::pin(edge::run(call, frontegg::login::sms_enroll)))
}
