//! `POST /mfa/enable`: switches a configured method back on.
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-enable", |call| Box::pin(edge::run(call, handlers::manage::enable)))
}
