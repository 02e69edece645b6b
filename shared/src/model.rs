//! The domain: MFA methods, their per-user state, the user's MFA record, the
//! organization policy, and the views that `GET /mfa/status` and `GET /mfa/methods` return.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::Sealed;
use crate::methods::passkey::StoredPasskey;

/// Consecutive failed verifications that lock verification.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts, in seconds.
pub const LOCK_SECONDS: i64 = 15 * 60;

/// An MFA method, named as on the wire (`mfaType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaType {
    GoogleAuth,
    MagicLink,
    Passkey,
}

impl MfaType {
    /// Every method, in the order the API lists them.
    pub const ALL: [MfaType; 3] = [MfaType::GoogleAuth, MfaType::MagicLink, MfaType::Passkey];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => "GOOGLE_AUTH",
            MfaType::MagicLink => "MAGIC_LINK",
            MfaType::Passkey => "PASSKEY",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => "Authenticator app",
            MfaType::MagicLink => "Email magic link",
            MfaType::Passkey => "Passkey",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            MfaType::GoogleAuth => {
                "Six-digit codes from an authenticator app such as Google Authenticator, 1Password or Authy."
            }
            MfaType::MagicLink => "A single-use sign-in link sent to your email address.",
            MfaType::Passkey => "A passkey or security key, unlocked with your device's screen lock.",
        }
    }
}

/// Where one method stands for one user:
/// `NotConfigured → Pending (setup) → Enabled (verified) ⇄ Disabled`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MethodState {
    #[default]
    NotConfigured,
    Pending,
    Enabled,
    Disabled,
}

impl MethodState {
    /// Verified at least once, whether or not it is switched on now.
    pub fn is_configured(self) -> bool {
        matches!(self, MethodState::Enabled | MethodState::Disabled)
    }

    pub fn is_enabled(self) -> bool {
        self == MethodState::Enabled
    }
}

/// The user's MFA record (`USER#<id>` / `MFA`). Every write is conditional on `version`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMfaRecord {
    pub user_id: String,
    /// Methods absent from the map are not configured.
    #[serde(default)]
    pub methods: BTreeMap<MfaType, MethodState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_method: Option<MfaType>,
    /// Set when an administrator reset the user with `enable: true`.
    #[serde(default)]
    pub is_required: bool,
    #[serde(default)]
    pub failed_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<i64>,
    /// The authenticator-app secrets, encrypted.
    #[serde(default)]
    pub totp: TotpState,
    /// SHA-256 hashes of the unused backup codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
    /// Hashes of codes issued with a setup that is not verified yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_backup_codes: Vec<String>,
    /// The address magic links go to, once activated (or while activation is pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic_link_email: Option<String>,
    /// When magic-link mails were sent in the last hour (the send limit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub magic_link_sends: Vec<i64>,
    /// Registered passkeys (at most `MAX_PASSKEYS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<StoredPasskey>,
    /// The WebAuthn user handle (a random UUID), fixed at the first passkey setup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn_user_id: Option<String>,
    /// The organization and email last seen in the user's own token (administrators act
    /// only on users of their own organization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// 0 for a record that is not stored yet.
    #[serde(default)]
    pub version: u64,
}

/// Authenticator-app state: the verified secret, a replacement waiting for its first
/// code, and the last time step accepted (each step is accepted once).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<Sealed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Sealed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<u64>,
}

impl UserMfaRecord {
    pub fn new(user_id: &str) -> Self {
        Self { user_id: user_id.to_string(), ..Self::default() }
    }

    pub fn state(&self, method: MfaType) -> MethodState {
        self.methods.get(&method).copied().unwrap_or_default()
    }

    pub fn enabled_methods(&self) -> Vec<MfaType> {
        MfaType::ALL.into_iter().filter(|m| self.state(*m).is_enabled()).collect()
    }

    pub fn has_mfa_enabled(&self) -> bool {
        MfaType::ALL.into_iter().any(|m| self.state(m).is_enabled())
    }

    pub fn set_state(&mut self, method: MfaType, state: MethodState) {
        if state == MethodState::NotConfigured {
            self.methods.remove(&method);
        } else {
            self.methods.insert(method, state);
        }
    }

    /// Seconds until verification unlocks, if it is locked at `now`.
    pub fn lock_remaining(&self, now: i64) -> Option<i64> {
        self.locked_until.filter(|until| *until > now).map(|until| until - now)
    }

    /// Counts a failed verification; the fifth in a row locks verification for
    /// [`LOCK_SECONDS`]. Returns the lock's length when this failure set it.
    pub fn record_failure(&mut self, now: i64) -> Option<i64> {
        if self.locked_until.is_some_and(|until| until <= now) {
            self.locked_until = None;
        }
        self.failed_attempts += 1;
        if self.failed_attempts >= MAX_FAILURES {
            self.failed_attempts = 0;
            self.locked_until = Some(now + LOCK_SECONDS);
            return Some(LOCK_SECONDS);
        }
        None
    }

    pub fn record_success(&mut self) {
        self.failed_attempts = 0;
        self.locked_until = None;
    }

    /// Returns every method to not configured and forgets every secret. The failure count
    /// and lock stay: a reset is no way around a lockout.
    pub fn reset(&mut self) {
        self.methods.clear();
        self.primary_method = None;
        self.totp = TotpState::default();
        self.backup_codes.clear();
        self.pending_backup_codes.clear();
        self.magic_link_email = None;
        self.passkeys.clear();
    }

    /// The chosen method while it is enabled, else the first enabled one.
    pub fn primary(&self) -> Option<MfaType> {
        self.primary_method
            .filter(|m| self.state(*m).is_enabled())
            .or_else(|| self.enabled_methods().first().copied())
    }
}

/// An organization's MFA policy (`ORG#<id>` / `POLICY`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgPolicy {
    pub org_id: String,
    #[serde(default)]
    pub enforced: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub version: u64,
}

/// `GET /mfa/status` data.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaStatus {
    pub is_enabled: bool,
    pub is_required: bool,
    pub is_enforced: bool,
    pub enabled_methods: Vec<MfaType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_method: Option<MfaType>,
    pub session_verified: bool,
}

impl MfaStatus {
    pub fn new(record: &UserMfaRecord, policy: Option<&OrgPolicy>, session_verified: bool) -> Self {
        let enabled_methods = record.enabled_methods();
        let is_enforced = policy.is_some_and(|p| p.enforced);
        Self {
            is_enabled: !enabled_methods.is_empty(),
            is_required: record.is_required || is_enforced,
            is_enforced,
            primary_method: record.primary(),
            enabled_methods,
            session_verified,
        }
    }
}

/// One entry of `GET /mfa/methods` data.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodInfo {
    #[serde(rename = "type")]
    pub kind: MfaType,
    pub name: &'static str,
    pub description: &'static str,
    pub is_available: bool,
    pub is_configured: bool,
    pub is_enabled: bool,
}

impl MethodInfo {
    pub fn list(record: &UserMfaRecord) -> Vec<MethodInfo> {
        MfaType::ALL
            .into_iter()
            .map(|kind| {
                let state = record.state(kind);
                MethodInfo {
                    kind,
                    name: kind.name(),
                    description: kind.description(),
                    is_available: true,
                    is_configured: state.is_configured(),
                    is_enabled: state.is_enabled(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(states: &[(MfaType, MethodState)], primary: Option<MfaType>) -> UserMfaRecord {
        UserMfaRecord {
            methods: states.iter().copied().collect(),
            primary_method: primary,
            ..UserMfaRecord::new("u1")
        }
    }

    #[test]
    fn new_user_status() {
        let s = MfaStatus::new(&UserMfaRecord::new("u1"), None, false);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"isEnabled": false, "isRequired": false, "isEnforced": false,
                   "enabledMethods": [], "sessionVerified": false})
        );
    }

    #[test]
    fn primary_falls_back_to_first_enabled() {
        let r = record(
            &[(MfaType::Passkey, MethodState::Enabled), (MfaType::GoogleAuth, MethodState::Disabled)],
            Some(MfaType::GoogleAuth),
        );
        assert_eq!(r.primary(), Some(MfaType::Passkey));
        let r = record(
            &[(MfaType::Passkey, MethodState::Enabled), (MfaType::MagicLink, MethodState::Enabled)],
            Some(MfaType::Passkey),
        );
        assert_eq!(r.primary(), Some(MfaType::Passkey));
        assert_eq!(r.enabled_methods(), vec![MfaType::MagicLink, MfaType::Passkey]);
    }

    #[test]
    fn enforcement_makes_mfa_required() {
        let policy = OrgPolicy { org_id: "o".into(), enforced: true, ..Default::default() };
        let s = MfaStatus::new(&UserMfaRecord::new("u1"), Some(&policy), true);
        assert!(s.is_enforced && s.is_required && s.session_verified && !s.is_enabled);
    }

    #[test]
    fn pending_is_neither_configured_nor_enabled() {
        let r = record(&[(MfaType::GoogleAuth, MethodState::Pending)], None);
        let list = MethodInfo::list(&r);
        assert_eq!(list.len(), 3);
        assert!(!list[0].is_configured && !list[0].is_enabled);
        assert_eq!(serde_json::to_value(&list[0]).unwrap()["type"], "GOOGLE_AUTH");
    }

    #[test]
    fn five_failures_lock_and_success_resets() {
        let mut r = UserMfaRecord::new("u1");
        for _ in 0..4 {
            assert_eq!(r.record_failure(100), None);
        }
        r.record_success();
        for _ in 0..4 {
            assert_eq!(r.record_failure(100), None);
        }
        assert_eq!(r.record_failure(100), Some(LOCK_SECONDS));
        assert_eq!(r.lock_remaining(100), Some(LOCK_SECONDS));
        assert_eq!(r.lock_remaining(100 + LOCK_SECONDS - 1), Some(1));
        assert_eq!(r.lock_remaining(100 + LOCK_SECONDS), None);
        // After the window, counting starts again from zero.
        assert_eq!(r.record_failure(100 + LOCK_SECONDS), None);
        assert_eq!(r.failed_attempts, 1);
        assert_eq!(r.locked_until, None);
    }

    #[test]
    fn reset_keeps_the_lockout() {
        let mut r = record(&[(MfaType::GoogleAuth, MethodState::Enabled)], Some(MfaType::GoogleAuth));
        r.failed_attempts = 3;
        r.backup_codes = vec!["h".into()];
        r.reset();
        assert!(!r.has_mfa_enabled());
        assert!(r.backup_codes.is_empty() && r.primary_method.is_none());
        assert_eq!(r.failed_attempts, 3);
    }

    #[test]
    fn method_types_round_trip_on_the_wire() {
        for m in MfaType::ALL {
            let v = serde_json::to_value(m).unwrap();
            assert_eq!(v, m.as_str());
            assert_eq!(serde_json::from_value::<MfaType>(v).unwrap(), m);
        }
        assert!(serde_json::from_value::<MfaType>(json!("SMS")).is_err());
    }
}
