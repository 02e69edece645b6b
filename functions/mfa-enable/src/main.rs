//! `POST /mfa/enable`: switches a configured method back on.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-enable", |call| Box::pin(edge::run(call, handlers::manage::enable)))
}
