//! Factors, the unit of MFA state: every enrolled thing (an authenticator app, a magic-link
//! address, a passkey) is a factor with an opaque id, a name, created and last-used times,
//! its own state (`Pending → Enabled ⇄ Disabled`) and its own secret material. A method's
//! state (`GET /mfa/status`, `GET /mfa/methods`) is derived from its factors: enabled when
//! any of them is, else disabled when any is configured, else pending when a setup is
//! waiting. Here too: the caps per type, the factor list a user sees (never a secret), and
//! the record's factor operations (begin, complete, switch, rename, remove).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::{Sealed, random_bytes, sha256_hex};
use crate::method::MfaType;
use crate::model::{MethodState, PendingSetup, UserMfaRecord};
use crate::refusal::Refusal;

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
    pub fn list(record: &UserMfaRecord) -> Vec<FactorView> {
        record
            .factors
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
        let (class, max) = cap(kind);
        let configured = self.factors.iter().filter(|f| class.contains(&f.kind()) && f.state.is_configured()).count();
        if configured >= max {
            return Err(Refusal::FactorLimit { method: kind, max });
        }
        self.factors.retain(|f| !(f.kind() == kind && f.state == FactorState::Pending));
        let id = new_id();
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
mod tests {
    use super::*;

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
        let text = serde_json::to_string(&FactorView::list(&r)).unwrap();
        assert!(!text.contains("secret-") && !text.contains("ada@"), "{text}");
        assert!(text.contains("a••@example.com"), "{text}");
        assert_eq!(mask_phone("+14155550100"), "+1••••••••00");
        assert_eq!(derived_id("u", MfaType::Passkey, "c"), derived_id("u", MfaType::Passkey, "c"));
        assert!(new_id().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
