//! `GET /resources/users/v1/mfa/devices` (and under `/frontegg/identity`): the user's factors as its client lists them.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-devices", |app, req| Box::pin(frontegg::devices(app, req)))
}
