//! `POST /resources/auth/v1/user/mfa/authenticator/{deviceId}/verify` (and under `/frontegg/identity`): login with that authenticator.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-authenticator-verify", |app, req| {
        Box::pin(frontegg::login_authenticator_verify(app, req))
    })
}
