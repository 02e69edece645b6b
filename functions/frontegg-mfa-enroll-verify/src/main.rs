//! `POST /resources/users/v1/mfa/enroll/verify` (and under `/frontegg/identity`): (legacy) completes it.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-mfa-enroll-verify", |app, req| Box::pin(frontegg::authenticator_enroll_verify(app, req)))
}
