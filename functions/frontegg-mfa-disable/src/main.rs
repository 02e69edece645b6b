//! `POST /resources/users/v1/mfa/disable` (and under `/frontegg/identity`): (legacy) turns MFA off with a code or recovery code.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-mfa-disable", |app, req| Box::pin(frontegg::disable(app, req)))
}
