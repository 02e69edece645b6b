//! `POST /resources/users/v1/mfa/sms/{deviceId}/disable` (and under `/frontegg/identity`): texts a code to prove that phone.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-disable-send", |call| Box::pin(edge::run(call, frontegg::account::sms_disable_send)))
}
