//! `POST /resources/users/v1/mfa/enroll` (and under `/frontegg/identity`): (legacy) begins an authenticator.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-mfa-enroll", |app, req| Box::pin(frontegg::authenticator_enroll(app, req)))
}
