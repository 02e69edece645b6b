//! Every stored shape (the user's MFA record and its method state machine, the
//! organization policy, link tokens, passkey ceremonies, refresh tokens) and the views
//! that `GET /mfa/status` and `GET /mfa/methods` return. Where each is stored (its keys)
//! is the store's business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::Sealed;
use crate::refusal::Refusal;

pub use crate::method::MfaType;

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

/// The user's MFA record. Every write is conditional on `version`.
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
    /// The session the backup codes were issued in, if one was (none for the codes of a
    /// first enrolment): when a change ends that session, the codes go with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_codes_issued_in: Option<String>,
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
    /// Setups begun and not completed yet, by method.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_setups: BTreeMap<MfaType, PendingSetup>,
    /// The user's live sessions by id (see `sessions`): a full-access token or refresh
    /// token of a session not listed here belongs to a session that has ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sessions: BTreeMap<String, LiveSession>,
    /// The passkey login ceremonies open now (at most `passkey::MAX_OPEN_CEREMONIES`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_ceremonies: Vec<OpenCeremony>,
    /// The organization the user belongs to and their address, bound by a request that
    /// proved a second factor (administrators act only on users of their own
    /// organization; notices go to the address). See `update::settle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// 0 for a record that is not stored yet.
    #[serde(default)]
    pub version: u64,
}

/// A setup begun and not completed yet.
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

/// A live session, as the user's record knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSession {
    /// When its second factor passed (the `auth_time` of its tokens).
    pub started_at: i64,
    /// Its absolute end, which refreshing never moves.
    pub ends_at: i64,
}

/// A passkey login ceremony that is open, by the hash of its challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCeremony {
    pub challenge_hash: String,
    pub expires_at: i64,
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

    /// Records a setup of `method` begun at `now`: the method is pending unless already
    /// configured, and the setup remembers the fresh second factor that began it (if one
    /// did) and which item finishes it.
    pub fn begin_setup(&mut self, method: MfaType, step_up: Option<StepUp>, item: Option<String>, now: i64) {
        if self.state(method) == MethodState::NotConfigured {
            self.set_state(method, MethodState::Pending);
        }
        self.pending_setups.insert(method, PendingSetup { step_up, item, started_at: now });
    }

    /// Forgets the pending setup of `method` and what it would have enabled (a pending
    /// authenticator secret and the backup codes issued with it); a method that was only
    /// pending is not configured again.
    pub fn void_setup(&mut self, method: MfaType) {
        if self.pending_setups.remove(&method).is_none() {
            return;
        }
        if method == MfaType::GoogleAuth {
            self.totp.pending = None;
            self.pending_backup_codes.clear();
        }
        if self.state(method) == MethodState::Pending {
            self.set_state(method, MethodState::NotConfigured);
        }
    }

    /// Finishes the pending setup of `method` that `item` (a token or challenge hash; none
    /// for an authenticator, whose pending secret is in the record) belongs to: the method
    /// is on. Returns false, changing nothing, when no such setup is pending (never begun,
    /// finished already, or replaced by a newer one): every completion goes through here,
    /// so none completes what was not begun.
    #[must_use]
    pub fn complete_setup(&mut self, method: MfaType, item: Option<&str>) -> bool {
        if self.pending_setups.get(&method).is_none_or(|p| p.item.as_deref() != item) {
            return false;
        }
        self.pending_setups.remove(&method);
        self.turn_on(method);
        true
    }

    /// Switches `method` on; the first method on becomes the primary one.
    pub fn turn_on(&mut self, method: MfaType) {
        let had_primary = self.primary().is_some();
        self.set_state(method, MethodState::Enabled);
        if !had_primary {
            self.primary_method = Some(method);
        }
    }

    /// Switches `method` off (it stays configured); the primary moves to another enabled
    /// method. (Sessions end in the write: `update::settle`.)
    pub fn turn_off(&mut self, method: MfaType) {
        self.set_state(method, MethodState::Disabled);
        if self.primary_method == Some(method) {
            self.primary_method = self.enabled_methods().first().copied();
        }
    }

    /// `POST /mfa/enable`: a disabled method back on. True when something changed (an
    /// enabled method stays as it is); a method never verified cannot be switched on.
    pub fn enable(&mut self, method: MfaType) -> Result<bool, Refusal> {
        match self.state(method) {
            MethodState::Enabled => Ok(false),
            MethodState::Disabled => {
                self.turn_on(method);
                Ok(true)
            }
            MethodState::NotConfigured | MethodState::Pending => Err(Refusal::MethodNotConfigured(method)),
        }
    }

    /// `POST /mfa/disable`: an enabled method off, unless MFA is `required` of the user and
    /// it is their last one.
    pub fn disable(&mut self, method: MfaType, required: bool) -> Result<(), Refusal> {
        if !self.state(method).is_enabled() {
            return Err(Refusal::MethodNotEnabled(method));
        }
        if required && self.enabled_methods() == [method] {
            return Err(Refusal::OrgEnforced);
        }
        self.turn_off(method);
        Ok(())
    }

    /// `POST /mfa/primary`: which enabled method a login asks for first.
    pub fn choose_primary(&mut self, method: MfaType) -> Result<(), Refusal> {
        if !self.state(method).is_enabled() {
            return Err(Refusal::MethodNotEnabled(method));
        }
        self.primary_method = Some(method);
        Ok(())
    }

    /// Whether session `id` is live at `now`.
    pub fn has_live_session(&self, id: &str, now: i64) -> bool {
        self.sessions.get(id).is_some_and(|s| now < s.ends_at)
    }

    /// Ends every session of the user but `keep` (the session that made a change, which
    /// goes on), and voids every pending setup begun in an ended one.
    pub fn end_sessions_except(&mut self, keep: Option<&str>) {
        self.sessions.retain(|id, _| Some(id.as_str()) == keep);
        self.void_setups_of_ended_sessions();
    }

    /// Ends session `id`, and voids every pending setup begun in it.
    pub fn end_session(&mut self, id: &str) {
        self.sessions.remove(id);
        self.void_setups_of_ended_sessions();
    }

    fn void_setups_of_ended_sessions(&mut self) {
        let voided: Vec<MfaType> = self
            .pending_setups
            .iter()
            .filter(|(_, p)| p.step_up.as_ref().is_some_and(|s| !self.sessions.contains_key(&s.session)))
            .map(|(m, _)| *m)
            .collect();
        for method in voided {
            self.void_setup(method);
        }
    }

    /// Whether this record, compared with `before`, lost a factor or had one replaced: a
    /// method switched off or no longer configured, the authenticator secret or the
    /// magic-link address replaced or removed, a passkey removed, the backup codes
    /// replaced by new ones (spending one is not replacing them). Such a change ends the
    /// user's other sessions (`update::settle`); adding a factor does not.
    pub fn lost_or_replaced_a_factor_of(&self, before: &UserMfaRecord) -> bool {
        MfaType::ALL.into_iter().any(|m| {
            (before.state(m).is_enabled() && !self.state(m).is_enabled())
                || (before.state(m).is_configured() && !self.state(m).is_configured())
        }) || (before.totp.active.is_some() && before.totp.active != self.totp.active)
            || (before.magic_link_email.is_some() && before.magic_link_email != self.magic_link_email)
            || before.passkeys.iter().any(|p| !self.passkeys.iter().any(|q| q.id == p.id))
            || (!before.backup_codes.is_empty() && self.backup_codes.iter().any(|c| !before.backup_codes.contains(c)))
    }

    /// Forgets the backup codes when the session they were issued in is not `keep` (it
    /// ends now): codes an ended session obtained do not outlive it.
    pub fn void_backup_codes_unless_issued_in(&mut self, keep: Option<&str>) {
        if self.backup_codes_issued_in.as_deref().is_some_and(|s| Some(s) != keep) {
            self.backup_codes.clear();
            self.backup_codes_issued_in = None;
        }
    }

    /// Returns every method to not configured and forgets every secret and pending setup.
    /// The failure count and lock stay (a reset is no way around a lockout), and so does
    /// `is_required`. (Sessions end in the write: `update::settle`.)
    pub fn reset(&mut self) {
        self.pending_setups.clear();
        self.methods.clear();
        self.primary_method = None;
        self.totp = TotpState::default();
        self.backup_codes.clear();
        self.backup_codes_issued_in = None;
        self.pending_backup_codes.clear();
        self.magic_link_email = None;
        self.passkeys.clear();
        self.open_ceremonies.clear();
    }

    /// The chosen method while it is enabled, else the first enabled one.
    pub fn primary(&self) -> Option<MfaType> {
        self.primary_method.filter(|m| self.state(*m).is_enabled()).or_else(|| self.enabled_methods().first().copied())
    }
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

/// What a mailed link is for: an activation link cannot log in, a login link cannot activate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Purpose {
    Activate,
    Login,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Activate => "ACTIVATE",
            Purpose::Login => "LOGIN",
        }
    }
}

/// The stored side of a mailed link (only the hash of its token is the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkToken {
    pub user_id: String,
    pub purpose: Purpose,
    pub email: String,
    pub created_at: i64,
    /// Also the table's TTL attribute, so DynamoDB removes spent-by-time tokens.
    pub expires_at: i64,
}

impl LinkToken {
    pub fn is_valid_for(&self, purpose: Purpose, now: i64) -> bool {
        self.purpose == purpose && now < self.expires_at
    }
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

/// A WebAuthn ceremony in progress, stored under the hash of its challenge.
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

/// A refresh token as stored (only the hash of the token is the key).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshToken {
    pub user_id: String,
    /// The session the chain belongs to: it rotates only while the user's record lists it.
    /// (Tokens stored before sessions had ids carry a chain id the record never lists, so
    /// their sessions are over.)
    #[serde(alias = "chainId")]
    pub session_id: String,
    pub used: bool,
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// When the session ends, whatever the rotations; also the table's TTL attribute.
    pub expires_at: i64,
}

/// An organization's MFA policy.
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
        UserMfaRecord { methods: states.iter().copied().collect(), primary_method: primary, ..UserMfaRecord::new("u1") }
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
    fn reset_keeps_the_lockout() {
        let mut r = record(&[(MfaType::GoogleAuth, MethodState::Enabled)], Some(MfaType::GoogleAuth));
        r.failed_attempts = 3;
        r.backup_codes = vec!["h".into()];
        r.is_required = true;
        let before = r.clone();
        r.reset();
        assert!(!r.has_mfa_enabled());
        assert!(r.backup_codes.is_empty() && r.primary_method.is_none());
        assert_eq!(r.failed_attempts, 3);
        assert!(r.is_required, "an administrator's requirement outlives a reset");
        assert!(r.lost_or_replaced_a_factor_of(&before), "a reset removes factors: other sessions end");
    }

    #[test]
    fn the_first_method_on_is_primary_and_turning_off_moves_it() {
        let mut r = UserMfaRecord::new("u1");
        r.begin_setup(MfaType::Passkey, None, Some("h".into()), 5);
        assert_eq!(r.state(MfaType::Passkey), MethodState::Pending);
        assert!(!r.complete_setup(MfaType::Passkey, Some("other")) && !r.complete_setup(MfaType::GoogleAuth, None));
        assert_eq!(r.state(MfaType::Passkey), MethodState::Pending, "nothing changed");
        assert!(r.complete_setup(MfaType::Passkey, Some("h")));
        assert!(r.pending_setups.is_empty());
        assert!(!r.complete_setup(MfaType::Passkey, Some("h")), "a setup completes once");
        let before = r.clone();
        r.turn_on(MfaType::GoogleAuth);
        assert_eq!(r.primary_method, Some(MfaType::Passkey));
        assert!(!r.lost_or_replaced_a_factor_of(&before), "adding a factor ends no session");
        let before = r.clone();
        r.turn_off(MfaType::Passkey);
        assert_eq!(r.primary_method, Some(MfaType::GoogleAuth));
        assert!(r.lost_or_replaced_a_factor_of(&before), "switching one off does");
    }

    #[test]
    fn replacing_a_secret_an_address_or_removing_a_passkey_is_losing_a_factor() {
        let sealed = |b: &str| crate::crypto::Sealed { kid: "k".into(), data: b.into() };
        let passkey = |id: &str| StoredPasskey {
            id: id.into(),
            name: id.into(),
            created_at: 0,
            last_used_at: None,
            counter: 0,
            passkey: String::new(),
        };
        let mut before = record(&[(MfaType::GoogleAuth, MethodState::Enabled)], None);
        before.totp.active = Some(sealed("one"));
        before.magic_link_email = Some("a@example.com".into());
        before.passkeys = vec![passkey("p1")];
        let mut after = before.clone();
        after.totp.active = Some(sealed("two"));
        assert!(after.lost_or_replaced_a_factor_of(&before), "a new authenticator secret");
        let mut after = before.clone();
        after.magic_link_email = Some("b@example.com".into());
        assert!(after.lost_or_replaced_a_factor_of(&before), "another magic-link address");
        let mut after = before.clone();
        after.passkeys.clear();
        assert!(after.lost_or_replaced_a_factor_of(&before), "a passkey removed");
        let mut after = before.clone();
        after.passkeys.push(passkey("p2"));
        after.passkeys[0].counter = 7;
        after.backup_codes = vec!["h".into()];
        assert!(!after.lost_or_replaced_a_factor_of(&before), "a passkey added or used, new backup codes");
    }

    #[test]
    fn switching_follows_the_state_machine() {
        let mut r =
            record(&[(MfaType::GoogleAuth, MethodState::Enabled), (MfaType::Passkey, MethodState::Pending)], None);
        assert_eq!(r.enable(MfaType::Passkey), Err(Refusal::MethodNotConfigured(MfaType::Passkey)));
        assert_eq!(r.enable(MfaType::GoogleAuth), Ok(false));
        assert_eq!(
            r.disable(MfaType::GoogleAuth, true),
            Err(Refusal::OrgEnforced),
            "the last method of a required user"
        );
        assert_eq!(r.choose_primary(MfaType::Passkey), Err(Refusal::MethodNotEnabled(MfaType::Passkey)));
        r.disable(MfaType::GoogleAuth, false).unwrap();
        assert_eq!(r.state(MfaType::GoogleAuth), MethodState::Disabled);
        assert_eq!(r.disable(MfaType::GoogleAuth, false), Err(Refusal::MethodNotEnabled(MfaType::GoogleAuth)));
        assert_eq!(r.enable(MfaType::GoogleAuth), Ok(true));
        assert_eq!(r.primary(), Some(MfaType::GoogleAuth));
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
