//! Factors, the unit of MFA state: every enrolled thing (an authenticator app, a magic-link
//! address, a passkey) is a factor with an opaque id, a name, created and last-used times,
//! its own state (`Pending → Enabled ⇄ Disabled`) and its own secret material. A method's
//! state (`GET /mfa/status`, `GET /mfa/methods`) is derived from its factors: enabled when
//! any of them is, else disabled when any is configured, else pending when a setup is
//! waiting. Here too: the caps per type, the factor list a user sees (never a secret) and a
//! pending factor's setup. The record's factor operations (begin, complete, switch, rename,
//! remove) are the model's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::{Sealed, random_bytes, sha256_hex};
use crate::mfa_type::MfaType;

/// Where one factor stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FactorState {
    /// Set up, not proven yet.
    Pending,
    Enabled,
    /// Proven once, switched off.
    Disabled,
}

impl FactorState {
    pub fn is_configured(self) -> bool {
        matches!(self, FactorState::Enabled | FactorState::Disabled)
    }
}

/// A registered passkey's public material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyCredential {
    /// The credential id, base64url.
    pub id: String,
    pub counter: u32,
    /// The serialised `webauthn_rs::prelude::Passkey` (public key material only).
    pub passkey: String,
}

/// A factor's own secret material; its variant is the factor's type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Material {
    /// The authenticator secret, AES-256-GCM sealed for its user.
    GoogleAuth { secret: Sealed },
    /// The address links go to (proven when the activation link is opened).
    MagicLink { address: String },
    /// The credential, once its registration ceremony completed.
    Passkey {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credential: Option<PasskeyCredential>,
    },
    /// The address codes go to (proven by the first code sent there).
    EmailOtp { address: String },
    /// The phone codes go to, in E.164, AES-256-GCM sealed for its user; `hint` is what
    /// the factor list shows of it.
    Sms { phone: Sealed, hint: String },
}

impl Material {
    pub fn kind(&self) -> MfaType {
        match self {
            Material::GoogleAuth { .. } => MfaType::GoogleAuth,
            Material::MagicLink { .. } => MfaType::MagicLink,
            Material::Passkey { .. } => MfaType::Passkey,
            Material::EmailOtp { .. } => MfaType::EmailOtp,
            Material::Sms { .. } => MfaType::Sms,
        }
    }

    /// What the factor list may show of it: a masked address or phone; nothing of a secret.
    pub fn hint(&self) -> Option<String> {
        match self {
            Material::GoogleAuth { .. } | Material::Passkey { .. } => None,
            Material::MagicLink { address } | Material::EmailOtp { address } => Some(mask_address(address)),
            Material::Sms { hint, .. } => Some(hint.clone()),
        }
    }

    /// The address of an email factor (links or codes).
    pub fn address(&self) -> Option<&str> {
        match self {
            Material::MagicLink { address } | Material::EmailOtp { address } => Some(address),
            Material::GoogleAuth { .. } | Material::Passkey { .. } | Material::Sms { .. } => None,
        }
    }
}

/// One enrolled factor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Factor {
    /// Opaque and URL-safe (`factorId`, Frontegg's `deviceId`).
    pub id: String,
    pub name: String,
    pub state: FactorState,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    /// While pending: how its setup was begun and which item completes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<PendingSetup>,
    pub material: Material,
}

impl Factor {
    pub fn kind(&self) -> MfaType {
        self.material.kind()
    }

    pub fn is_enabled(&self) -> bool {
        self.state == FactorState::Enabled
    }

    /// The time a login would pick it by: its last use, or when it was added.
    pub fn recency(&self) -> i64 {
        self.last_used_at.unwrap_or(self.created_at)
    }
}

/// The types that share one cap, and the cap: 5 authenticator apps, 10 passkeys, 3
/// phones, 3 addresses (links and codes together). Configured factors count; a pending
/// setup is replaced by the next.
pub fn cap(kind: MfaType) -> (&'static [MfaType], usize) {
    match kind {
        MfaType::GoogleAuth => (&[MfaType::GoogleAuth], 5),
        MfaType::Passkey => (&[MfaType::Passkey], 10),
        MfaType::MagicLink | MfaType::EmailOtp => (&[MfaType::MagicLink, MfaType::EmailOtp], 3),
        MfaType::Sms => (&[MfaType::Sms], 3),
    }
}

/// `+14155550100` → `+1••••••••00`: the first digit and the last two.
pub fn mask_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return "••".into();
    }
    let hidden = "•".repeat(digits.len() - 3);
    format!("+{}{hidden}{}{}", digits[0], digits[digits.len() - 2], digits[digits.len() - 1])
}

/// A new factor id: 96 random bits, base64url, behind `f`.
pub fn new_id() -> String {
    format!("f{}", URL_SAFE_NO_PAD.encode(random_bytes::<12>()))
}

/// The id of a factor converted from a record written before factors had ids: derived
/// from what it holds, so it is the same at every read until the record is written again.
pub fn derived_id(user_id: &str, kind: MfaType, what: &str) -> String {
    let digest = sha256_hex(format!("{user_id}\u{0}{}\u{0}{what}", kind.as_str()).as_bytes());
    format!("f{}", URL_SAFE_NO_PAD.encode(&digest.as_bytes()[..12]))
}

/// A factor name as given: trimmed, without control characters, at most 64 characters.
pub fn clean_name(raw: &str) -> Option<String> {
    let name: String = raw.trim().chars().filter(|c| !c.is_control()).take(64).collect();
    (!name.is_empty()).then_some(name)
}

/// `ada@example.com` → `a••@example.com`.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}••@{domain}")
        }
        None => "••".into(),
    }
}

/// One entry of `GET /mfa/factors`: never a secret, addresses masked.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FactorView {
    pub factor_id: String,
    pub mfa_type: MfaType,
    pub name: String,
    pub state: FactorState,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl FactorView {
    pub fn list(factors: &[Factor]) -> Vec<FactorView> {
        factors
            .iter()
            .map(|f| FactorView {
                factor_id: f.id.clone(),
                mfa_type: f.kind(),
                name: f.name.clone(),
                state: f.state,
                created_at: f.created_at,
                last_used_at: f.last_used_at,
                hint: f.material.hint(),
            })
            .collect()
    }
}

/// A setup begun and not completed yet (kept with its pending factor).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSetup {
    /// The fresh second factor that began it, if one did: its completion honours that
    /// step-up as long as a step-up lasts (`policy::Requirement::AuthorizedSetup`), and
    /// the end of its session voids the setup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_up: Option<StepUp>,
    /// The hash of the one mailed token or passkey challenge that may complete it; a newer
    /// setup of the same method replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default)]
    pub started_at: i64,
}

/// A step-up recorded with a setup: the session whose second factor it was, and when
/// that factor passed (the token's `auth_time`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepUp {
    pub session: String,
    pub at: i64,
}
