//! `POST /resources/auth/v1/user/mfa/emailcode` (and under `/frontegg/identity`): mails a login code.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-login-emailcode-send", |app, req| Box::pin(frontegg::login_emailcode_send(app, req)))
}
