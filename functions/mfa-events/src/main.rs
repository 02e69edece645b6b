//! `GET /mfa/events`: the audit trail, newest first, a page at a time.
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-events", |app, req| Box::pin(handlers::events(app, req)))
}
