//! `POST /mfa/primary`: chooses the primary method.
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-primary", |call| Box::pin(edge::run(call, handlers::manage::primary)))
}
