//! Passkey ceremonies against the store: registration (setup → complete-registration) and
//! authentication (auth-options → the assertion check used by login). Every challenge
//! lives 5 minutes, is kept server-side and is finished at most once: the ceremony item is
//! consumed by a conditional delete in the same transaction as the record update.

use serde_json::{Value, json};
use webauthn_rs::prelude::{
    CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Uuid,
};

use crate::App;
use crate::auth::{Principal, UserId};
use crate::crypto::sha256_hex;
use crate::envelope::ApiError;
use crate::methods::passkey::{
    CEREMONY_LIFETIME, Ceremony, CeremonyKind, MAX_PASSKEYS, StoredPasskey, challenge_of, normalize_credential,
};
use crate::model::{MethodState, MfaType};
use crate::verify::{ensure_unlocked, fail};

fn ceremony_gone() -> ApiError {
    ApiError::bad_request(
        "CEREMONY_EXPIRED",
        "This passkey ceremony has expired or was already completed; start again.",
    )
}

fn invalid_credential(detail: impl std::fmt::Display) -> ApiError {
    tracing::info!(%detail, "passkey credential refused");
    ApiError::bad_request("INVALID_CREDENTIAL", "The passkey response could not be verified; try again with the same device.")
}

fn serialize<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "serialising WebAuthn state failed");
        ApiError::internal()
    })
}

fn too_many() -> ApiError {
    ApiError::conflict("PASSKEY_LIMIT", format!("You already have {MAX_PASSKEYS} passkeys; remove one with POST /mfa/reset first."))
}

/// Stores a ceremony's state under the hash of its challenge; returns the options as
/// JSON and the challenge (base64url), for the client.
async fn begin<O: serde::Serialize, S: serde::Serialize>(
    app: &App,
    user: &str,
    kind: CeremonyKind,
    options: &O,
    state: &S,
    name: Option<String>,
    now: i64,
) -> Result<(Value, String), ApiError> {
    let public_key = serde_json::to_value(options).map_err(|_| ApiError::internal())?;
    let challenge = public_key["challenge"].as_str().unwrap_or_default().to_string();
    let ceremony =
        Ceremony { user_id: user.to_string(), kind, state: serialize(state)?, name, expires_at: now + CEREMONY_LIFETIME };
    app.store.put_ceremony(&sha256_hex(challenge.as_bytes()), &ceremony).await?;
    Ok((public_key, challenge))
}

/// `POST /mfa/setup` for PASSKEY: creation options (existing credentials excluded) and the
/// registration state stored under the challenge. Adding a passkey while MFA is enabled
/// needs step-up.
pub async fn start_registration(app: &App, principal: &Principal, name: Option<String>) -> Result<Value, ApiError> {
    let (webauthn, rp) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let (record, _) = app.store.load_user_and_policy(user, None).await?;
    principal.require_step_up(record.has_mfa_enabled(), now)?;
    if record.passkeys.len() >= MAX_PASSKEYS {
        return Err(too_many());
    }
    let handle = record
        .webauthn_user_id
        .as_deref()
        .and_then(|h| Uuid::parse_str(h).ok())
        .unwrap_or_else(|| Uuid::from_bytes(crate::crypto::random_bytes::<16>()));
    let user_name = principal.email.clone().unwrap_or_else(|| user.to_string());
    let exclude: Vec<CredentialID> = record
        .passkeys
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (options, state) = webauthn
        .start_passkey_registration(handle, &user_name, &user_name, Some(exclude))
        .map_err(|e| {
            tracing::error!(error = %e, "starting a passkey registration failed");
            ApiError::internal()
        })?;
    let handle_text = handle.to_string();
    app.store
        .update_user_with(
            user,
            None,
            Some(principal),
            |record, _| {
                record.webauthn_user_id.get_or_insert_with(|| handle_text.clone());
                if record.state(MfaType::Passkey) == MethodState::NotConfigured {
                    record.set_state(MfaType::Passkey, MethodState::Pending);
                }
                Ok(((), Vec::new()))
            },
            ApiError::internal,
        )
        .await?;
    let name = name.filter(|n| !n.trim().is_empty()).map(|n| n.trim().chars().take(64).collect());
    let (public_key, challenge) = begin(app, user, CeremonyKind::Registration, &options.public_key, &state, name, now).await?;
    Ok(json!({
        "challenge": challenge,
        "rpName": rp.name,
        "rpID": rp.id,
        "origin": rp.origin,
        "userName": user_name,
        "userId": public_key["user"]["id"],
        "publicKey": public_key,
    }))
}

/// `POST /mfa/passkey/complete-registration`: verifies the attestation against the
/// stored state and keeps the credential; PASSKEY is enabled (and primary when none is).
/// Returns the new passkey's name.
pub async fn finish_registration(app: &App, principal: &Principal, credential: Value, challenge: &str) -> Result<String, ApiError> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let challenge_hash = sha256_hex(challenge.trim_end_matches('=').as_bytes());
    let ceremony = app
        .store
        .get_ceremony(user, &challenge_hash)
        .await?
        .filter(|c| c.kind == CeremonyKind::Registration && now < c.expires_at)
        .ok_or_else(ceremony_gone)?;
    let credential: RegisterPublicKeyCredential = serde_json::from_value(normalize_credential(credential))
        .map_err(|e| ApiError::bad_request("INVALID_FIELD", format!("Field `credential` is not a WebAuthn registration response: {e}.")))?;
    let state: PasskeyRegistration = serde_json::from_str(&ceremony.state).map_err(|_| ApiError::internal())?;
    let passkey = match webauthn.finish_passkey_registration(&credential, &state) {
        Ok(p) => p,
        Err(e) => {
            app.store.delete_ceremony(user, &challenge_hash).await?;
            return Err(invalid_credential(e));
        }
    };
    let id = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, passkey.cred_id().as_slice());
    let serialized = serialize(&passkey)?;
    app.store
        .update_user_with(
            user,
            None,
            Some(principal),
            |record, _| {
                principal.require_step_up(record.has_mfa_enabled(), now)?;
                if record.passkeys.len() >= MAX_PASSKEYS {
                    return Err(too_many());
                }
                if record.passkeys.iter().any(|p| p.id == id) {
                    return Err(ApiError::conflict("PASSKEY_EXISTS", "This passkey is already registered."));
                }
                let had_primary = record.primary().is_some();
                let name = ceremony.name.clone().unwrap_or_else(|| format!("Passkey {}", record.passkeys.len() + 1));
                record.passkeys.push(StoredPasskey {
                    id: id.clone(),
                    name: name.clone(),
                    created_at: now,
                    last_used_at: None,
                    counter: 0,
                    passkey: serialized.clone(),
                });
                record.set_state(MfaType::Passkey, MethodState::Enabled);
                if !had_primary {
                    record.primary_method = Some(MfaType::Passkey);
                }
                let consume = app.store.consume_ceremony(user, &challenge_hash, CeremonyKind::Registration, now)?;
                Ok((name, vec![consume]))
            },
            ceremony_gone,
        )
        .await
}

/// `POST /mfa/passkey/auth-options`: request options for the user's passkeys.
pub async fn start_authentication(app: &App, user: &UserId) -> Result<Value, ApiError> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let (record, _) = app.store.load_user_and_policy(user.as_str(), None).await?;
    let passkeys: Vec<Passkey> = record.passkeys.iter().filter_map(|p| serde_json::from_str(&p.passkey).ok()).collect();
    if !record.state(MfaType::Passkey).is_enabled() || passkeys.is_empty() {
        return Err(ApiError::conflict("METHOD_NOT_ENABLED", "PASSKEY is not enabled; register a passkey with POST /mfa/setup first."));
    }
    let (options, state) = webauthn.start_passkey_authentication(&passkeys).map_err(|e| {
        tracing::error!(error = %e, "starting a passkey authentication failed");
        ApiError::internal()
    })?;
    let (public_key, challenge) =
        begin(app, user.as_str(), CeremonyKind::Authentication, &options.public_key, &state, None, now).await?;
    Ok(json!({
        "challenge": challenge,
        "rpId": public_key["rpId"],
        "userVerification": public_key["userVerification"],
        "timeout": public_key["timeout"],
        "allowCredentials": public_key["allowCredentials"],
        "publicKey": public_key,
    }))
}

/// The assertion check of a login: verifies `credential` against the ceremony its
/// challenge names, updates the passkey's counter and last use, and consumes the
/// ceremony, all in one transaction. Failures count toward the lockout.
pub async fn verify_assertion(app: &App, user: &UserId, credential: Value) -> Result<(), ApiError> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let credential = normalize_credential(credential);
    let challenge_hash = challenge_of(&credential).map(|c| sha256_hex(c.as_bytes()));
    let ceremony = match &challenge_hash {
        Some(h) => app.store.get_ceremony(user.as_str(), h).await?,
        None => None,
    }
    .filter(|c| c.kind == CeremonyKind::Authentication && now < c.expires_at);
    let parsed: Option<PublicKeyCredential> = serde_json::from_value(credential).ok();
    let outcome = match (&ceremony, &parsed) {
        (Some(c), Some(cred)) => {
            let state: PasskeyAuthentication = serde_json::from_str(&c.state).map_err(|_| ApiError::internal())?;
            webauthn.finish_passkey_authentication(cred, &state).map_err(|e| e.to_string())
        }
        (None, _) => Err("no live ceremony for this challenge".to_string()),
        (_, None) => Err("not an assertion".to_string()),
    };
    let refusal = || match &ceremony {
        None => ceremony_gone(),
        Some(_) => ApiError::bad_request("INVALID_CREDENTIAL", "The passkey response could not be verified; try again."),
    };
    app.store
        .update_user_with(
            user.as_str(),
            None,
            None,
            |record, _| {
                ensure_unlocked(record, now)?;
                let result = match &outcome {
                    Ok(r) => r,
                    Err(detail) => {
                        tracing::info!(%detail, "passkey assertion refused");
                        return Err(fail(record, now, refusal()));
                    }
                };
                let id = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, result.cred_id().as_slice());
                let Some(stored) = record.passkeys.iter_mut().find(|p| p.id == id) else {
                    return Err(fail(record, now, refusal()));
                };
                if let Ok(mut passkey) = serde_json::from_str::<Passkey>(&stored.passkey) {
                    passkey.update_credential(result);
                    stored.passkey = serialize(&passkey)?;
                }
                stored.counter = result.counter();
                stored.last_used_at = Some(now);
                record.record_success();
                let hash = challenge_hash.clone().unwrap_or_default();
                Ok(((), vec![app.store.consume_ceremony(user.as_str(), &hash, CeremonyKind::Authentication, now)?]))
            },
            ceremony_gone,
        )
        .await
}
