//! `POST /resources/users/v1/mfa/sms/enroll` (and under `/frontegg/identity`): begins a phone.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-enroll", |call| Box::pin(edge::run(call, frontegg::account::sms_enroll)))
}
