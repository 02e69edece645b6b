//! `POST /mfa/magic-link/send`: mails a login link.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-magic-link-send", |app, req| Box::pin(handlers::magic_link_send(app, req)))
}
