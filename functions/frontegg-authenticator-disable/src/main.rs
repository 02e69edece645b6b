//! `POST /resources/users/v1/mfa/authenticator/{deviceId}/disable/verify` (and under `/frontegg/identity`): removes that authenticator (proof in the request).
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-authenticator-disable", |app, req| Box::pin(frontegg::authenticator_disable(app, req)))
}
