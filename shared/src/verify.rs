//! Second-factor checks of authenticator codes and magic links, shared by setup
//! verification and login, and the magic-link mails. Every check runs inside the record's
//! conditional write (through [`lockout::attempt`] or the store), so a one-time value is
//! accepted once and the step-up policy is decided on the state the write replaces.

use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::App;
use crate::auth::Principal;
use crate::crypto::Keyring;
use crate::envelope::ApiError;
use crate::lockout::{self, Failure};
use crate::methods::magic_link::{self, LinkToken, Purpose};
use crate::methods::totp;
use crate::model::{MfaType, UserMfaRecord};
use crate::notify;
use crate::policy::{Action, Actor, Change};

pub fn invalid_code() -> ApiError {
    ApiError::bad_request("INVALID_CODE", "The code is wrong or has expired; enter the current code from your authenticator app.")
}

pub fn not_enabled(method: MfaType) -> ApiError {
    ApiError::conflict(
        "METHOD_NOT_ENABLED",
        format!("{} is not enabled for this user; set it up with POST /mfa/setup first.", method.as_str()),
    )
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
/// the step is never accepted again (login). A wrong or reused code counts as a failure.
pub fn check_totp(record: &mut UserMfaRecord, keyring: &Keyring, code: &str, now: i64) -> Result<(), Failure> {
    let sealed = match (&record.totp.active, record.state(MfaType::GoogleAuth).is_enabled()) {
        (Some(s), true) => s.clone(),
        _ => return Err(not_enabled(MfaType::GoogleAuth).into()),
    };
    let secret = open_secret(keyring, &record.user_id, &sealed)?;
    match totp::matching_step(&secret, code, now) {
        Some(step) if record.totp.last_step.is_none_or(|last| step > last) => {
            record.totp.last_step = Some(step);
            Ok(())
        }
        Some(_) => Err(Failure::Counted(ApiError::bad_request(
            "CODE_ALREADY_USED",
            "This code was already used; wait for the next code from your authenticator app.",
        ))),
        None => Err(Failure::Counted(invalid_code())),
    }
}

/// Verifies an authenticator code of the caller with one read and one conditional write,
/// with no session issued (the code is only checked). Of concurrent requests with the
/// same valid code, exactly one succeeds.
pub async fn totp_code(app: &App, principal: &Principal, code: &str) -> Result<(), ApiError> {
    let keyring = app.keyring()?;
    let now = app.clock.now();
    let change = Change::by_user(Action::Verify, principal, now);
    lockout::attempt(
        app,
        principal.user_id.as_str(),
        change,
        |record| check_totp(record, keyring, code, now).map(|()| ((), Vec::new())),
        ApiError::internal,
    )
    .await
}

fn setup_not_pending() -> ApiError {
    ApiError::conflict(
        "SETUP_NOT_PENDING",
        "There is no authenticator setup waiting for verification; start one with POST /mfa/setup.",
    )
}

/// Activates the pending authenticator secret if `code` comes from it: the verified
/// secret, the backup codes issued with it, and the method on.
pub fn activate_pending_totp(record: &mut UserMfaRecord, keyring: &Keyring, code: &str, now: i64) -> Result<(), Failure> {
    let Some(sealed) = record.totp.pending.clone() else {
        return Err(setup_not_pending().into());
    };
    let secret = open_secret(keyring, &record.user_id, &sealed)?;
    let Some(step) = totp::matching_step(&secret, code, now) else {
        return Err(Failure::Counted(invalid_code()));
    };
    if !record.complete_setup(MfaType::GoogleAuth, None) {
        return Err(setup_not_pending().into());
    }
    record.totp.active = Some(sealed);
    record.totp.pending = None;
    record.totp.last_step = Some(step);
    record.backup_codes = std::mem::take(&mut record.pending_backup_codes);
    Ok(())
}

pub fn invalid_link() -> ApiError {
    ApiError::bad_request("INVALID_LINK", "This link is invalid, has expired or was already used; request a new one.")
}

/// Enables MAGIC_LINK for the user an activation token was sent to, consuming the token
/// in the same transaction. `actor` is the caller of verify-setup (bound to the token's
/// user) or, for `magic-link/activate`, whoever holds the link. Only the link of the
/// latest setup works, and only while the setup is still authorized (see the policy).
/// Returns the addresses to tell: the user's before the change, and the new one.
pub async fn activate_magic_link(app: &App, token: &str, actor: Actor<'_>) -> Result<Vec<String>, ApiError> {
    let now = app.clock.now();
    let hash = magic_link::hash_presented(token).ok_or_else(invalid_link)?;
    let item = app
        .store
        .get_token(&hash)
        .await?
        .filter(|t| t.is_valid_for(Purpose::Activate, now))
        .filter(|t| match actor {
            Actor::User(p) => p.user_id.as_str() == t.user_id,
            Actor::Admin(_) => false,
            Actor::LinkHolder => true,
        })
        .ok_or_else(invalid_link)?;
    let change = Change::completing(MfaType::MagicLink, actor, now);
    app.store
        .update_user_with(
            &item.user_id,
            None,
            &change,
            |record, _| {
                let mut to = notify::recipients(record, change.actor.user_email());
                if !record.complete_setup(MfaType::MagicLink, Some(&hash)) {
                    return Err(invalid_link());
                }
                if !to.iter().any(|t| t.eq_ignore_ascii_case(&item.email)) {
                    to.push(item.email.clone());
                }
                record.magic_link_email = Some(item.email.clone());
                Ok((to, vec![app.store.consume_token(&hash, Purpose::Activate, now)?]))
            },
            invalid_link,
        )
        .await
}

/// Reads the login token presented by the caller (one read); the check itself runs in the
/// record's write ([`check_magic_link`]).
pub async fn find_login_link(app: &App, token: &str) -> Result<Option<(String, LinkToken)>, ApiError> {
    let Some(hash) = magic_link::hash_presented(token) else { return Ok(None) };
    Ok(app.store.get_token(&hash).await?.map(|item| (hash, item)))
}

/// Checks a login link's token for the record's user and returns the write that consumes
/// it; a wrong, foreign, expired or spent token counts as a failure.
pub fn check_magic_link(
    app: &App,
    record: &UserMfaRecord,
    found: &Option<(String, LinkToken)>,
    now: i64,
) -> Result<Vec<TransactWriteItem>, Failure> {
    if !record.state(MfaType::MagicLink).is_enabled() {
        return Err(not_enabled(MfaType::MagicLink).into());
    }
    match found {
        Some((hash, t)) if t.is_valid_for(Purpose::Login, now) && t.user_id == record.user_id => {
            Ok(vec![app.store.consume_token(hash, Purpose::Login, now)?])
        }
        _ => Err(Failure::Counted(invalid_link())),
    }
}

/// Checks a login link of the caller, with no session issued (the link is only spent).
pub async fn magic_link_login(app: &App, principal: &Principal, token: &str) -> Result<(), ApiError> {
    let now = app.clock.now();
    let found = find_login_link(app, token).await?;
    let change = Change::by_user(Action::Verify, principal, now);
    lockout::attempt(
        app,
        principal.user_id.as_str(),
        change,
        |record| check_magic_link(app, record, &found, now).map(|w| ((), w)),
        invalid_link,
    )
    .await
}

/// Mails a magic link: an activation link (setup; to `email` or the token's email) or a
/// login link (to the activated address). The send-limit slot and the hashed token are
/// stored in one conditional write *before* the mail goes out, so concurrent sends never
/// exceed the limit; a token whose mail failed is removed, and was never usable anyway
/// (only its hash is stored). A failed send still counts toward the limit.
pub async fn send_magic_link(
    app: &App,
    principal: &Principal,
    purpose: Purpose,
    email: Option<String>,
) -> Result<String, ApiError> {
    let mailer = app.mailer()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let requested = match purpose {
        Purpose::Login => None,
        Purpose::Activate => {
            let to = email.or_else(|| principal.email.clone()).map(|e| e.trim().to_string()).ok_or_else(|| {
                ApiError::bad_request("INVALID_FIELD", "Field `email` is required: your token carries no email address.")
            })?;
            if !magic_link::is_plausible_email(&to) {
                return Err(ApiError::bad_request("INVALID_FIELD", "Field `email` is not a valid email address."));
            }
            Some(to)
        }
    };
    let action = match purpose {
        Purpose::Activate => Action::StartSetup,
        Purpose::Login => Action::Verify,
    };
    let change = Change::by_user(action, principal, now);
    let (token, hash) = magic_link::new_token();
    let to = app
        .store
        .update_user_with(
            user,
            None,
            &change,
            |record, _| {
                let to = match &requested {
                    Some(to) => to.clone(),
                    None => {
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
                };
                if let Some(wait) = magic_link::send_wait(&record.magic_link_sends, now) {
                    return Err(ApiError::too_many_requests(
                        "RATE_LIMITED",
                        format!("A link was sent recently; wait {wait} second(s) before asking for another."),
                        wait as u64,
                    ));
                }
                magic_link::record_send(&mut record.magic_link_sends, now);
                if purpose == Purpose::Activate {
                    record.begin_setup(MfaType::MagicLink, change.has_fresh_factor(), Some(hash.clone()), now);
                }
                let stored = LinkToken {
                    user_id: user.to_string(),
                    purpose,
                    email: to.clone(),
                    created_at: now,
                    expires_at: now + magic_link::TOKEN_LIFETIME,
                };
                Ok((to, vec![app.store.put_token(&hash, &stored)?]))
            },
            ApiError::internal,
        )
        .await?;
    let link = format!("{}&purpose={}", mailer.link(&token), purpose.as_str().to_lowercase());
    if let Err(e) = mailer.send(magic_link::mail(purpose, &to, &link)).await {
        if let Err(cleanup) = app.store.delete_token(&hash).await {
            tracing::warn!(error = %cleanup, "an undelivered link token could not be removed; it expires unused");
        }
        return Err(e.into());
    }
    Ok(to)
}
