//! `POST /mfa/backup-codes`: ten new backup codes (step-up).
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-backup-codes", |app, req| Box::pin(handlers::regenerate_backup_codes(app, req)))
}
