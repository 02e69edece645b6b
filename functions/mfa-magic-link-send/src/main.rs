//! `POST /mfa/magic-link/send`: mails a login link.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-magic-link-send", |call| Box::pin(edge::run(call, handlers::magic_link::send)))
}
