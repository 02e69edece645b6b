//! `POST /mfa/backup-codes`: ten new backup codes (step-up).
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-backup-codes", |call| {
        Box::pin(edge::run(call, handlers::backup_codes::regenerate_backup_codes))
    })
}
