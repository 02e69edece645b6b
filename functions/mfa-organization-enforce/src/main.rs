//! `POST /mfa/organization/enforce`: turns organization-wide MFA on or off.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-organization-enforce", |call| Box::pin(edge::run(call, handlers::organization::enforce)))
}
