//! Second-factor checks shared by setup verification and login: lockout first, then the
//! code, with every failure counted and every accepted one-time value recorded in the
//! same conditional write.

use crate::auth::{Principal, UserId};
use crate::crypto::Keyring;
use crate::envelope::ApiError;
use crate::methods::magic_link::{self, LinkToken, Purpose};
use crate::methods::totp;
use crate::model::{MethodState, MfaType, UserMfaRecord};
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

pub fn invalid_link() -> ApiError {
    ApiError::bad_request("INVALID_LINK", "This link is invalid, has expired or was already used; request a new one.")
}

/// Enables MAGIC_LINK for the user an activation token was sent to, consuming the token
/// in the same transaction. `expected_user` binds it to the caller (verify-setup).
/// Returns the address the method now sends to.
pub async fn activate_magic_link(app: &App, token: &str, expected_user: Option<&UserId>) -> Result<String, ApiError> {
    let now = app.clock.now();
    let hash = magic_link::hash_presented(token).ok_or_else(invalid_link)?;
    let item = app
        .store
        .get_token(&hash)
        .await?
        .filter(|t| t.is_valid_for(Purpose::Activate, now))
        .filter(|t| expected_user.is_none_or(|u| u.as_str() == t.user_id))
        .ok_or_else(invalid_link)?;
    app.store
        .update_user_with(
            &item.user_id,
            None,
            None,
            |record, _| {
                let had_primary = record.primary().is_some();
                record.magic_link_email = Some(item.email.clone());
                record.set_state(MfaType::MagicLink, MethodState::Enabled);
                if !had_primary {
                    record.primary_method = Some(MfaType::MagicLink);
                }
                Ok((item.email.clone(), vec![app.store.consume_token(&hash, Purpose::Activate, now)?]))
            },
            invalid_link,
        )
        .await
}

/// Checks a login link's token for `user` and consumes it with the record update; a
/// wrong, foreign, expired or spent token counts toward the lockout.
pub async fn magic_link_login(app: &App, user: &UserId, token: &str) -> Result<(), ApiError> {
    let now = app.clock.now();
    let hash = magic_link::hash_presented(token);
    let item = match &hash {
        Some(h) => app.store.get_token(h).await?,
        None => None,
    };
    app.store
        .update_user_with(
            user.as_str(),
            None,
            None,
            |record, _| {
                ensure_unlocked(record, now)?;
                if !record.state(MfaType::MagicLink).is_enabled() {
                    return Err(ApiError::conflict(
                        "METHOD_NOT_ENABLED",
                        "MAGIC_LINK is not enabled for this user; set it up with POST /mfa/setup first.",
                    ));
                }
                match (&hash, &item) {
                    (Some(h), Some(t)) if t.is_valid_for(Purpose::Login, now) && t.user_id == user.as_str() => {
                        record.record_success();
                        Ok(((), vec![app.store.consume_token(h, Purpose::Login, now)?]))
                    }
                    _ => Err(fail(record, now, invalid_link())),
                }
            },
            invalid_link,
        )
        .await
}

/// Mails a magic link: an activation link (setup; to `email` or the token's email) or a
/// login link (to the activated address). The mail goes out before anything is stored,
/// so when SES fails nothing is written and no usable token exists; the token is stored
/// (hashed) together with the send-limit record in one transaction.
pub async fn send_magic_link(
    app: &App,
    principal: &Principal,
    purpose: Purpose,
    email: Option<String>,
) -> Result<String, ApiError> {
    let mailer = app.mailer()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let (record, _) = app.store.load_user_and_policy(user, None).await?;
    let to = match purpose {
        Purpose::Login => {
            if !record.state(MfaType::MagicLink).is_enabled() {
                return Err(ApiError::conflict(
                    "METHOD_NOT_ENABLED",
                    "MAGIC_LINK is not enabled; set it up with POST /mfa/setup and the activation link first.",
                ));
            }
            record.magic_link_email.clone().or_else(|| principal.email.clone()).ok_or_else(|| {
                ApiError::conflict("NO_EMAIL", "There is no email address for magic links; set up MAGIC_LINK again.")
            })?
        }
        Purpose::Activate => {
            if record.state(MfaType::MagicLink).is_configured() {
                principal.require_step_up(record.has_mfa_enabled(), now)?;
            }
            let to = email.or_else(|| principal.email.clone()).map(|e| e.trim().to_string()).ok_or_else(|| {
                ApiError::bad_request("INVALID_FIELD", "Field `email` is required: your token carries no email address.")
            })?;
            if !magic_link::is_plausible_email(&to) {
                return Err(ApiError::bad_request("INVALID_FIELD", "Field `email` is not a valid email address."));
            }
            to
        }
    };
    let rate_limited = |wait: i64| {
        ApiError::too_many_requests(
            "RATE_LIMITED",
            format!("A link was sent recently; wait {wait} second(s) before asking for another."),
            wait as u64,
        )
    };
    if let Some(wait) = magic_link::send_wait(&record.magic_link_sends, now) {
        return Err(rate_limited(wait));
    }
    let (token, hash) = magic_link::new_token();
    let link = format!("{}&purpose={}", mailer.link(&token), purpose.as_str().to_lowercase());
    mailer.send(magic_link::mail(purpose, &to, &link)).await?;
    let stored = LinkToken {
        user_id: user.to_string(),
        purpose,
        email: to.clone(),
        created_at: now,
        expires_at: now + magic_link::TOKEN_LIFETIME,
    };
    app.store
        .update_user_with(
            user,
            None,
            Some(principal),
            |record, _| {
                if let Some(wait) = magic_link::send_wait(&record.magic_link_sends, now) {
                    return Err(rate_limited(wait));
                }
                magic_link::record_send(&mut record.magic_link_sends, now);
                if purpose == Purpose::Activate && record.state(MfaType::MagicLink) == MethodState::NotConfigured {
                    record.set_state(MfaType::MagicLink, MethodState::Pending);
                }
                Ok(((), vec![app.store.put_token(&hash, &stored)?]))
            },
            ApiError::internal,
        )
        .await?;
    Ok(to)
}
