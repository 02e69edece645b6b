//! PASSKEY, through `webauthn-rs`: the relying party built once from configuration, and
//! the browser JSON of both ceremonies accepted as browsers and libraries send it. Below
//! the pure rules, the ceremonies against the store: registration (setup → complete) and
//! authentication (auth-options → the assertion check of a login). Every challenge lives
//! 5 minutes, is kept server-side (the ceremony state is serialised into DynamoDB, never
//! sent out) and is finished at most once: the ceremony item is stored, and consumed by a
//! conditional delete, in the same transaction as the record update that opens or closes it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid,
};

use super::{Completed, Started};
use crate::App;
use crate::auth::Principal;
use crate::crypto::sha256_hex;
use crate::factors::{Factor, Material, PasskeyCredential};
use crate::model::{Ceremony, CeremonyKind, MfaType, OpenCeremony, PendingSetup, UserMfaRecord};
use crate::policy::{Action, Actor, Change};
use crate::refusal::Refusal;
use crate::store::Write;
use crate::update;
use crate::update::Failure;

pub use crate::config::CEREMONY_LIFETIME;
/// Login ceremonies one user may have open at once; opening another replaces the oldest
/// (so a password-only caller cannot fill the table with ceremonies).
pub const MAX_OPEN_CEREMONIES: usize = 3;

/// Browsers put `clientExtensionResults` at the top level; some libraries put it inside
/// `response`. Both are accepted: it is moved to where `webauthn-rs` expects it.
pub fn normalize_credential(mut credential: Value) -> Value {
    if let Some(obj) = credential.as_object_mut() {
        let nested =
            obj.get_mut("response").and_then(Value::as_object_mut).and_then(|r| r.remove("clientExtensionResults"));
        // `webauthn-rs` also reads the field under its own name, `extensions`.
        let present = obj.contains_key("clientExtensionResults") || obj.contains_key("extensions");
        if let (Some(nested), false) = (nested, present) {
            obj.insert("clientExtensionResults".into(), nested);
        }
    }
    credential
}

/// The challenge a credential answers, read from its `clientDataJSON`.
pub fn challenge_of(credential: &Value) -> Option<String> {
    let raw = credential.get("response")?.get("clientDataJSON")?.as_str()?;
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).ok()?;
    let data: Value = serde_json::from_slice(&bytes).ok()?;
    data.get("challenge")?.as_str().map(|c| c.trim_end_matches('=').to_string())
}

fn serialize<T: serde::Serialize>(value: &T) -> Result<String, Refusal> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "serialising WebAuthn state failed");
        Refusal::Internal
    })
}

fn credential_id(id: &CredentialID) -> String {
    URL_SAFE_NO_PAD.encode(id.as_slice())
}

/// A new ceremony's item: its state under the hash of its challenge. Returns the options
/// as JSON, the challenge (base64url), its hash and the item.
fn ceremony<O: serde::Serialize, S: serde::Serialize>(
    user: &str,
    kind: CeremonyKind,
    options: &O,
    state: &S,
    now: i64,
) -> Result<(Value, String, String, Ceremony), Refusal> {
    let public_key = serde_json::to_value(options).map_err(|_| Refusal::Internal)?;
    let challenge = public_key["challenge"].as_str().unwrap_or_default().to_string();
    let hash = sha256_hex(challenge.as_bytes());
    let item =
        Ceremony { user_id: user.to_string(), kind, state: serialize(state)?, expires_at: now + CEREMONY_LIFETIME };
    Ok((public_key, challenge, hash, item))
}

// Against the store ------------------------------------------------------------------------

/// `POST /mfa/setup` for PASSKEY: creation options (existing credentials excluded), with
/// the registration state stored under the challenge in the same write that records the
/// pending setup (one read, one write); the ceremony of a setup it replaces is removed in
/// that write. `name` names the passkey.
pub async fn setup(app: &App, principal: &Principal, name: Option<String>) -> Result<Started, Refusal> {
    let (webauthn, rp) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let user_name = principal.email.clone().unwrap_or_else(|| user.to_string());
    let change = Change::starting(MfaType::Passkey, principal, now);
    let (public_key, challenge, factor_id) = update::user_with(
        app,
        user,
        &change,
        |record, _| {
            let handle = record
                .webauthn_user_id
                .as_deref()
                .and_then(|h| Uuid::parse_str(h).ok())
                .unwrap_or_else(|| Uuid::from_bytes(crate::crypto::random_bytes::<16>()));
            record.webauthn_user_id = Some(handle.to_string());
            let exclude: Vec<CredentialID> =
                registered(record, None).into_iter().map(|(_, p)| p.cred_id().clone()).collect();
            let (options, state) =
                webauthn.start_passkey_registration(handle, &user_name, &user_name, Some(exclude)).map_err(|e| {
                    tracing::error!(error = %e, "starting a passkey registration failed");
                    Refusal::Internal
                })?;
            let (public_key, challenge, hash, item) =
                ceremony(user, CeremonyKind::Registration, &options.public_key, &state, now)?;
            let mut writes = vec![app.store.put_ceremony(&hash, &item)?];
            let replaced = record.pending(MfaType::Passkey).and_then(|f| f.setup.as_ref()?.item.clone());
            if let Some(replaced) = replaced {
                writes.push(app.store.drop_ceremony(user, &replaced)?);
            }
            let setup = PendingSetup { step_up: change.step_up(), item: Some(hash.clone()), started_at: now };
            let count = record.factors.iter().filter(|f| f.kind() == MfaType::Passkey).count();
            let default_name = format!("Passkey {}", count + 1);
            let factor_name = name.clone().unwrap_or(default_name);
            let id = record.begin_setup(Material::Passkey { credential: None }, factor_name, setup, now)?;
            Ok(((public_key, challenge, id), writes))
        },
        || Refusal::Internal,
    )
    .await?;
    let relying_party = (rp.name.clone(), rp.id.clone(), rp.origin.clone());
    let setup = super::Setup::Passkey { factor_id, challenge, relying_party, user_name, public_key };
    Ok(Started { setup })
}

/// `POST /mfa/passkey/complete-registration` (and verify-setup for PASSKEY): verifies the
/// attestation against the stored state and keeps the credential; PASSKEY is enabled (and
/// primary when none is). `challenge` defaults to the one the credential answers. Only
/// the ceremony of the latest setup completes, and only while that setup is still
/// authorized (see the policy).
pub async fn complete(
    app: &App,
    principal: &Principal,
    credential: Value,
    challenge: Option<&str>,
    factor_id: Option<&str>,
    finish: super::Finish,
) -> Result<Completed, Refusal> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let credential = normalize_credential(credential);
    let challenge = match challenge {
        Some(c) => c.trim_end_matches('=').to_string(),
        None => challenge_of(&credential).ok_or(Refusal::CeremonyExpired)?,
    };
    let challenge_hash = sha256_hex(challenge.as_bytes());
    // The ceremony and the record in one read round trip.
    let (record, ceremony, rules) =
        app.store.load_user_and_ceremony(user, &challenge_hash, principal.org_id.as_deref()).await?;
    // Before the ceremony is spent on a failed attestation: a token of an ended session
    // touches nothing.
    crate::sessions::ensure_live(principal, &record, now)?;
    let ceremony = ceremony
        .filter(|c| c.kind == CeremonyKind::Registration && now < c.expires_at)
        .ok_or(Refusal::CeremonyExpired)?;
    let credential: RegisterPublicKeyCredential = serde_json::from_value(credential).map_err(|e| {
        Refusal::InvalidField(format!("Field `credential` is not a WebAuthn registration response: {e}.").into())
    })?;
    let state: PasskeyRegistration = serde_json::from_str(&ceremony.state).map_err(|_| Refusal::Internal)?;
    let passkey = match webauthn.finish_passkey_registration(&credential, &state) {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(detail = %e, "passkey registration refused");
            app.store.delete_ceremony(user, &challenge_hash).await?;
            return Err(Refusal::InvalidCredential);
        }
    };
    let id = credential_id(passkey.cred_id());
    let serialized = serialize(&passkey)?;
    let change = Change::completing(MfaType::Passkey, Actor::User(principal), now);
    let (codes, hashes) = super::backup_codes::generate_n(app.keyring()?, user, finish.backup_codes);
    let (first, session) = update::user_with_loaded(
        app,
        user,
        Some((record, rules)),
        &change,
        |record, _| {
            if record.factors.iter().any(|f| credential_of(f).is_some_and(|c| c.id == id)) {
                return Err(Refusal::PasskeyExists);
            }
            let session = change.acting_session(record).map(String::from);
            let first = !record.has_mfa_enabled();
            let factor = record
                .complete_setup(MfaType::Passkey, Some(&challenge_hash), factor_id, now)
                .ok_or(Refusal::CeremonyExpired)?;
            let credential = PasskeyCredential { id: id.clone(), counter: 0, passkey: serialized.clone() };
            factor.material = Material::Passkey { credential: Some(credential) };
            super::backup_codes::issue_with_first_factor(record, first, &hashes, session);
            let consume = app.store.consume_ceremony(user, &challenge_hash, CeremonyKind::Registration, now)?;
            let session = finish.session(app, principal, "hwk", record, now)?;
            Ok(((first, session), vec![consume]))
        },
        || Refusal::CeremonyExpired,
    )
    .await?;
    let backup_codes = first.then_some(codes);
    Ok(Completed { backup_codes, session })
}

/// The credential of a passkey factor, once registered (none of a factor of another type).
fn credential_of(factor: &Factor) -> Option<&PasskeyCredential> {
    if let Material::Passkey { credential } = &factor.material { credential.as_ref() } else { None }
}

/// The registered passkeys of the user's enabled passkey factors (only `only` when
/// given), with their factor ids; any that is not readable is left out.
fn registered(record: &UserMfaRecord, only: Option<&str>) -> Vec<(String, Passkey)> {
    record
        .enabled_factors(MfaType::Passkey, only)
        .filter_map(|f| Some((f.id.clone(), serde_json::from_str(&credential_of(f)?.passkey).ok()?)))
        .collect()
}

/// `POST /mfa/passkey/auth-options`: request options for the user's passkeys. The
/// ceremony is stored, and listed in the user's record, in one write; beyond
/// [`MAX_OPEN_CEREMONIES`] open at once the oldest is removed in that write.
///
/// `only` limits the ceremony to that passkey factor (Frontegg's per-device routes): an
/// assertion of any other passkey does not pass it.
pub async fn auth_options(app: &App, principal: &Principal, only: Option<&str>) -> Result<Value, Refusal> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let change = Change::by_user(Action::Verify, principal, now);
    let (public_key, challenge) = update::user_with(
        app,
        user,
        &change,
        |record, _| {
            if only.is_some_and(|id| record.factor(id).is_none_or(|f| f.kind() != MfaType::Passkey)) {
                return Err(Refusal::FactorNotFound);
            }
            let passkeys: Vec<Passkey> = registered(record, only).into_iter().map(|(_, p)| p).collect();
            if passkeys.is_empty() {
                return Err(Refusal::MethodNotEnabled(MfaType::Passkey));
            }
            let (options, state) = webauthn.start_passkey_authentication(&passkeys).map_err(|e| {
                tracing::error!(error = %e, "starting a passkey authentication failed");
                Refusal::Internal
            })?;
            let (public_key, challenge, hash, item) =
                ceremony(user, CeremonyKind::Authentication, &options.public_key, &state, now)?;
            let mut writes = vec![app.store.put_ceremony(&hash, &item)?];
            record.open_ceremonies.retain(|c| now < c.expires_at);
            while record.open_ceremonies.len() >= MAX_OPEN_CEREMONIES {
                let oldest = record.open_ceremonies.remove(0);
                writes.push(app.store.drop_ceremony(user, &oldest.challenge_hash)?);
            }
            record.open_ceremonies.push(OpenCeremony { challenge_hash: hash, expires_at: item.expires_at });
            Ok(((public_key, challenge), writes))
        },
        || Refusal::Internal,
    )
    .await?;
    Ok(json!({
        "challenge": challenge,
        "rpId": public_key["rpId"],
        "userVerification": public_key["userVerification"],
        "timeout": public_key["timeout"],
        "allowCredentials": public_key["allowCredentials"],
        "publicKey": public_key,
    }))
}

/// An assertion checked against its ceremony before the record is read: the challenge
/// hash, whether the ceremony was found, the verified result or why it failed, and the
/// passkey it must be of when the request named one.
pub struct CheckedAssertion {
    challenge_hash: Option<String>,
    ceremony_found: bool,
    outcome: Result<AuthenticationResult, String>,
    factor_id: Option<String>,
}

/// Verifies `credential` against the ceremony its challenge names (read with the caller's
/// record, one round trip): signature, origin, RP ID and challenge. Whether it is accepted is decided in the record's write
/// ([`check_assertion`]).
pub async fn read_assertion(
    app: &App,
    principal: &Principal,
    credential: Value,
    factor_id: Option<String>,
    org_id: Option<&str>,
) -> Result<(CheckedAssertion, Option<crate::update::Loaded>), Refusal> {
    let (webauthn, _) = app.webauthn()?;
    let now = app.clock.now();
    let credential = normalize_credential(credential);
    let challenge_hash = challenge_of(&credential).map(|c| sha256_hex(c.as_bytes()));
    // The ceremony and the record in one read round trip.
    let (record, ceremony) = match &challenge_hash {
        Some(h) => {
            let (record, ceremony, policy) =
                app.store.load_user_and_ceremony(principal.user_id.as_str(), h, org_id).await?;
            (Some((record, policy)), ceremony)
        }
        None => (None, None),
    };
    let ceremony = ceremony.filter(|c| c.kind == CeremonyKind::Authentication && now < c.expires_at);
    let parsed: Option<PublicKeyCredential> = serde_json::from_value(credential).ok();
    let outcome = match (&ceremony, &parsed) {
        (Some(c), Some(cred)) => {
            let state: PasskeyAuthentication = serde_json::from_str(&c.state).map_err(|_| Refusal::Internal)?;
            webauthn.finish_passkey_authentication(cred, &state).map_err(|e| e.to_string())
        }
        (None, _) => Err("no live ceremony for this challenge".to_string()),
        (_, None) => Err("not an assertion".to_string()),
    };
    Ok((CheckedAssertion { challenge_hash, ceremony_found: ceremony.is_some(), outcome, factor_id }, record))
}

/// The login check, in the record's write: PASSKEY must still be enabled and the
/// credential still registered, and the signature counter must have moved past the stored
/// one (an assertion signed before one that already passed comes from a cloned
/// authenticator or a replay). Updates the counter and last use, and returns the write
/// that consumes the ceremony. Failures count toward the lockout.
pub fn check_assertion(
    app: &App,
    record: &mut UserMfaRecord,
    checked: &CheckedAssertion,
    now: i64,
) -> Result<Vec<Write>, Failure> {
    if !record.state(MfaType::Passkey).is_enabled() {
        return Err(Refusal::MethodNotEnabled(MfaType::Passkey).into());
    }
    // An assertion of a ceremony that is not open (expired, answered, or replaced by a
    // newer one, which anyone with the password can open) proves nothing either way: it
    // is refused without counting, so opening ceremonies cannot lock the user out.
    if !checked.ceremony_found {
        return Err(Failure::Uncounted(Refusal::CeremonyExpired));
    }
    let refusal = || Refusal::InvalidCredential;
    let result = match &checked.outcome {
        Ok(r) => r,
        Err(detail) => {
            tracing::info!(%detail, "passkey assertion refused");
            return Err(Failure::Counted(refusal()));
        }
    };
    let id = credential_id(result.cred_id());
    let user_id = record.user_id.clone();
    let factor = record.factors.iter_mut().find(|f| f.is_enabled() && credential_of(f).is_some_and(|c| c.id == id));
    // An assertion proves its own passkey only: a request naming another is refused.
    let named = |f: &&mut crate::factors::Factor| checked.factor_id.as_ref().is_none_or(|named| *named == f.id);
    let Some(factor) = factor.filter(named) else {
        return Err(Failure::Counted(refusal()));
    };
    let Material::Passkey { credential: Some(stored) } = &mut factor.material else {
        return Err(Failure::Counted(refusal()));
    };
    // Authenticators that keep no counter send 0 every time; any other must move forward.
    if (result.counter() != 0 || stored.counter != 0) && result.counter() <= stored.counter {
        tracing::warn!(%user_id, "a passkey assertion's counter did not move past the stored one");
        return Err(Failure::Counted(refusal()));
    }
    if let Ok(mut passkey) = serde_json::from_str::<Passkey>(&stored.passkey) {
        passkey.update_credential(result);
        stored.passkey = serialize(&passkey)?;
    }
    stored.counter = result.counter();
    factor.last_used_at = Some(now);
    let hash = checked.challenge_hash.clone().unwrap_or_default();
    record.open_ceremonies.retain(|c| c.challenge_hash != hash);
    Ok(vec![app.store.consume_ceremony(&record.user_id, &hash, CeremonyKind::Authentication, now)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RelyingPartyConfig;
    use serde_json::json;

    #[test]
    fn client_extension_results_are_accepted_in_both_places() {
        let nested = normalize_credential(
            json!({"id": "x", "response": {"clientExtensionResults": {"credProps": {"rk": true}}}}),
        );
        assert_eq!(nested["clientExtensionResults"], json!({"credProps": {"rk": true}}));
        assert!(nested["response"].get("clientExtensionResults").is_none());
        let top = normalize_credential(json!({"id": "x", "response": {}, "clientExtensionResults": {"a": 1}}));
        assert_eq!(top["clientExtensionResults"], json!({"a": 1}));
        let none = normalize_credential(json!({"id": "x", "response": {}}));
        assert!(none.get("clientExtensionResults").is_none());
        let own = normalize_credential(json!({"id": "x", "response": {}, "extensions": {}}));
        assert!(own.get("clientExtensionResults").is_none());
    }

    #[test]
    fn reads_the_challenge_from_client_data() {
        let client_data =
            URL_SAFE_NO_PAD.encode(br#"{"type":"webauthn.get","challenge":"abc_-1","origin":"http://localhost"}"#);
        assert_eq!(challenge_of(&json!({"response": {"clientDataJSON": client_data}})).as_deref(), Some("abc_-1"));
        assert_eq!(challenge_of(&json!({"response": {"clientDataJSON": "!!"}})), None);
    }

    #[test]
    fn relying_party_checks_its_configuration() {
        let ok =
            RelyingPartyConfig { id: "localhost".into(), origin: "http://localhost:8080".into(), name: "MFA".into() };
        assert!(crate::app::relying_party(&ok).is_ok());
        let bad =
            RelyingPartyConfig { id: "example.com".into(), origin: "https://other.org".into(), name: "MFA".into() };
        assert!(crate::app::relying_party(&bad).is_err());
    }
}

/// Fuzzing: the credential JSON of both ceremonies, as browsers send it but damaged in
/// any field (bytes flipped, fields replaced by any JSON, removed), is verified or
/// refused by `webauthn-rs`; nothing panics, and nothing damaged verifies.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_rs::prelude::{Passkey, PasskeyAuthentication, PasskeyRegistration, Url, Uuid, Webauthn};

    use super::*;
    use crate::config::RelyingPartyConfig;

    struct Ceremonies {
        rp: Webauthn,
        registration: (Value, PasskeyRegistration),
        authentication: (Value, PasskeyAuthentication),
    }

    fn ceremonies() -> &'static Ceremonies {
        static C: std::sync::OnceLock<Ceremonies> = std::sync::OnceLock::new();
        C.get_or_init(|| {
            let config = RelyingPartyConfig {
                id: "localhost".into(),
                origin: "http://localhost:8080".into(),
                name: "MFA".into(),
            };
            let rp = crate::app::relying_party(&config).unwrap();
            let origin = Url::parse(&config.origin).unwrap();
            let mut key = SoftPasskey::new(true);
            let (options, state) =
                rp.start_passkey_registration(Uuid::from_bytes([7; 16]), "ada", "ada", None).unwrap();
            let credential = key.do_registration(origin.clone(), options).unwrap();
            let passkey: Passkey = rp.finish_passkey_registration(&credential, &state).unwrap();
            let registration = (serde_json::to_value(&credential).unwrap(), state);
            let (options, state) = rp.start_passkey_authentication(&[passkey]).unwrap();
            let assertion = key.do_authentication(origin, options).unwrap();
            let authentication = (serde_json::to_value(&assertion).unwrap(), state);
            Ceremonies { rp, registration, authentication }
        })
    }

    #[derive(Clone, Debug)]
    enum Damage {
        FlipBit(usize),
        Bytes(Vec<u8>),
        Json(Value),
        Remove,
    }

    fn damage() -> impl Strategy<Value = Damage> {
        prop_oneof![
            any::<usize>().prop_map(Damage::FlipBit),
            prop::collection::vec(any::<u8>(), 0..200).prop_map(Damage::Bytes),
            prop_oneof![
                Just(Value::Null),
                any::<i64>().prop_map(Value::from),
                ".{0,30}".prop_map(Value::from),
                Just(json!({})),
                Just(json!([])),
            ]
            .prop_map(Damage::Json),
            Just(Damage::Remove),
        ]
    }

    const FIELDS: [&str; 11] = [
        "/id",
        "/rawId",
        "/type",
        "/response/clientDataJSON",
        "/response/attestationObject",
        "/response/authenticatorData",
        "/response/signature",
        "/response/userHandle",
        "/response",
        "/extensions",
        "/clientExtensionResults",
    ];

    fn apply(mut credential: Value, harm: &[(usize, Damage)]) -> Value {
        for (field, d) in harm {
            let pointer = FIELDS[field % FIELDS.len()];
            let (parent, name) = pointer.rsplit_once('/').unwrap();
            let Some(Value::Object(obj)) =
                (if parent.is_empty() { Some(&mut credential) } else { credential.pointer_mut(parent) })
            else {
                continue;
            };
            match d {
                Damage::Remove => {
                    obj.remove(name);
                }
                Damage::Json(v) => {
                    obj.insert(name.to_string(), v.clone());
                }
                Damage::Bytes(b) => {
                    obj.insert(name.to_string(), Value::from(URL_SAFE_NO_PAD.encode(b)));
                }
                Damage::FlipBit(at) => {
                    if let Some(mut bytes) = obj
                        .get(name)
                        .and_then(Value::as_str)
                        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
                    {
                        if !bytes.is_empty() {
                            let i = at % (bytes.len() * 8);
                            bytes[i / 8] ^= 1 << (i % 8);
                            obj.insert(name.to_string(), Value::from(URL_SAFE_NO_PAD.encode(bytes)));
                        }
                    }
                }
            }
        }
        credential
    }

    #[test]
    fn the_undamaged_credentials_verify() {
        let c = ceremonies();
        let registration: RegisterPublicKeyCredential =
            serde_json::from_value(apply(c.registration.0.clone(), &[])).unwrap();
        assert!(c.rp.finish_passkey_registration(&registration, &c.registration.1).is_ok());
        let assertion: PublicKeyCredential = serde_json::from_value(apply(c.authentication.0.clone(), &[])).unwrap();
        assert!(c.rp.finish_passkey_authentication(&assertion, &c.authentication.1).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn a_damaged_registration_is_refused(harm in prop::collection::vec((any::<usize>(), damage()), 1..4)) {
            let c = ceremonies();
            let credential = normalize_credential(apply(c.registration.0.clone(), &harm));
            let _ = challenge_of(&credential);
            if let Ok(parsed) = serde_json::from_value::<RegisterPublicKeyCredential>(credential.clone()) {
                if let Ok(registered) = c.rp.finish_passkey_registration(&parsed, &c.registration.1) {
                    // Only damage that changed nothing registered may pass: dropping optional
                    // hints, or re-encoding what is not signed (a CBOR map key written as a
                    // byte string instead of a text string parses the same attestation).
                    let original: RegisterPublicKeyCredential = serde_json::from_value(c.registration.0.clone()).unwrap();
                    let expected = c.rp.finish_passkey_registration(&original, &c.registration.1).unwrap();
                    prop_assert_eq!(serde_json::to_value(&registered).unwrap(), serde_json::to_value(&expected).unwrap());
                }
            }
        }

        #[test]
        fn a_damaged_assertion_is_refused(harm in prop::collection::vec((any::<usize>(), damage()), 1..4)) {
            let c = ceremonies();
            let credential = normalize_credential(apply(c.authentication.0.clone(), &harm));
            let _ = challenge_of(&credential);
            if let Ok(parsed) = serde_json::from_value::<PublicKeyCredential>(credential) {
                if c.rp.finish_passkey_authentication(&parsed, &c.authentication.1).is_ok() {
                    let original: PublicKeyCredential = serde_json::from_value(c.authentication.0.clone()).unwrap();
                    prop_assert_eq!(parsed.response.signature.as_slice(), original.response.signature.as_slice());
                    prop_assert_eq!(parsed.response.authenticator_data.as_slice(), original.response.authenticator_data.as_slice());
                    prop_assert_eq!(parsed.response.client_data_json.as_slice(), original.response.client_data_json.as_slice());
                }
            }
        }

        #[test]
        fn any_json_is_no_credential(value in prop_oneof![Just(Value::Null), ".{0,50}".prop_map(Value::from), prop::collection::btree_map("[a-zA-Z]{1,12}", ".{0,20}", 0..8).prop_map(|m| json!(m))]) {
            let value = normalize_credential(value);
            let _ = challenge_of(&value);
            let _ = serde_json::from_value::<RegisterPublicKeyCredential>(value.clone());
            let _ = serde_json::from_value::<PublicKeyCredential>(value);
        }
    }
}
