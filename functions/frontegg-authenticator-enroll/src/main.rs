//! `POST /resources/users/v1/mfa/authenticator/enroll` (and under `/frontegg/identity`): begins an authenticator.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-authenticator-enroll", |app, req| Box::pin(frontegg::authenticator_enroll(app, req)))
}
