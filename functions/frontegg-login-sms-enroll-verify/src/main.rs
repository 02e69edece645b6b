//! `POST /resources/auth/v1/user/mfa/sms/enroll/verify` (and under `/frontegg/identity`): completes the phone and logs in.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-sms-enroll-verify", |call| {
        Box::pin(edge::run(call, frontegg::login::sms_enroll_verify))
    })
}
