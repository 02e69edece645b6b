//! `GET /resources/configurations/v1/mfa-policy/allow-remember-device` (and under `/frontegg/identity`): whether a login may remember its device.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-allow-remember-device", |call| {
        Box::pin(edge::run(call, frontegg::login::allow_remember_device))
    })
}
