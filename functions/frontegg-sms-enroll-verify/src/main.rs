//! `POST /resources/users/v1/mfa/sms/enroll/verify` (and under `/frontegg/identity`): completes the phone.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-enroll-verify", |call| {
        Box::pin(edge::run(call, frontegg::account::sms_enroll_verify))
    })
}
