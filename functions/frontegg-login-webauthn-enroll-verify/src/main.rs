//! `POST /resources/auth/v1/user/mfa/webauthn/enroll/verify` (and under `/frontegg/identity`): completes the passkey and logs in.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-webauthn-enroll-verify", |app, req| {
        Box::pin(frontegg::login_webauthn_enroll_verify(app, req))
    })
}
