//! `POST /resources/auth/v1/user/mfa/sms/{deviceId}/verify` (and under `/frontegg/identity`): login with the texted code.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-sms-verify", |call| Box::pin(edge::run(call, frontegg::login::sms_verify)))
}
