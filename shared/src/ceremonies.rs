//! Passkey ceremonies against the store: registration (setup → complete-registration) and
//! authentication (auth-options → the assertion check used by login). Every challenge
//! lives 5 minutes, is kept server-side and is finished at most once: the ceremony item is
//! stored, and consumed by a conditional delete, in the same transaction as the record
//! update that opens or closes it.

use serde_json::{Value, json};
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid,
};

use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::App;
use crate::auth::Principal;
use crate::crypto::sha256_hex;
use crate::envelope::ApiError;
use crate::lockout::Failure;
use crate::methods::passkey::{
    CEREMONY_LIFETIME, Ceremony, CeremonyKind, MAX_PASSKEYS, StoredPasskey, challenge_of, normalize_credential,
};
use crate::model::{MfaType, UserMfaRecord};
use crate::notify;
use crate::policy::{Action, Actor, Change};
use crate::verify::not_enabled;

pub fn ceremony_gone() -> ApiError {
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

/// A new ceremony's item: its state under the hash of its challenge. Returns the options
/// as JSON, the challenge (base64url) and the hash.
fn ceremony<O: serde::Serialize, S: serde::Serialize>(
    user: &str,
    kind: CeremonyKind,
    options: &O,
    state: &S,
    name: Option<String>,
    now: i64,
) -> Result<(Value, String, String, Ceremony), ApiError> {
    let public_key = serde_json::to_value(options).map_err(|_| ApiError::internal())?;
    let challenge = public_key["challenge"].as_str().unwrap_or_default().to_string();
    let hash = sha256_hex(challenge.as_bytes());
    let ceremony =
        Ceremony { user_id: user.to_string(), kind, state: serialize(state)?, name, expires_at: now + CEREMONY_LIFETIME };
    Ok((public_key, challenge, hash, ceremony))
}

/// `POST /mfa/setup` for PASSKEY: creation options (existing credentials excluded), with
/// the registration state stored under the challenge in the same write that records the
/// pending setup (one read, one write).
pub async fn start_registration(app: &App, principal: &Principal, name: Option<String>) -> Result<Value, ApiError> {
    let (webauthn, rp) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let user_name = principal.email.clone().unwrap_or_else(|| user.to_string());
    let name: Option<String> = name.filter(|n| !n.trim().is_empty()).map(|n| n.trim().chars().take(64).collect());
    let change = Change::by_user(Action::StartSetup, principal, now);
    let (public_key, challenge) = app
        .store
        .update_user_with(
            user,
            None,
            &change,
            |record, _| {
                if record.passkeys.len() >= MAX_PASSKEYS {
                    return Err(too_many());
                }
                let handle = record
                    .webauthn_user_id
                    .as_deref()
                    .and_then(|h| Uuid::parse_str(h).ok())
                    .unwrap_or_else(|| Uuid::from_bytes(crate::crypto::random_bytes::<16>()));
                record.webauthn_user_id = Some(handle.to_string());
                let exclude: Vec<CredentialID> = record
                    .passkeys
                    .iter()
                    .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
                    .map(|p| p.cred_id().clone())
                    .collect();
                let (options, state) =
                    webauthn.start_passkey_registration(handle, &user_name, &user_name, Some(exclude)).map_err(|e| {
                        tracing::error!(error = %e, "starting a passkey registration failed");
                        ApiError::internal()
                    })?;
                let (public_key, challenge, hash, item) =
                    ceremony(user, CeremonyKind::Registration, &options.public_key, &state, name.clone(), now)?;
                record.begin_setup(MfaType::Passkey, change.has_fresh_factor(), Some(hash.clone()), now);
                Ok(((public_key, challenge), vec![app.store.put_ceremony(&hash, &item)?]))
            },
            ApiError::internal,
        )
        .await?;
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
/// Only the ceremony of the latest setup completes, and only while that setup is still
/// authorized (see the policy). Returns the new passkey's name and the addresses to tell.
pub async fn finish_registration(
    app: &App,
    principal: &Principal,
    credential: Value,
    challenge: &str,
) -> Result<(String, Vec<String>), ApiError> {
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
    let change = Change::completing(MfaType::Passkey, Actor::User(principal), now);
    app.store
        .update_user_with(
            user,
            None,
            &change,
            |record, _| {
                if record.passkeys.len() >= MAX_PASSKEYS {
                    return Err(too_many());
                }
                if record.passkeys.iter().any(|p| p.id == id) {
                    return Err(ApiError::conflict("PASSKEY_EXISTS", "This passkey is already registered."));
                }
                let to = notify::recipients(record, principal.email.as_deref());
                if !record.complete_setup(MfaType::Passkey, Some(&challenge_hash)) {
                    return Err(ceremony_gone());
                }
                let name = ceremony.name.clone().unwrap_or_else(|| format!("Passkey {}", record.passkeys.len() + 1));
                record.passkeys.push(StoredPasskey {
                    id: id.clone(),
                    name: name.clone(),
                    created_at: now,
                    last_used_at: None,
                    counter: 0,
                    passkey: serialized.clone(),
                });
                let consume = app.store.consume_ceremony(user, &challenge_hash, CeremonyKind::Registration, now)?;
                Ok(((name, to), vec![consume]))
            },
            ceremony_gone,
        )
        .await
}

/// `POST /mfa/passkey/auth-options`: request options for the user's passkeys.
pub async fn start_authentication(app: &App, principal: &Principal) -> Result<Value, ApiError> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let (record, _) = app.store.load_user_and_policy(user, None).await?;
    let passkeys: Vec<Passkey> = record.passkeys.iter().filter_map(|p| serde_json::from_str(&p.passkey).ok()).collect();
    if !record.state(MfaType::Passkey).is_enabled() || passkeys.is_empty() {
        return Err(ApiError::conflict("METHOD_NOT_ENABLED", "PASSKEY is not enabled; register a passkey with POST /mfa/setup first."));
    }
    let (options, state) = webauthn.start_passkey_authentication(&passkeys).map_err(|e| {
        tracing::error!(error = %e, "starting a passkey authentication failed");
        ApiError::internal()
    })?;
    let (public_key, challenge, hash, item) =
        ceremony(user, CeremonyKind::Authentication, &options.public_key, &state, None, now)?;
    app.store.create_ceremony(&hash, &item).await?;
    Ok(json!({
        "challenge": challenge,
        "rpId": public_key["rpId"],
        "userVerification": public_key["userVerification"],
        "timeout": public_key["timeout"],
        "allowCredentials": public_key["allowCredentials"],
        "publicKey": public_key,
    }))
}

/// An assertion checked against its ceremony (before the record is touched): the
/// challenge hash, and the verified result or why it failed.
pub struct CheckedAssertion {
    challenge_hash: Option<String>,
    ceremony_found: bool,
    outcome: Result<AuthenticationResult, String>,
}

/// Verifies `credential` against the ceremony its challenge names (one read): the
/// signature, origin, RP ID and challenge. Whether it is accepted is decided in the
/// record's write ([`check_assertion`]).
pub async fn read_assertion(app: &App, principal: &Principal, credential: Value) -> Result<CheckedAssertion, ApiError> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let credential = normalize_credential(credential);
    let challenge_hash = challenge_of(&credential).map(|c| sha256_hex(c.as_bytes()));
    let ceremony = match &challenge_hash {
        Some(h) => app.store.get_ceremony(principal.user_id.as_str(), h).await?,
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
    Ok(CheckedAssertion { challenge_hash, ceremony_found: ceremony.is_some(), outcome })
}

/// The assertion check of a login, in the record's conditional write: PASSKEY must still
/// be enabled and the credential still registered, and the signature counter must have
/// moved past the stored one (an assertion signed before one that already passed comes
/// from a cloned authenticator or a replay). Updates the counter and last use, and
/// returns the write that consumes the ceremony. Failures count toward the lockout.
pub fn check_assertion(
    app: &App,
    record: &mut UserMfaRecord,
    checked: &CheckedAssertion,
    now: i64,
) -> Result<Vec<TransactWriteItem>, Failure> {
    if !record.state(MfaType::Passkey).is_enabled() {
        return Err(not_enabled(MfaType::Passkey).into());
    }
    let refusal = || match checked.ceremony_found {
        false => ceremony_gone(),
        true => ApiError::bad_request("INVALID_CREDENTIAL", "The passkey response could not be verified; try again."),
    };
    let result = match &checked.outcome {
        Ok(r) => r,
        Err(detail) => {
            tracing::info!(%detail, "passkey assertion refused");
            return Err(Failure::Counted(refusal()));
        }
    };
    let id = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, result.cred_id().as_slice());
    let Some(stored) = record.passkeys.iter_mut().find(|p| p.id == id) else {
        return Err(Failure::Counted(refusal()));
    };
    // Authenticators that keep no counter send 0 every time; any other must move forward.
    if (result.counter() != 0 || stored.counter != 0) && result.counter() <= stored.counter {
        tracing::warn!(user_id = %record.user_id, "a passkey assertion's counter did not move past the stored one");
        return Err(Failure::Counted(refusal()));
    }
    if let Ok(mut passkey) = serde_json::from_str::<Passkey>(&stored.passkey) {
        passkey.update_credential(result);
        stored.passkey = serialize(&passkey)?;
    }
    stored.counter = result.counter();
    stored.last_used_at = Some(now);
    let hash = checked.challenge_hash.clone().unwrap_or_default();
    Ok(vec![app.store.consume_ceremony(&record.user_id, &hash, CeremonyKind::Authentication, now)?])
}

/// Checks an assertion of the caller, with no session issued (tests, and the browser
/// ceremony's proof): the same check a login makes.
pub async fn verify_assertion(app: &App, principal: &Principal, credential: Value) -> Result<(), ApiError> {
    let now = app.clock.now();
    let checked = read_assertion(app, principal, credential).await?;
    let change = Change::by_user(Action::Verify, principal, now);
    crate::lockout::attempt(
        app,
        principal.user_id.as_str(),
        change,
        |record| check_assertion(app, record, &checked, now).map(|w| ((), w)),
        ceremony_gone,
    )
    .await
}
