//! `POST /resources/auth/v1/user/mfa/verify` (and under `/frontegg/identity`): login with a code of any authenticator.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-verify", |app, req| Box::pin(frontegg::login_verify(app, req)))
}
