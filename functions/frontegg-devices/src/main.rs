//! `GET /resources/users/v1/mfa/devices` (and under `/frontegg/identity`): the user's factors as its client lists them.
#![recursion_limit = "256"]
use mfa_shared::{edge, frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-devices", |call| Box::pin(edge::run(call, frontegg::account::devices)))
}
