//! `POST /resources/auth/v1/user/mfa/recover` (and under `/frontegg/identity`): a recovery code resets the user's MFA.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-recover", |app, req| Box::pin(frontegg::login_recover(app, req)))
}
