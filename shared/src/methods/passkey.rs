//! Passkeys through `webauthn-rs`: the relying party built once from configuration, the
//! ceremony state kept server-side (serialised into DynamoDB, never sent out), and the
//! browser JSON of both ceremonies accepted as browsers and libraries send it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::config::RelyingPartyConfig;

/// How long a ceremony may take.
pub const CEREMONY_LIFETIME: i64 = 5 * 60;
/// Passkeys one user may register.
pub const MAX_PASSKEYS: usize = 10;

pub fn relying_party(config: &RelyingPartyConfig) -> Result<Webauthn, String> {
    let origin = Url::parse(&config.origin).map_err(|_| "MFA_RP_ORIGIN is not a URL".to_string())?;
    WebauthnBuilder::new(&config.id, &origin)
        .and_then(|b| b.rp_name(&config.name).timeout(std::time::Duration::from_secs(CEREMONY_LIFETIME as u64)).build())
        .map_err(|e| format!("MFA_RP_ID and MFA_RP_ORIGIN do not fit together ({e})"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CeremonyKind {
    Registration,
    Authentication,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "REGISTRATION",
            CeremonyKind::Authentication => "AUTHENTICATION",
        }
    }
}

/// A ceremony in progress (`USER#<id>` / `CEREMONY#<sha256(challenge)>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ceremony {
    pub user_id: String,
    pub kind: CeremonyKind,
    /// The serialised `PasskeyRegistration` / `PasskeyAuthentication`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub expires_at: i64,
}

/// One registered passkey as kept in the user's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPasskey {
    /// The credential id, base64url.
    pub id: String,
    pub name: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    pub counter: u32,
    /// The serialised `webauthn_rs::prelude::Passkey` (public key material only).
    pub passkey: String,
}

/// Browsers put `clientExtensionResults` at the top level; some libraries put it inside
/// `response`. Both are accepted: it is moved to where `webauthn-rs` expects it.
pub fn normalize_credential(mut credential: Value) -> Value {
    if let Some(obj) = credential.as_object_mut() {
        let nested = obj.get_mut("response").and_then(Value::as_object_mut).and_then(|r| r.remove("clientExtensionResults"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_extension_results_are_accepted_in_both_places() {
        let nested = normalize_credential(json!({"id": "x", "response": {"clientExtensionResults": {"credProps": {"rk": true}}}}));
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
        let client_data = URL_SAFE_NO_PAD.encode(br#"{"type":"webauthn.get","challenge":"abc_-1","origin":"http://localhost"}"#);
        assert_eq!(challenge_of(&json!({"response": {"clientDataJSON": client_data}})).as_deref(), Some("abc_-1"));
        assert_eq!(challenge_of(&json!({"response": {"clientDataJSON": "!!"}})), None);
    }

    #[test]
    fn relying_party_checks_its_configuration() {
        let ok = RelyingPartyConfig { id: "localhost".into(), origin: "http://localhost:8080".into(), name: "MFA".into() };
        assert!(relying_party(&ok).is_ok());
        let bad = RelyingPartyConfig { id: "example.com".into(), origin: "https://other.org".into(), name: "MFA".into() };
        assert!(relying_party(&bad).is_err());
    }
}
