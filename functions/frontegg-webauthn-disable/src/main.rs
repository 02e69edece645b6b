//! `POST /resources/users/v1/mfa/webauthn/{deviceId}/disable/verify` (and under `/frontegg/identity`): removes that passkey (proof in the request).
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-webauthn-disable", |call| Box::pin(edge::run(call, frontegg::account::webauthn_disable)))
}
