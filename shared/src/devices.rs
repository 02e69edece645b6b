//! Remembered devices: a login with `rememberDevice: true` also returns a device token
//! (256 random bits, stored only as its SHA-256 in the user's record, with a name from
//! the User-Agent, when it was remembered and last used, and its end). The platform
//! presents it at the next login (`verify-login` `{mfaType: "DEVICE", deviceToken}`) and
//! gets a full-access token without a second factor, whose `auth_time` is the one of the
//! login that remembered the device and whose `amr` says `device`: it never satisfies
//! step-up. Every remembered device is forgotten when a factor is added, replaced, removed
//! or reset, a backup code is used or an administrator resets the user (`update::settle`);
//! the user may forget one or all. Lifetime: `MFA_DEVICE_LIFETIME` (default 14 days),
//! which an organization may shorten or set to 0 (no remembering).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, SecretString, random_bytes, sha256_hex};
use crate::model::{OrgPolicy, RememberDeviceRule, RememberedDevice, UserMfaRecord};
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::sessions::{self, Remember, Session};
use crate::update;

pub use crate::config::DEFAULT_DEVICE_LIFETIME as DEFAULT_LIFETIME;
/// Devices one user may have remembered at once; another forgets the oldest.
pub const MAX_DEVICES: usize = 20;

/// One entry of `GET /mfa/devices`: never the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    pub device_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: i64,
}

impl DeviceView {
    /// The live devices, the most recently remembered first.
    pub fn list(record: &UserMfaRecord, now: i64) -> Vec<DeviceView> {
        let mut views: Vec<DeviceView> = record
            .devices
            .iter()
            .filter(|(_, d)| now < d.expires_at)
            .map(|(id, d)| DeviceView {
                device_id: id.clone(),
                name: d.name.clone(),
                created_at: d.created_at,
                last_used_at: d.last_used_at,
                expires_at: d.expires_at,
            })
            .collect();
        views.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.device_id.cmp(&b.device_id)));
        views
    }
}

/// How long a device of a member of `policy`'s organization may be remembered, in
/// seconds (0: not at all), given the deployment's `lifetime`.
pub fn allowed_lifetime(lifetime: u64, policy: Option<&OrgPolicy>) -> u64 {
    match policy.and_then(|p| p.remember_device_days) {
        Some(days) => lifetime.min(days as u64 * 86_400),
        None => lifetime,
    }
}

/// A device name from a User-Agent: the browser and the system, e.g. "Chrome on Linux".
pub fn name_from(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else { return "Unknown device".into() };
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .into_iter()
        .find(|(tag, _)| ua.contains(tag))
        .map(|(_, name)| name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(tag, _)| ua.contains(tag))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => ua.chars().filter(|c| !c.is_control()).take(40).collect(),
    }
}

/// A login with a remembered device (`verify-login` `{mfaType: "DEVICE", deviceToken}`):
/// one read of the record (with the policy of the organization it is bound to) and one
/// write. Refused while verification is locked, when the token names another
/// organization than the one the record is bound to (a device stands in for a factor only
/// under its own organization's token), when
/// that organization no longer allows remembering or allows it for less time than the
/// device has been remembered or changed its rules since, and when the token is unknown,
/// expired or forgotten. A refused login changes nothing.
/// A wrong device token is not counted toward the lockout: it cannot be guessed, and a
/// forgotten device's token is presented in good faith.
pub async fn log_in(app: &App, principal: &Principal, token: &SecretString) -> Result<Session, Refusal> {
    let now = app.clock.now();
    let change = Change::by_user(Action::Verify, principal, now);
    update::user_with(
        app,
        principal.user_id.as_str(),
        &change,
        |record, policy| {
            record.lock.check(now)?;
            if record.org_id != principal.org_id || !record.has_mfa_enabled() {
                return Err(Refusal::DeviceNotRemembered);
            }
            let allowed = allowed_lifetime(app.device_lifetime, policy) as i64;
            let (id, device) = record.remembered_device(token, now).ok_or(Refusal::DeviceNotRemembered)?;
            // Within the organization's lifetime, and remembered since its rules last
            // changed (a ban lifted revives no device remembered before or during it).
            let valid_from = policy.and_then(|p| p.devices_valid_from).unwrap_or(i64::MIN);
            // (The second of the change itself counts as before it.)
            if now >= device.created_at + allowed || device.created_at <= valid_from {
                return Err(Refusal::DeviceNotRemembered);
            }
            record.mark_device_used(&id, now);
            // The session ends with the device, at the latest.
            let ends_by = device.expires_at.min(device.created_at + allowed);
            let session = sessions::start_by_device(app, principal, &id, &device, ends_by, record, now)?;
            Ok((session, Vec::new()))
        },
        || Refusal::DeviceNotRemembered,
    )
    .await
}

/// Whether the caller may have their device remembered, and for how long (seconds):
/// `GET /mfa/remember-device`, and the same in `GET /mfa/status`.
pub fn remembering(app: &App, policy: Option<&OrgPolicy>) -> RememberDeviceRule {
    let lifetime = allowed_lifetime(app.device_lifetime, policy);
    RememberDeviceRule { is_allowed_to_remember: lifetime > 0, lifetime_seconds: lifetime }
}

impl UserMfaRecord {
    /// Remembers a device for `lifetime` seconds from `now`, after a login with `amr` at
    /// `auth_time` that started session `session_id`: returns the device's id and its
    /// token (shown once). Expired devices are dropped; beyond [`MAX_DEVICES`] the oldest
    /// is forgotten.
    pub fn remember_device(
        &mut self,
        remember: &Remember,
        amr: Vec<String>,
        auth_time: i64,
        session_id: &str,
        now: i64,
    ) -> (String, SecretString) {
        self.devices.retain(|_, d| now < d.expires_at);
        while self.devices.len() >= MAX_DEVICES {
            let Some(oldest) = self.devices.iter().min_by_key(|(_, d)| d.created_at).map(|(id, _)| id.clone()) else {
                break;
            };
            self.devices.remove(&oldest);
        }
        let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let id = format!("d{}", URL_SAFE_NO_PAD.encode(random_bytes::<12>()));
        self.devices.insert(
            id.clone(),
            RememberedDevice {
                token_hash: sha256_hex(token.as_bytes()),
                name: remember.name.clone(),
                created_at: now,
                last_used_at: None,
                expires_at: now + remember.lifetime as i64,
                amr,
                auth_time,
                session_id: Some(session_id.to_string()),
            },
        );
        (id, token.into())
    }

    /// The live device a presented token belongs to (its id); nothing changes.
    pub fn remembered_device(&self, token: &SecretString, now: i64) -> Option<(String, RememberedDevice)> {
        let hash = sha256_hex(token.expose_secret().trim().as_bytes());
        let (id, device) = self.devices.iter().find(|(_, d)| d.token_hash == hash && now < d.expires_at)?;
        Some((id.clone(), device.clone()))
    }

    /// Marks device `id` used at `now` (after every check of its login passed).
    pub fn mark_device_used(&mut self, id: &str, now: i64) {
        if let Some(device) = self.devices.get_mut(id) {
            device.last_used_at = Some(now);
        }
    }

    /// Forgets one remembered device; false when there is none of that id.
    pub fn forget_device(&mut self, id: &str) -> bool {
        self.devices.remove(id).is_some()
    }

    /// Forgets every remembered device.
    pub fn forget_devices(&mut self) {
        self.devices.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_found_by_its_token_until_it_expires_and_is_stored_hashed() {
        let mut r = UserMfaRecord::new("u1");
        let remember = Remember { name: "Chrome on Linux".into(), lifetime: 1000 };
        let (id, token) = r.remember_device(&remember, vec!["pwd".into(), "otp".into()], 100, "s1", 100);
        assert!(!serde_json::to_string(&r).unwrap().contains(token.expose_secret()), "only the hash is stored");
        assert_eq!(r.remembered_device(&token, 500).map(|(_, d)| d.auth_time), Some(100));
        r.mark_device_used(&id, 500);
        assert_eq!(r.devices[&id].last_used_at, Some(500));
        assert!(r.remembered_device(&token, 1100).is_none(), "expired");
        assert!(r.remembered_device(&"other".to_string().into(), 500).is_none());
        r.forget_devices();
        assert!(r.remembered_device(&token, 500).is_none(), "forgotten");
    }

    #[test]
    fn ending_the_session_that_remembered_a_device_forgets_it() {
        let mut r = UserMfaRecord::new("u1");
        let remember = Remember { name: "d".into(), lifetime: 1000 };
        for s in ["s1", "s2"] {
            r.sessions.insert(
                s.into(),
                crate::model::LiveSession {
                    started_at: 100,
                    ends_at: 200,
                    by_device: false,
                    device: None,
                    ..Default::default()
                },
            );
            r.remember_device(&remember, vec![], 100, s, 100);
        }
        r.end_session("s1");
        assert_eq!(r.devices.len(), 1);
        assert_eq!(r.devices.values().next().and_then(|d| d.session_id.as_deref()), Some("s2"));
        r.end_sessions_except(None);
        assert!(r.devices.is_empty());
    }

    #[test]
    fn an_organization_shortens_or_forbids_remembering() {
        let policy = |days| OrgPolicy { remember_device_days: Some(days), ..Default::default() };
        assert_eq!(allowed_lifetime(DEFAULT_LIFETIME, None), DEFAULT_LIFETIME);
        assert_eq!(allowed_lifetime(DEFAULT_LIFETIME, Some(&policy(3))), 3 * 86_400);
        assert_eq!(allowed_lifetime(DEFAULT_LIFETIME, Some(&policy(0))), 0);
        assert_eq!(allowed_lifetime(86_400, Some(&policy(30))), 86_400, "never longer than the deployment's");
    }

    #[test]
    fn names_come_from_the_user_agent() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(name_from(Some(chrome)), "Chrome on Linux");
        assert_eq!(name_from(Some("curl/8.5.0")), "curl/8.5.0");
        assert_eq!(name_from(None), "Unknown device");
    }
}
