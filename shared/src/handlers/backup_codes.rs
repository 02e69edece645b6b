//! `POST /mfa/backup-codes`: ten new backup codes (step-up).

use crate::auth::Principal;
use crate::crypto::ExposeSecret;
use crate::edge::{Answer, Call, Unused};
use crate::envelope;
use crate::methods::backup_codes;

/// Every old code is void; the new ones are shown this once.
pub async fn regenerate_backup_codes(Call { app, .. }: Call<'_>, principal: Principal, _: Unused) -> Answer {
    let codes = backup_codes::regenerate(app, &principal).await?;
    let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
    Ok(envelope::data(&serde_json::json!({ "backupCodes": codes })))
}
