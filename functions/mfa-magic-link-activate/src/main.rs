//! `POST /mfa/magic-link/activate`: enables MAGIC_LINK with the mailed token.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-magic-link-activate", |app, req| Box::pin(handlers::magic_link_activate(app, req)))
}
