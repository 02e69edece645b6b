//! `POST /resources/auth/v1/user/mfa/sms/{deviceId}` (and under `/frontegg/identity`): texts a login code to that phone.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-sms-send", |app, req| Box::pin(frontegg::login_sms_send(app, req)))
}
