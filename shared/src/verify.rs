//! Second-factor checks shared by setup verification and login: lockout first, then the
//! code, with every failure counted and every accepted one-time value recorded in the
//! same conditional write.

use crate::auth::UserId;
use crate::crypto::Keyring;
use crate::envelope::ApiError;
use crate::methods::totp;
use crate::model::{MfaType, UserMfaRecord};
use crate::App;

/// 429 while verification is locked.
pub fn ensure_unlocked(record: &UserMfaRecord, now: i64) -> Result<(), ApiError> {
    match record.lock_remaining(now) {
        Some(seconds) => Err(locked(seconds)),
        None => Ok(()),
    }
}

fn locked(seconds: i64) -> ApiError {
    let minutes = (seconds + 59) / 60;
    ApiError::too_many_requests(
        "TOO_MANY_ATTEMPTS",
        format!("Too many failed verification attempts; try again in {minutes} minute(s)."),
        seconds as u64,
    )
}

/// Counts a failure and answers `refusal`, or 429 if this failure set the lock.
pub fn fail(record: &mut UserMfaRecord, now: i64, refusal: ApiError) -> ApiError {
    match record.record_failure(now) {
        Some(seconds) => locked(seconds),
        None => refusal,
    }
}

pub fn invalid_code() -> ApiError {
    ApiError::bad_request("INVALID_CODE", "The code is wrong or has expired; enter the current code from your authenticator app.")
}

fn secret_context(user_id: &str) -> String {
    format!("{user_id}/totp")
}

pub fn seal_totp_secret(keyring: &Keyring, user_id: &str, raw: &[u8]) -> crate::crypto::Sealed {
    keyring.seal(raw, &secret_context(user_id))
}

fn open_secret(keyring: &Keyring, user_id: &str, sealed: &crate::crypto::Sealed) -> Result<Vec<u8>, ApiError> {
    keyring.open(sealed, &secret_context(user_id)).map_err(|e| {
        tracing::error!(error = %e, "a stored authenticator secret does not decrypt");
        ApiError::internal()
    })
}

/// Checks `code` against the enabled authenticator secret and records its time step, so
/// the step is never accepted again. Used by login; changes `record` on failure too.
pub fn totp_in_record(record: &mut UserMfaRecord, keyring: &Keyring, code: &str, now: i64) -> Result<(), ApiError> {
    ensure_unlocked(record, now)?;
    let sealed = match (&record.totp.active, record.state(MfaType::GoogleAuth).is_enabled()) {
        (Some(s), true) => s.clone(),
        _ => {
            return Err(ApiError::conflict(
                "METHOD_NOT_ENABLED",
                "GOOGLE_AUTH is not enabled for this user; set it up with POST /mfa/setup first.",
            ));
        }
    };
    let secret = open_secret(keyring, &record.user_id, &sealed)?;
    match totp::matching_step(&secret, code, now) {
        Some(step) if record.totp.last_step.is_none_or(|last| step > last) => {
            record.totp.last_step = Some(step);
            record.record_success();
            Ok(())
        }
        Some(_) => Err(fail(
            record,
            now,
            ApiError::bad_request("CODE_ALREADY_USED", "This code was already used; wait for the next code from your authenticator app."),
        )),
        None => Err(fail(record, now, invalid_code())),
    }
}

/// Verifies an authenticator code for `user` with one read and one conditional write.
/// Of concurrent requests with the same valid code, exactly one succeeds.
pub async fn totp_code(app: &App, user: &UserId, code: &str) -> Result<(), ApiError> {
    let keyring = app.keyring()?;
    let now = app.clock.now();
    app.store.update_user(user.as_str(), None, None, |record, _| totp_in_record(record, keyring, code, now)).await
}

/// Activates the pending authenticator secret if `code` comes from it.
pub fn activate_pending_totp(record: &mut UserMfaRecord, keyring: &Keyring, code: &str, now: i64) -> Result<(), ApiError> {
    ensure_unlocked(record, now)?;
    let Some(sealed) = record.totp.pending.clone() else {
        return Err(ApiError::conflict(
            "SETUP_NOT_PENDING",
            "There is no authenticator setup waiting for verification; start one with POST /mfa/setup.",
        ));
    };
    let secret = open_secret(keyring, &record.user_id, &sealed)?;
    let Some(step) = totp::matching_step(&secret, code, now) else {
        return Err(fail(record, now, invalid_code()));
    };
    let had_primary = record.primary().is_some();
    record.totp.active = Some(sealed);
    record.totp.pending = None;
    record.totp.last_step = Some(step);
    record.backup_codes = std::mem::take(&mut record.pending_backup_codes);
    record.set_state(MfaType::GoogleAuth, crate::model::MethodState::Enabled);
    if !had_primary {
        record.primary_method = Some(MfaType::GoogleAuth);
    }
    record.record_success();
    Ok(())
}
