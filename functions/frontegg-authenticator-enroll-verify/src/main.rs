//! `POST /resources/users/v1/mfa/authenticator/enroll/verify` (and under `/frontegg/identity`): completes the authenticator.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-authenticator-enroll-verify", |app, req| {
        Box::pin(frontegg::authenticator_enroll_verify(app, req))
    })
}
