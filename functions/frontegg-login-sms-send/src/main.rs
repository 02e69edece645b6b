//! `POST /resources/auth/v1/user/mfa/sms/{deviceId}` (and under `/frontegg/identity`): texts a login code to that phone.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-sms-send", |call| Box::pin(edge::run(call, frontegg::login::sms_send)))
}
