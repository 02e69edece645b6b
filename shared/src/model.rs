//! Every stored shape (the user's MFA record, read from its older shape too; the
//! organization policy, link tokens, passkey ceremonies, refresh tokens) and the views
//! that `GET /mfa/status` and `GET /mfa/methods` return. The factors a record holds, and
//! the method state derived from them, are `factors`'. Where each is stored (its keys) is
//! the store's business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{Keyring, Sealed};
use crate::factors::{self, Factor, FactorState, Material, PasskeyCredential};
pub use crate::factors::{PendingSetup, StepUp};
use crate::lockout::SoftLock;
use crate::refusal::Refusal;

/// The `amr` value of a login with a remembered device.
pub const DEVICE_AMR: &str = "device";

pub use crate::mfa_type::MfaType;

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

/// The user's MFA record. Every write is conditional on `version`. Records written
/// before factors existed (one state and one secret per method) are converted as they
/// are read (`legacy`), and written in this shape the next time they change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "legacy::Stored")]
pub struct UserMfaRecord {
    pub user_id: String,
    /// Every factor the user has or is setting up (see `factors`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<Factor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_method: Option<MfaType>,
    /// Set when an administrator reset the user with `enable: true`.
    #[serde(default)]
    pub is_required: bool,
    /// The soft lock of second-factor checks (`failedAttempts`, `lockedUntil`).
    #[serde(flatten)]
    pub lock: SoftLock,
    /// The last authenticator time step accepted, of any of the user's authenticators:
    /// each step is accepted once per user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_last_step: Option<u64>,
    /// SHA-256 hashes of the unused backup codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
    /// The session the backup codes were issued in, if one was (none for the codes of a
    /// first enrolment): when a change ends that session, the codes go with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_codes_issued_in: Option<String>,
    /// Hashes of codes issued with an authenticator setup that is not verified yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_backup_codes: Vec<String>,
    /// When links and codes were sent to the user in the last hour (the send limit of
    /// `delivery`, shared by every channel).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sends: Vec<i64>,
    /// The WebAuthn user handle (a random UUID), fixed at the first passkey setup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn_user_id: Option<String>,
    /// The user's live sessions by id (see `sessions`): a full-access token or refresh
    /// token of a session not listed here belongs to a session that has ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sessions: BTreeMap<String, LiveSession>,
    /// The passkey login ceremonies open now (at most `passkey::MAX_OPEN_CEREMONIES`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_ceremonies: Vec<OpenCeremony>,
    /// The user's remembered devices by id (see `devices`): only their tokens' hashes.
    /// Always written (also empty), so a refused refresh can remove one by its path.
    #[serde(default)]
    pub devices: BTreeMap<String, RememberedDevice>,
    /// The organization the user belongs to and their address, bound by a request that
    /// proved a second factor (administrators act only on users of their own
    /// organization; notices go to the address). See `update::settle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A change that takes access away holding the record against racing changes (see
    /// `update::run`): set after it lost races, cleared by its write, over when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal_hold: Option<RemovalHold>,
    /// 0 for a record that is not stored yet.
    #[serde(default)]
    pub version: u64,
    /// How the record stood in the table when it was read (the store's business: which
    /// of its two items to write back).
    #[serde(skip)]
    pub stored: StoredAs,
}

/// How a record stood in the table when the store read it: in two items (its factors and
/// settings, and the login state a login changes), or in one as written before the split,
/// or not at all; the tag both items carry; and a digest of the first item's contents, so
/// a write that changed only the login state writes that item alone. Not part of the
/// record's state: two records that differ only in it are equal.
#[derive(Clone, Default)]
pub struct StoredAs {
    pub split: bool,
    pub pair: Option<String>,
    pub settings_digest: Option<String>,
}

impl PartialEq for StoredAs {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for StoredAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAs").field("split", &self.split).finish_non_exhaustive()
    }
}

/// Which change holds the record (a random id of its own), and until when (seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalHold {
    pub until: i64,
    pub by: String,
}

/// A remembered device, as the user's record keeps it (by its id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RememberedDevice {
    /// SHA-256 of the device token, hex.
    pub token_hash: String,
    pub name: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    pub expires_at: i64,
    /// The `amr` and `auth_time` of the login that remembered it: a login with the device
    /// carries them on (with `device` added), so it is never a fresh second factor.
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// The session the login started: when that session is ended (not when it merely
    /// runs out), the device is forgotten with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A live session, as the user's record knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSession {
    /// When it began (the `auth_time` of its tokens, unless a remembered device began it).
    pub started_at: i64,
    /// Its absolute end, which refreshing never moves.
    pub ends_at: i64,
    /// Started by a remembered device, not by a second factor: it never counts as a fresh
    /// one (no step-up, no organization binding).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_device: bool,
    /// The remembered device that started it: when the device is forgotten, the session
    /// ends (`UserMfaRecord::end_sessions_of_forgotten_devices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The session's refresh chain: the generation of the one refresh token that may rotate
    /// next, and the SHA-256 (hex) of its secret. A refresh token reads `<session id>.
    /// <generation>.<secret>`; rotating it is one conditional update of this entry.
    #[serde(default)]
    pub generation: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
    /// The `amr` and `auth_time` its tokens carry (those of the login, or of the login that
    /// remembered the device that started it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub auth_time: i64,
    /// The device the login that started it remembered: when a spent refresh token of the
    /// session is presented again, that device is forgotten with it (as is `device`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered: Option<String>,
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A passkey login ceremony that is open, by the hash of its challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCeremony {
    pub challenge_hash: String,
    pub expires_at: i64,
}

impl UserMfaRecord {
    pub fn new(user_id: &str) -> Self {
        Self { user_id: user_id.to_string(), ..Self::default() }
    }

    pub fn enabled_methods(&self) -> Vec<MfaType> {
        MfaType::ALL.into_iter().filter(|m| self.state(*m).is_enabled()).collect()
    }

    pub fn has_mfa_enabled(&self) -> bool {
        self.factors.iter().any(Factor::is_enabled)
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
    /// (A session a remembered device started lives only while the device is remembered,
    /// however it was forgotten.)
    pub fn has_live_session(&self, id: &str, now: i64) -> bool {
        self.sessions.get(id).is_some_and(|s| {
            now < s.ends_at && s.device.as_ref().is_none_or(|d| self.devices.get(d).is_some_and(|d| now < d.expires_at))
        })
    }

    /// Ends every session of the user but `keep` (the session that made a change, which
    /// goes on), and voids every pending setup begun in an ended one.
    pub fn end_sessions_except(&mut self, keep: Option<&str>) {
        let ended: Vec<String> = self.sessions.keys().filter(|id| Some(id.as_str()) != keep).cloned().collect();
        for id in ended {
            self.end_session(&id);
        }
    }

    /// Ends session `id`, and voids every pending setup begun in it and every device
    /// remembered in it (a device outlives its session's natural end, not its ending).
    pub fn end_session(&mut self, id: &str) {
        self.sessions.remove(id);
        self.void_setups_of_ended_sessions();
        self.devices.retain(|_, d| d.session_id.as_deref() != Some(id));
    }

    /// Ends every session a remembered device started that is no longer remembered
    /// (forgotten, or dropped once expired): a device's sessions do not outlive it.
    pub fn end_sessions_of_forgotten_devices(&mut self) {
        let orphaned: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.device.as_ref().is_some_and(|d| !self.devices.contains_key(d)))
            .map(|(id, _)| id.clone())
            .collect();
        for id in orphaned {
            self.end_session(&id);
        }
    }

    /// Drops session `id`, the oldest of too many: what it began ends with it, but the
    /// device it remembered stays (a user's own many logins forget nothing).
    pub fn drop_session(&mut self, id: &str) {
        self.sessions.remove(id);
        self.void_setups_of_ended_sessions();
    }

    fn void_setups_of_ended_sessions(&mut self) {
        let voided: Vec<MfaType> = self
            .factors
            .iter()
            .filter(|f| {
                f.setup
                    .as_ref()
                    .and_then(|s| s.step_up.as_ref())
                    .is_some_and(|s| !self.sessions.contains_key(&s.session))
            })
            .map(Factor::kind)
            .collect();
        for method in voided {
            self.void_setup(method);
        }
    }

    /// Whether this record, compared with `before`, lost a factor or had one replaced: a
    /// factor switched off or removed, or the backup codes replaced by new ones (spending
    /// one is not replacing them). Such a change ends the user's other sessions
    /// (`update::settle`); adding a factor does not.
    pub fn lost_or_replaced_a_factor_of(&self, before: &UserMfaRecord) -> bool {
        let now_state = |id: &str| self.factor(id).map(|f| f.state);
        before.factors.iter().any(|f| match (f.state, now_state(&f.id)) {
            (FactorState::Enabled, Some(FactorState::Enabled)) => false,
            (FactorState::Enabled, _) => true,
            (FactorState::Disabled, None) => true,
            (FactorState::Disabled | FactorState::Pending, _) => false,
        }) || (!before.backup_codes.is_empty() && self.backup_codes.iter().any(|c| !before.backup_codes.contains(c)))
    }

    /// Whether this record has a factor enabled that was not enabled in `before` (added,
    /// or switched back on).
    pub fn gained_a_factor_over(&self, before: &UserMfaRecord) -> bool {
        self.factors.iter().any(|f| f.is_enabled() && !before.factor(&f.id).is_some_and(Factor::is_enabled))
    }

    /// Whether a backup code of `before` was spent (fewer codes, none new).
    pub fn spent_a_backup_code_of(&self, before: &UserMfaRecord) -> bool {
        self.backup_codes.len() < before.backup_codes.len()
            && self.backup_codes.iter().all(|c| before.backup_codes.contains(c))
    }

    /// Forgets the backup codes when the session they were issued in is not `keep` (it
    /// ends now): codes an ended session obtained do not outlive it.
    pub fn void_backup_codes_unless_issued_in(&mut self, keep: Option<&str>) {
        if self.backup_codes_issued_in.as_deref().is_some_and(|s| Some(s) != keep) {
            self.backup_codes.clear();
            self.backup_codes_issued_in = None;
        }
    }

    /// Removes every factor and forgets every secret and pending setup. The failure count
    /// and lock stay (a reset is no way around a lockout), and so does `is_required`.
    /// (Sessions end in the write: `update::settle`.)
    pub fn reset(&mut self) {
        self.factors.clear();
        self.primary_method = None;
        self.totp_last_step = None;
        self.backup_codes.clear();
        self.backup_codes_issued_in = None;
        self.pending_backup_codes.clear();
        self.open_ceremonies.clear();
    }

    /// The chosen method while it is enabled, else the first enabled one.
    pub fn primary(&self) -> Option<MfaType> {
        self.primary_method.filter(|m| self.state(*m).is_enabled()).or_else(|| self.enabled_methods().first().copied())
    }
}

/// The record as stored before factors existed, read into today's shape: an authenticator
/// secret (active, and one pending), a magic-link address, the passkeys, each method's
/// state and its pending setup become factors (ids derived from what each holds, so they
/// are stable until the record is written again). A method marked on with nothing to
/// prove it (no secret, address or credential) has no factor to convert and is not
/// configured.
mod legacy {
    use super::*;

    /// Both shapes: today's fields, and the old ones (read, never written).
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Stored {
        user_id: String,
        #[serde(default)]
        factors: Vec<Factor>,
        #[serde(default)]
        primary_method: Option<MfaType>,
        #[serde(default)]
        is_required: bool,
        #[serde(default)]
        failed_attempts: u32,
        #[serde(default)]
        locked_until: Option<i64>,
        #[serde(default)]
        totp_last_step: Option<u64>,
        #[serde(default)]
        backup_codes: Vec<String>,
        #[serde(default)]
        backup_codes_issued_in: Option<String>,
        #[serde(default)]
        pending_backup_codes: Vec<String>,
        #[serde(default, alias = "magicLinkSends")]
        sends: Vec<i64>,
        #[serde(default)]
        webauthn_user_id: Option<String>,
        #[serde(default)]
        sessions: BTreeMap<String, LiveSession>,
        #[serde(default)]
        open_ceremonies: Vec<OpenCeremony>,
        #[serde(default)]
        devices: BTreeMap<String, RememberedDevice>,
        #[serde(default)]
        org_id: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        removal_hold: Option<RemovalHold>,
        #[serde(default)]
        version: u64,
        // The shape before factors.
        #[serde(default)]
        methods: BTreeMap<MfaType, MethodState>,
        #[serde(default)]
        totp: OldTotp,
        #[serde(default)]
        magic_link_email: Option<String>,
        #[serde(default)]
        passkeys: Vec<OldPasskey>,
        #[serde(default)]
        pending_setups: BTreeMap<MfaType, PendingSetup>,
    }

    #[derive(Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OldTotp {
        #[serde(default)]
        active: Option<Sealed>,
        #[serde(default)]
        pending: Option<Sealed>,
        #[serde(default)]
        last_step: Option<u64>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OldPasskey {
        id: String,
        name: String,
        created_at: i64,
        #[serde(default)]
        last_used_at: Option<i64>,
        counter: u32,
        passkey: String,
    }

    impl From<Stored> for UserMfaRecord {
        fn from(s: Stored) -> Self {
            let mut factors = s.factors;
            let old = !s.methods.is_empty() || s.totp.active.is_some() || !s.passkeys.is_empty();
            if factors.is_empty() && old {
                let state = |m: MfaType| match s.methods.get(&m).copied().unwrap_or_default() {
                    MethodState::Enabled => Some(FactorState::Enabled),
                    MethodState::Disabled => Some(FactorState::Disabled),
                    MethodState::Pending | MethodState::NotConfigured => None,
                };
                let user = s.user_id.as_str();
                let factor = |kind: MfaType, key: &str, name: String, state, created_at, material| Factor {
                    id: factors::derived_id(user, kind, key),
                    name,
                    state,
                    created_at,
                    last_used_at: None,
                    setup: None,
                    material,
                };
                if let (Some(secret), Some(st)) = (&s.totp.active, state(MfaType::GoogleAuth)) {
                    let material = Material::GoogleAuth { secret: secret.clone() };
                    factors.push(factor(
                        MfaType::GoogleAuth,
                        &secret.data,
                        "Authenticator app".into(),
                        st,
                        0,
                        material,
                    ));
                }
                if let (Some(address), Some(st)) = (&s.magic_link_email, state(MfaType::MagicLink)) {
                    let material = Material::MagicLink { address: address.clone() };
                    factors.push(factor(MfaType::MagicLink, address, address.clone(), st, 0, material));
                }
                if let Some(st) = state(MfaType::Passkey) {
                    for p in &s.passkeys {
                        let credential =
                            PasskeyCredential { id: p.id.clone(), counter: p.counter, passkey: p.passkey.clone() };
                        let material = Material::Passkey { credential: Some(credential) };
                        let mut f = factor(MfaType::Passkey, &p.id, p.name.clone(), st, p.created_at, material);
                        f.last_used_at = p.last_used_at;
                        factors.push(f);
                    }
                }
                for (method, setup) in &s.pending_setups {
                    let material = match method {
                        MfaType::GoogleAuth => s.totp.pending.clone().map(|secret| Material::GoogleAuth { secret }),
                        // The address a pending link went to is in the link's own item.
                        MfaType::MagicLink => Some(Material::MagicLink { address: String::new() }),
                        MfaType::Passkey => Some(Material::Passkey { credential: None }),
                        // Not offered before factors existed.
                        MfaType::EmailOtp | MfaType::Sms => None,
                    };
                    if let Some(material) = material {
                        let key = format!("pending:{}", setup.item.as_deref().unwrap_or_default());
                        let name = method.name().to_string();
                        let mut f = factor(*method, &key, name, FactorState::Pending, setup.started_at, material);
                        f.setup = Some(setup.clone());
                        factors.push(f);
                    }
                }
            }
            UserMfaRecord {
                user_id: s.user_id,
                factors,
                primary_method: s.primary_method,
                is_required: s.is_required,
                lock: SoftLock::stored(s.failed_attempts, s.locked_until),
                totp_last_step: s.totp_last_step.or(s.totp.last_step),
                backup_codes: s.backup_codes,
                backup_codes_issued_in: s.backup_codes_issued_in,
                pending_backup_codes: s.pending_backup_codes,
                sends: s.sends,
                webauthn_user_id: s.webauthn_user_id,
                sessions: s.sessions,
                open_ceremonies: s.open_ceremonies,
                devices: s.devices,
                org_id: s.org_id,
                email: s.email,
                removal_hold: s.removal_hold,
                version: s.version,
                stored: StoredAs::default(),
            }
        }
    }
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
    /// The factor it was sent for (none on tokens stored before factors had ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor_id: Option<String>,
    pub created_at: i64,
    /// Also the table's TTL attribute, so DynamoDB removes spent-by-time tokens.
    pub expires_at: i64,
}

/// The stored side of a code sent by mail or text (`delivery`): its MAC, never the code,
/// kept under the user's record key by method and purpose, so a newer code replaces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeItem {
    pub user_id: String,
    /// The factor it was sent to.
    pub factor_id: String,
    /// The MAC's key id and tag.
    pub kid: String,
    pub tag: String,
    pub created_at: i64,
    /// Also the table's TTL attribute.
    pub expires_at: i64,
    /// For a text: the number's prefix (`sms`), whose counter of the hour it was sent in
    /// is credited when the code is entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
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
    pub expires_at: i64,
}

/// An organization's MFA policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgPolicy {
    pub org_id: String,
    #[serde(default)]
    pub enforced: bool,
    /// The methods members may set up (of those the deployment offers); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_methods: Option<Vec<MfaType>>,
    /// Only phishing-resistant methods (passkeys): narrows `allowed_methods`, and refuses a
    /// login with any other factor once the grace period (`enrollment_deadline`) is over.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub phishing_resistant_only: bool,
    /// The country calling codes members' texts may go to, of the deployment's
    /// (`MFA_SMS_COUNTRIES`); the deployment's when absent. Narrows, never widens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_country_codes: Option<Vec<u16>>,
    /// How long members' devices may be remembered, in days (0: not at all); the
    /// deployment's lifetime when absent, and never longer than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_device_days: Option<u32>,
    /// When its remembering rules last changed (`rememberDeviceDays`): devices remembered
    /// before are not honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices_valid_from: Option<i64>,
    /// With `enforced`: until when (Unix seconds) members without MFA may still log in
    /// without it (`gracePeriodDays` from when enforcement began).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_deadline: Option<i64>,
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
    /// While the user's organization grants a grace period and the user has no MFA yet:
    /// until when (Unix seconds) they may still sign in without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_deadline: Option<i64>,
    /// Required and without MFA, with no grace (left): the platform sends the user to
    /// set up a method before anything else.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub must_enroll_now: bool,
    /// Whether a login may remember its device, and for how long: what
    /// `GET /mfa/remember-device` answers, read with the status so a login page needs one
    /// request before the login rather than two.
    pub remember_device: RememberDeviceRule,
}

/// Whether a login may remember its device (`isAllowedToRemember`), and for how many
/// seconds (`lifetimeSeconds`, 0 when it may not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RememberDeviceRule {
    pub is_allowed_to_remember: bool,
    pub lifetime_seconds: u64,
}

impl OrgPolicy {
    /// Whether the organization has rules for its members (enforcement, a method list,
    /// phishing-resistant factors only, remembering rules): then no token naming another
    /// organization moves a member out.
    pub fn has_rules(&self) -> bool {
        self.enforced
            || self.allowed_methods.is_some()
            || self.phishing_resistant_only
            || self.sms_country_codes.is_some()
            || self.remember_device_days.is_some()
    }

    /// Whether members may set up `method`.
    pub fn allows(&self, method: MfaType) -> bool {
        self.allowed_methods.as_ref().is_none_or(|allowed| allowed.contains(&method))
            && (!self.phishing_resistant_only || method.is_phishing_resistant())
    }

    /// The methods members may set up: those `allowed_methods` lists (every method when
    /// it lists none) that [`Self::allows`].
    pub fn allowed(&self) -> Vec<MfaType> {
        let listed = self.allowed_methods.clone().unwrap_or_else(|| MfaType::ALL.to_vec());
        listed.into_iter().filter(|m| self.allows(*m)).collect()
    }
}

impl MfaStatus {
    /// The status as a deployment offering `offered` shows it: methods it does not offer
    /// are not listed (nor usable). `remember_device` is `devices::remembering`'s answer.
    pub fn new(
        record: &UserMfaRecord,
        policy: Option<&OrgPolicy>,
        session_verified: bool,
        offered: &[MfaType],
        remember_device: RememberDeviceRule,
        now: i64,
    ) -> Self {
        let enabled_methods: Vec<MfaType> =
            record.enabled_methods().into_iter().filter(|m| offered.contains(m)).collect();
        let is_enforced = policy.is_some_and(|p| p.enforced);
        let primary = record.primary().filter(|m| offered.contains(m)).or_else(|| enabled_methods.first().copied());
        let is_required = record.is_required || is_enforced;
        let enrolling = is_required && enabled_methods.is_empty();
        // An administrator's reset that requires re-enrolment grants no grace.
        let deadline = policy
            .filter(|p| p.enforced && !record.is_required)
            .and_then(|p| p.enrollment_deadline)
            .filter(|d| enrolling && now < *d);
        Self {
            is_enabled: !enabled_methods.is_empty(),
            is_required,
            is_enforced,
            primary_method: primary,
            enabled_methods,
            session_verified,
            enrollment_deadline: deadline,
            must_enroll_now: enrolling && deadline.is_none(),
            remember_device,
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
    /// Where the method stands under NIST SP 800-63B rev 4.
    pub assurance: crate::mfa_type::Assurance,
    pub is_phishing_resistant: bool,
}

impl MethodInfo {
    /// One entry per method the deployment offers; a method the user's organization does
    /// not allow is not available.
    pub fn list(record: &UserMfaRecord, offered: &[MfaType], policy: Option<&OrgPolicy>) -> Vec<MethodInfo> {
        MfaType::ALL
            .into_iter()
            .filter(|m| offered.contains(m))
            .map(|kind| {
                let state = record.state(kind);
                MethodInfo {
                    kind,
                    name: kind.name(),
                    description: kind.description(),
                    is_available: policy.is_none_or(|p| p.allows(kind)),
                    is_configured: state.is_configured(),
                    is_enabled: state.is_enabled(),
                    assurance: kind.assurance(),
                    is_phishing_resistant: kind.is_phishing_resistant(),
                }
            })
            .collect()
    }
}

/// The MAC's context: a stored code verifies for its own user only.
pub fn backup_code_context(user_id: &str) -> String {
    format!("{user_id}/backup-code")
}

/// The stored form of a backup code whose SHA-256 (of its canonical form, hex) is
/// `digest`: `<kid>:<hex HMAC>` under the keyring, bound to the user.
pub fn backup_code_form(keyring: &Keyring, user_id: &str, digest: &str) -> String {
    let mac = keyring.mac(digest.as_bytes(), &backup_code_context(user_id));
    format!("{}:{}", mac.kid, mac.tag)
}

impl UserMfaRecord {
    /// Rewrites the record's backup codes stored as a plain digest (by earlier versions) in
    /// the keyed form; the one writer calls it on every record it reads, so they are written
    /// keyed with the record's next write. The same codes still work, once each.
    pub fn rekey_backup_codes(&mut self, keyring: &Keyring) {
        let user_id = self.user_id.clone();
        for stored in self.backup_codes.iter_mut().chain(self.pending_backup_codes.iter_mut()) {
            if !stored.contains(':') {
                *stored = backup_code_form(keyring, &user_id, stored);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A factor of `kind` in `state`, with stand-in material.
    fn factor(kind: MfaType, state: FactorState, id: &str) -> Factor {
        let material = match kind {
            MfaType::GoogleAuth => Material::GoogleAuth { secret: Sealed { kid: "k".into(), data: id.into() } },
            MfaType::MagicLink => Material::MagicLink { address: format!("{id}@example.com") },
            MfaType::Passkey => Material::Passkey { credential: None },
            MfaType::EmailOtp => Material::EmailOtp { address: format!("{id}@example.com") },
            MfaType::Sms => {
                Material::Sms { phone: Sealed { kid: "k".into(), data: id.into() }, hint: "+1••00".into() }
            }
        };
        let setup = (state == FactorState::Pending).then(PendingSetup::default);
        Factor { id: id.into(), name: id.into(), state, created_at: 0, last_used_at: None, setup, material }
    }

    fn record(states: &[(MfaType, MethodState)], primary: Option<MfaType>) -> UserMfaRecord {
        let factors = states
            .iter()
            .enumerate()
            .filter_map(|(i, (m, st))| {
                let state = match st {
                    MethodState::Enabled => FactorState::Enabled,
                    MethodState::Disabled => FactorState::Disabled,
                    MethodState::Pending => FactorState::Pending,
                    MethodState::NotConfigured => return None,
                };
                Some(factor(*m, state, &format!("f{i}")))
            })
            .collect();
        UserMfaRecord { factors, primary_method: primary, ..UserMfaRecord::new("u1") }
    }

    #[test]
    fn new_user_status() {
        let remember = RememberDeviceRule { is_allowed_to_remember: true, lifetime_seconds: 1_209_600 };
        let s = MfaStatus::new(&UserMfaRecord::new("u1"), None, false, &MfaType::DEFAULT_OFFERED, remember, 0);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"isEnabled": false, "isRequired": false, "isEnforced": false,
                   "enabledMethods": [], "sessionVerified": false,
                   "rememberDevice": {"isAllowedToRemember": true, "lifetimeSeconds": 1_209_600}})
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
        let remember = RememberDeviceRule::default();
        let s = MfaStatus::new(&UserMfaRecord::new("u1"), Some(&policy), true, &MfaType::DEFAULT_OFFERED, remember, 0);
        assert!(s.is_enforced && s.is_required && s.session_verified && !s.is_enabled);
    }

    #[test]
    fn pending_is_neither_configured_nor_enabled() {
        let r = record(&[(MfaType::GoogleAuth, MethodState::Pending)], None);
        let list = MethodInfo::list(&r, &MfaType::DEFAULT_OFFERED, None);
        assert_eq!(list.len(), 3, "a default deployment lists Flashback's three");
        assert_eq!(MethodInfo::list(&r, &MfaType::ALL, None).len(), 5);
        let narrow = OrgPolicy { allowed_methods: Some(vec![MfaType::Passkey]), ..Default::default() };
        let list_of_org = MethodInfo::list(&r, &MfaType::DEFAULT_OFFERED, Some(&narrow));
        assert_eq!(list_of_org.iter().map(|m| m.is_available).collect::<Vec<_>>(), [false, false, true]);
        assert!(!list[0].is_configured && !list[0].is_enabled);
        assert_eq!(serde_json::to_value(&list[0]).unwrap()["type"], "GOOGLE_AUTH");
    }

    #[test]
    fn reset_keeps_the_lockout() {
        let mut r = record(&[(MfaType::GoogleAuth, MethodState::Enabled)], Some(MfaType::GoogleAuth));
        r.lock = SoftLock::stored(3, None);
        r.backup_codes = vec!["h".into()];
        r.is_required = true;
        let before = r.clone();
        r.reset();
        assert!(!r.has_mfa_enabled() && r.factors.is_empty());
        assert!(r.backup_codes.is_empty() && r.primary_method.is_none());
        assert_eq!(r.lock.failures(), 3);
        assert!(r.is_required, "an administrator's requirement outlives a reset");
        assert!(r.lost_or_replaced_a_factor_of(&before), "a reset removes factors: other sessions end");
    }

    #[test]
    fn the_first_method_on_is_primary_and_turning_off_moves_it() {
        let mut r = UserMfaRecord::new("u1");
        let setup = |item: &str| PendingSetup { item: Some(item.into()), ..Default::default() };
        let id = r.begin_setup(Material::Passkey { credential: None }, "Key".into(), setup("h"), 5).unwrap();
        assert_eq!(r.state(MfaType::Passkey), MethodState::Pending);
        assert!(r.complete_setup(MfaType::Passkey, Some("other"), None, 6).is_none());
        assert!(r.complete_setup(MfaType::GoogleAuth, None, None, 6).is_none());
        assert_eq!(r.state(MfaType::Passkey), MethodState::Pending, "nothing changed");
        assert_eq!(r.complete_setup(MfaType::Passkey, Some("h"), None, 6).map(|f| f.id.clone()), Some(id));
        assert_eq!(r.primary_method, Some(MfaType::Passkey));
        assert!(r.complete_setup(MfaType::Passkey, Some("h"), None, 6).is_none(), "a setup completes once");
        let before = r.clone();
        r.factors.push(factor(MfaType::GoogleAuth, FactorState::Enabled, "t"));
        assert_eq!(r.primary_method, Some(MfaType::Passkey));
        assert!(!r.lost_or_replaced_a_factor_of(&before), "adding a factor ends no session");
        let before = r.clone();
        r.disable(MfaType::Passkey, false).unwrap();
        assert_eq!(r.primary_method, Some(MfaType::GoogleAuth));
        assert!(r.lost_or_replaced_a_factor_of(&before), "switching one off does");
    }

    #[test]
    fn removing_a_factor_or_replacing_backup_codes_is_losing_a_factor() {
        let mut before =
            record(&[(MfaType::GoogleAuth, MethodState::Enabled), (MfaType::Passkey, MethodState::Disabled)], None);
        before.backup_codes = vec!["a".into(), "b".into()];
        let mut after = before.clone();
        after.remove_factor("f1", false).unwrap();
        assert!(after.lost_or_replaced_a_factor_of(&before), "a disabled passkey removed");
        let mut after = before.clone();
        after.backup_codes = vec!["c".into()];
        assert!(after.lost_or_replaced_a_factor_of(&before), "new backup codes");
        let mut after = before.clone();
        after.backup_codes.remove(0);
        after.factors.push(factor(MfaType::MagicLink, FactorState::Enabled, "m"));
        after.factors[0].last_used_at = Some(9);
        assert!(!after.lost_or_replaced_a_factor_of(&before), "a code spent, a factor added or used");
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
    fn a_record_of_the_shape_before_factors_is_read_into_factors() {
        let old = json!({
            "userId": "u1",
            "methods": {"GOOGLE_AUTH": "ENABLED", "MAGIC_LINK": "DISABLED", "PASSKEY": "ENABLED"},
            "primaryMethod": "GOOGLE_AUTH",
            "totp": {"active": {"kid": "k", "data": "sealed"}, "lastStep": 42},
            "magicLinkEmail": "ada@example.com",
            "passkeys": [{"id": "cred", "name": "Laptop", "createdAt": 7, "counter": 3, "passkey": "{}"}],
            "backupCodes": ["h1"],
            "sessionEpoch": 2,
            "version": 5
        });
        let r: UserMfaRecord = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(r.enabled_methods(), vec![MfaType::GoogleAuth, MfaType::Passkey]);
        assert_eq!(r.state(MfaType::MagicLink), MethodState::Disabled);
        assert_eq!((r.totp_last_step, r.version, r.primary()), (Some(42), 5, Some(MfaType::GoogleAuth)));
        let passkey = r.factors.iter().find(|f| f.kind() == MfaType::Passkey).unwrap();
        assert_eq!((passkey.name.as_str(), passkey.created_at), ("Laptop", 7));
        let again: UserMfaRecord = serde_json::from_value(old).unwrap();
        assert_eq!(r.factors, again.factors, "converted ids are the same at every read");
        // Written back, it is in today's shape, and reads the same.
        let written = serde_json::to_value(&r).unwrap();
        assert!(written.get("methods").is_none() && written.get("totp").is_none(), "{written}");
        assert_eq!(serde_json::from_value::<UserMfaRecord>(written).unwrap(), r);
    }

    #[test]
    fn method_types_round_trip_on_the_wire() {
        for m in MfaType::ALL {
            let v = serde_json::to_value(m).unwrap();
            assert_eq!(v, m.as_str());
            assert_eq!(serde_json::from_value::<MfaType>(v).unwrap(), m);
        }
        assert!(serde_json::from_value::<MfaType>(json!("VOICE")).is_err());
    }
}

impl UserMfaRecord {
    /// A method's state, derived from its factors.
    pub fn state(&self, method: MfaType) -> MethodState {
        let mut state = MethodState::NotConfigured;
        for f in self.factors.iter().filter(|f| f.kind() == method) {
            state = match (state, f.state) {
                (_, FactorState::Enabled) | (MethodState::Enabled, _) => MethodState::Enabled,
                (_, FactorState::Disabled) | (MethodState::Disabled, _) => MethodState::Disabled,
                (_, FactorState::Pending) => MethodState::Pending,
            };
        }
        state
    }

    pub fn factor(&self, id: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.id == id)
    }

    pub fn factor_mut(&mut self, id: &str) -> Option<&mut Factor> {
        self.factors.iter_mut().find(|f| f.id == id)
    }

    /// The enabled factors of `method`, or only `only` among them when given.
    pub fn enabled_factors<'a>(&'a self, method: MfaType, only: Option<&'a str>) -> impl Iterator<Item = &'a Factor> {
        self.factors.iter().filter(move |f| f.kind() == method && f.is_enabled() && only.is_none_or(|id| f.id == id))
    }

    /// The factor of `method` a login is sent to without naming one: `only` when given
    /// and enabled, else the most recently used (or added) enabled one.
    pub fn login_factor<'a>(&'a self, method: MfaType, only: Option<&'a str>) -> Option<&'a Factor> {
        self.enabled_factors(method, only).max_by_key(|f| f.recency())
    }

    /// The setup of `method` waiting for its proof, if one is.
    pub fn pending(&self, method: MfaType) -> Option<&Factor> {
        self.factors.iter().find(|f| f.kind() == method && f.state == FactorState::Pending)
    }

    /// Begins a setup: a new pending factor holding `material`, replacing any setup of the
    /// same type still waiting. Refused when the user already has the most factors of the
    /// type. Returns the new factor's id.
    pub fn begin_setup(
        &mut self,
        material: Material,
        name: String,
        setup: PendingSetup,
        now: i64,
    ) -> Result<String, Refusal> {
        let kind = material.kind();
        let (class, max) = factors::cap(kind);
        let configured = self.factors.iter().filter(|f| class.contains(&f.kind()) && f.state.is_configured()).count();
        if configured >= max {
            return Err(Refusal::FactorLimit { method: kind, max });
        }
        self.factors.retain(|f| !(f.kind() == kind && f.state == FactorState::Pending));
        let id = factors::new_id();
        self.factors.push(Factor {
            id: id.clone(),
            name,
            state: FactorState::Pending,
            created_at: now,
            last_used_at: None,
            setup: Some(setup),
            material,
        });
        Ok(id)
    }

    /// Finishes the pending setup of `method` that `item` (a token or challenge hash; none
    /// for an authenticator, whose pending secret is in the factor) belongs to, and that
    /// is `factor_id` when the caller names one: the factor is enabled (and its method
    /// primary when none is). Returns it; `None`, changing nothing, when no such setup is
    /// pending (never begun, finished already, or replaced by a newer one): every
    /// completion goes through here, so none completes what was not begun.
    pub fn complete_setup(
        &mut self,
        method: MfaType,
        item: Option<&str>,
        factor_id: Option<&str>,
        now: i64,
    ) -> Option<&mut Factor> {
        let index = self.factors.iter().position(|f| {
            f.kind() == method
                && f.state == FactorState::Pending
                && f.setup.as_ref().is_some_and(|s| s.item.as_deref() == item)
                && factor_id.is_none_or(|id| f.id == id)
        })?;
        let had_primary = self.primary().is_some();
        let factor = &mut self.factors[index];
        factor.state = FactorState::Enabled;
        factor.setup = None;
        factor.created_at = factor.created_at.min(now);
        if !had_primary {
            self.primary_method = Some(method);
        }
        Some(&mut self.factors[index])
    }

    /// Forgets the pending setup of `method`, and the backup codes issued with it.
    pub fn void_setup(&mut self, method: MfaType) {
        let before = self.factors.len();
        self.factors.retain(|f| !(f.kind() == method && f.state == FactorState::Pending));
        if self.factors.len() != before && method == MfaType::GoogleAuth {
            self.pending_backup_codes.clear();
        }
    }

    /// Switches every disabled factor of `method` back on. True when something changed (an
    /// enabled method stays as it is); a method never verified cannot be switched on.
    pub fn enable(&mut self, method: MfaType) -> Result<bool, Refusal> {
        if !self.state(method).is_configured() {
            return Err(Refusal::MethodNotConfigured(method));
        }
        let had_primary = self.primary().is_some();
        let mut changed = false;
        for f in self.factors.iter_mut().filter(|f| f.kind() == method && f.state == FactorState::Disabled) {
            f.state = FactorState::Enabled;
            changed = true;
        }
        if changed && !had_primary {
            self.primary_method = Some(method);
        }
        Ok(changed)
    }

    /// Switches every enabled factor of `method` off (they stay configured), unless MFA is
    /// `required` of the user and it is their last method. The primary moves to another
    /// enabled method.
    pub fn disable(&mut self, method: MfaType, required: bool) -> Result<(), Refusal> {
        if !self.state(method).is_enabled() {
            return Err(Refusal::MethodNotEnabled(method));
        }
        if required && self.enabled_methods() == [method] {
            return Err(Refusal::OrgEnforced);
        }
        for f in self.factors.iter_mut().filter(|f| f.kind() == method && f.is_enabled()) {
            f.state = FactorState::Disabled;
        }
        self.move_primary_off(method);
        Ok(())
    }

    /// Removes factor `id`, unless MFA is `required` of the user and it is the last enabled
    /// factor they have. The primary moves when its method has no enabled factor left.
    pub fn remove_factor(&mut self, id: &str, required: bool) -> Result<Factor, Refusal> {
        let index = self.factors.iter().position(|f| f.id == id).ok_or(Refusal::FactorNotFound)?;
        let last = self.factors[index].is_enabled() && self.factors.iter().filter(|f| f.is_enabled()).count() == 1;
        if required && last {
            return Err(Refusal::OrgEnforced);
        }
        let removed = self.factors.remove(index);
        self.move_primary_off(removed.kind());
        Ok(removed)
    }

    /// Renames factor `id`.
    pub fn rename_factor(&mut self, id: &str, name: String) -> Result<(), Refusal> {
        self.factor_mut(id).ok_or(Refusal::FactorNotFound)?.name = name;
        Ok(())
    }

    fn move_primary_off(&mut self, method: MfaType) {
        if self.primary_method == Some(method) && !self.state(method).is_enabled() {
            self.primary_method = self.enabled_methods().first().copied();
        }
    }
}

#[cfg(test)]
mod factor_tests {
    use super::*;
    use crate::crypto::Sealed;
    use crate::factors::*;

    fn totp(state: FactorState, id: &str) -> Factor {
        Factor {
            id: id.into(),
            name: "Authenticator app".into(),
            state,
            created_at: 1,
            last_used_at: None,
            setup: None,
            material: Material::GoogleAuth { secret: Sealed { kid: "k".into(), data: format!("secret-{id}") } },
        }
    }

    #[test]
    fn a_methods_state_is_derived_from_its_factors() {
        let mut r = UserMfaRecord::new("u1");
        assert_eq!(r.state(MfaType::GoogleAuth), MethodState::NotConfigured);
        r.factors.push(totp(FactorState::Pending, "p"));
        assert_eq!(r.state(MfaType::GoogleAuth), MethodState::Pending);
        r.factors.push(totp(FactorState::Disabled, "d"));
        assert_eq!(r.state(MfaType::GoogleAuth), MethodState::Disabled);
        r.factors.push(totp(FactorState::Enabled, "e"));
        assert_eq!(r.state(MfaType::GoogleAuth), MethodState::Enabled);
        assert_eq!(r.state(MfaType::Passkey), MethodState::NotConfigured);
    }

    #[test]
    fn setups_are_capped_and_replace_a_waiting_one() {
        let mut r = UserMfaRecord::new("u1");
        for i in 0..5 {
            r.factors.push(totp(FactorState::Enabled, &format!("e{i}")));
        }
        let material = Material::GoogleAuth { secret: Sealed { kid: "k".into(), data: "n".into() } };
        let setup = PendingSetup::default();
        assert_eq!(
            r.begin_setup(material.clone(), "x".into(), setup.clone(), 5),
            Err(Refusal::FactorLimit { method: MfaType::GoogleAuth, max: 5 })
        );
        r.factors.pop();
        let first = r.begin_setup(material.clone(), "x".into(), setup.clone(), 5).unwrap();
        let second = r.begin_setup(material, "x".into(), setup, 5).unwrap();
        assert!(r.factor(&first).is_none(), "the newer setup replaced the waiting one");
        assert!(r.complete_setup(MfaType::GoogleAuth, None, Some(&first), 6).is_none());
        assert!(r.complete_setup(MfaType::GoogleAuth, None, Some(&second), 6).is_some());
        assert!(r.complete_setup(MfaType::GoogleAuth, None, None, 6).is_none(), "a setup completes once");
    }

    #[test]
    fn removing_the_last_enabled_factor_of_a_required_user_is_refused() {
        let mut r = UserMfaRecord::new("u1");
        r.factors.push(totp(FactorState::Enabled, "a"));
        r.factors.push(totp(FactorState::Disabled, "b"));
        r.primary_method = Some(MfaType::GoogleAuth);
        assert_eq!(r.remove_factor("a", true), Err(Refusal::OrgEnforced));
        assert_eq!(r.remove_factor("x", false), Err(Refusal::FactorNotFound));
        r.remove_factor("b", true).unwrap();
        r.remove_factor("a", false).unwrap();
        assert!(r.primary().is_none() && r.primary_method.is_none());
    }

    #[test]
    fn the_list_holds_no_secret_and_masks_addresses() {
        let mut r = UserMfaRecord::new("u1");
        r.factors.push(totp(FactorState::Enabled, "t"));
        r.factors.push(Factor {
            material: Material::MagicLink { address: "ada@example.com".into() },
            ..totp(FactorState::Enabled, "m")
        });
        let text = serde_json::to_string(&crate::factors::FactorView::list(&r.factors)).unwrap();
        assert!(!text.contains("secret-") && !text.contains("ada@"), "{text}");
        assert!(text.contains("a••@example.com"), "{text}");
        assert_eq!(mask_phone("+14155550100"), "+1••••••••00");
        assert_eq!(derived_id("u", MfaType::Passkey, "c"), derived_id("u", MfaType::Passkey, "c"));
        assert!(new_id().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
