//! `POST /resources/users/v1/mfa/sms/{deviceId}/disable/verify` (and under `/frontegg/identity`): removes that phone (proof in the request).
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-disable", |call| Box::pin(edge::run(call, frontegg::account::sms_disable)))
}
