//! `GET /mfa/events`: the audit trail, newest first, a page at a time.
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-events", |call| Box::pin(edge::run(call, handlers::events::list)))
}
