//! `POST /resources/auth/v1/user/mfa/sms/{deviceId}/verify` (and under `/frontegg/identity`): login with the texted code.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-sms-verify", |app, req| Box::pin(frontegg::login_sms_verify(app, req)))
}
