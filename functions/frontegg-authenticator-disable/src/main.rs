//! `POST /resources/users/v1/mfa/authenticator/{deviceId}/disable/verify` (and under `/frontegg/identity`): removes that authenticator (proof in the request).
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-authenticator-disable", |call| {
        Box::pin(edge::run(call, frontegg::account::authenticator_disable))
    })
}
