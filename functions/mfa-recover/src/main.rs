//! `POST /mfa/recover`: logs in with a backup code.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-recover", |call| Box::pin(edge::run(call, handlers::login::recover)))
}
