//! `POST /mfa/magic-link/activate`: enables MAGIC_LINK with the mailed token.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-magic-link-activate", |call| Box::pin(edge::run(call, handlers::magic_link::activate)))
}
