//! `POST /mfa/recover`: logs in with a backup code.
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-recover", |call| Box::pin(edge::run(call, handlers::login::recover)))
}
