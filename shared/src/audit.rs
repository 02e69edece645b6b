//! The audit trail: every MFA event is an item written in the same transaction as the
//! change it records (`update.rs`), so a change that fails, or loses its conditional
//! write to another request, writes none; a verification that fails, which changes only
//! the failure count, is recorded in that same write. The events are derived here from
//! the change (its action and actor), the record before and after it, and how the step
//! ended: no handler writes one. Each carries the actor, the factor it is about, the
//! request's source IP and User-Agent, and never a secret; it lives `MFA_AUDIT_RETENTION`
//! (seconds, default 400 days). The table's stream carries the items to an EventBridge bus
//! (`template.yaml`).

use serde::{Deserialize, Serialize};

use crate::auth::Origin;
use crate::crypto::random_bytes;
use crate::factors::FactorState;
use crate::model::{MfaType, UserMfaRecord};
use crate::policy::{Action, Actor, Change};

/// Every kind of event, as `GET /mfa/events` and the event bus name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    SetupStarted,
    FactorAdded,
    FactorRenamed,
    FactorRemoved,
    MethodEnabled,
    MethodDisabled,
    VerificationSucceeded,
    VerificationFailed,
    LockedOut,
    BackupCodeUsed,
    BackupCodesRegenerated,
    DeviceRemembered,
    DeviceForgotten,
    SessionsEnded,
    Reset,
    AdminReset,
    EnforcementChanged,
}

impl EventKind {
    /// Every kind, each once (docs/security-model.md's catalogue is held to it).
    pub const ALL: [EventKind; 17] = [
        EventKind::SetupStarted,
        EventKind::FactorAdded,
        EventKind::FactorRenamed,
        EventKind::FactorRemoved,
        EventKind::MethodEnabled,
        EventKind::MethodDisabled,
        EventKind::VerificationSucceeded,
        EventKind::VerificationFailed,
        EventKind::LockedOut,
        EventKind::BackupCodeUsed,
        EventKind::BackupCodesRegenerated,
        EventKind::DeviceRemembered,
        EventKind::DeviceForgotten,
        EventKind::SessionsEnded,
        EventKind::Reset,
        EventKind::AdminReset,
        EventKind::EnforcementChanged,
    ];

    /// Whether the event records a change of the user's factors (one a proof in the
    /// request may have authorized).
    fn is_a_factor_change(self) -> bool {
        matches!(
            self,
            EventKind::SetupStarted
                | EventKind::FactorAdded
                | EventKind::FactorRenamed
                | EventKind::FactorRemoved
                | EventKind::MethodEnabled
                | EventKind::MethodDisabled
                | EventKind::Reset
        )
    }

    /// When it is written (docs/security-model.md's catalogue).
    pub fn describe(self) -> &'static str {
        match self {
            EventKind::SetupStarted => "a setup of a factor began (`factorId`, `mfaType`)",
            EventKind::FactorAdded => "a setup completed: the factor is enabled",
            EventKind::FactorRenamed => "a factor was renamed",
            EventKind::FactorRemoved => {
                "a factor was removed (`detail` `proof: …` when a proof in the request authorized it, e.g. `proof: recovery code`)"
            }
            EventKind::MethodEnabled => "a method's disabled factors were switched back on",
            EventKind::MethodDisabled => "a method's factors were switched off",
            EventKind::VerificationSucceeded => {
                "a second factor passed at login or recovery (`mfaType`; `detail` `device` for a remembered device)"
            }
            EventKind::VerificationFailed => {
                "a second factor was wrong, spent or expired (it counts toward the lockout)"
            }
            EventKind::LockedOut => "five failures in a row locked verification (`detail`: until when)",
            EventKind::BackupCodeUsed => {
                "a backup code was spent, at login, recovery or as a change's proof (`detail`: how many are left)"
            }
            EventKind::BackupCodesRegenerated => "ten new backup codes replaced the old ones",
            EventKind::DeviceRemembered => "a login remembered its device (`factorId`: the device's id)",
            EventKind::DeviceForgotten => "remembered devices were forgotten (`detail`: how many)",
            EventKind::SessionsEnded => "a change ended sessions of the user (`detail`: how many)",
            EventKind::Reset => "the user reset their own MFA (`detail` `proof: …` as for a removal)",
            EventKind::AdminReset => "an administrator reset the user's MFA (`actor`: the administrator)",
            EventKind::EnforcementChanged => {
                "an administrator changed the organization's policy (`detail`: the policy)"
            }
        }
    }
}

/// One event as stored and listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_id: String,
    pub user_id: String,
    pub kind: EventKind,
    /// Unix milliseconds.
    pub at: i64,
    /// `self`, `admin:<id>`, or `link` (whoever held a mailed link).
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_type: Option<MfaType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The table's TTL attribute (seconds).
    pub expires_at: i64,
}

/// The sort key of an event: after the record's `MFA`, newest first (the time inverted),
/// so one Query reads the record and the newest events together.
pub fn sort_key(at_ms: i64, event_id: &str) -> String {
    format!("MFA~AUDIT#{:013}#{event_id}", 9_999_999_999_999 - at_ms.clamp(0, 9_999_999_999_999))
}

/// The prefix every event's sort key has.
pub const SORT_PREFIX: &str = "MFA~AUDIT#";

/// How a step ended, as far as the audit cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Done,
    /// A verification failed and was counted (the record changed only by its count).
    Failed,
}

/// What an event is about, before it has its time and origin.
struct Draft {
    kind: EventKind,
    factor_id: Option<String>,
    mfa_type: Option<MfaType>,
    detail: Option<String>,
}

fn draft(kind: EventKind) -> Draft {
    Draft { kind, factor_id: None, mfa_type: None, detail: None }
}

/// The events a change makes, read off the record before and after it.
pub fn events(
    change: &Change,
    before: &UserMfaRecord,
    after: &UserMfaRecord,
    ending: Ending,
    origin: &Origin,
    retention: u64,
) -> Vec<Event> {
    let mut drafts = Vec::new();
    let factor_draft = |kind: EventKind, f: &crate::factors::Factor| Draft {
        kind,
        factor_id: Some(f.id.clone()),
        mfa_type: Some(f.kind()),
        detail: None,
    };
    if ending == Ending::Failed {
        drafts.push(draft(EventKind::VerificationFailed));
        if after.lock.until().is_some() && after.lock.until() != before.lock.until() {
            drafts.push(Draft { detail: after.lock.until().map(|t| t.to_string()), ..draft(EventKind::LockedOut) });
        }
    } else {
        let reset = matches!(change.action, Action::ResetSelf | Action::ResetMember);
        match change.action {
            Action::ResetSelf => drafts.push(draft(EventKind::Reset)),
            Action::ResetMember => drafts.push(draft(EventKind::AdminReset)),
            _ => {}
        }
        for f in &after.factors {
            match (before.factor(&f.id), f.state) {
                (None, FactorState::Pending) => drafts.push(factor_draft(EventKind::SetupStarted, f)),
                (Some(old), FactorState::Enabled) if old.state == FactorState::Pending => {
                    drafts.push(factor_draft(EventKind::FactorAdded, f))
                }
                // A setup that proved what a switched-off factor holds (an address proven
                // again) switches that factor back on instead of adding another.
                (Some(old), FactorState::Enabled)
                    if old.state == FactorState::Disabled && change.action == Action::CompleteSetup =>
                {
                    drafts.push(factor_draft(EventKind::FactorAdded, f))
                }
                (Some(old), _) if old.name != f.name => drafts.push(factor_draft(EventKind::FactorRenamed, f)),
                _ => {}
            }
        }
        if !reset {
            for f in before.factors.iter().filter(|f| f.state.is_configured() && after.factor(&f.id).is_none()) {
                drafts.push(factor_draft(EventKind::FactorRemoved, f));
            }
        }
        for method in MfaType::ALL {
            let (was, is) = (before.state(method), after.state(method));
            // A factor switched back on is one, also beside another of the method that was
            // on already.
            let switched_on = after.factors.iter().any(|f| {
                f.kind() == method
                    && f.state == FactorState::Enabled
                    && before.factor(&f.id).is_some_and(|old| old.state == FactorState::Disabled)
            });
            if change.action == Action::Enable && ((!was.is_enabled() && is.is_enabled()) || switched_on) {
                drafts.push(Draft { mfa_type: Some(method), ..draft(EventKind::MethodEnabled) });
            }
            if change.action == Action::Disable && was.is_enabled() && !is.is_enabled() {
                drafts.push(Draft { mfa_type: Some(method), ..draft(EventKind::MethodDisabled) });
            }
        }
        let new_session = after.sessions.keys().any(|id| !before.sessions.contains_key(id));
        if change.action == Action::Verify && new_session {
            let used = after.spent_a_backup_code_of(before);
            let by_device = after.sessions.iter().any(|(id, s)| s.by_device && !before.sessions.contains_key(id));
            let method = after
                .factors
                .iter()
                .filter(|f| before.factor(&f.id).is_some_and(|b| b.last_used_at != f.last_used_at))
                .map(|f| (f.id.clone(), f.kind()))
                .next();
            let detail = if used {
                Some("backup code".to_string())
            } else if by_device {
                Some("device".to_string())
            } else {
                None
            };
            drafts.push(Draft {
                kind: EventKind::VerificationSucceeded,
                factor_id: method.as_ref().map(|(id, _)| id.clone()),
                mfa_type: method.map(|(_, m)| m),
                detail,
            });
            if used {
                drafts.push(Draft {
                    detail: Some(format!("{} left", after.backup_codes.len())),
                    ..draft(EventKind::BackupCodeUsed)
                });
            }
        }
        if change.action != Action::Verify && change.spent_recovery_code(before, after) {
            drafts.push(Draft {
                detail: Some(format!("{} left", after.backup_codes.len())),
                ..draft(EventKind::BackupCodeUsed)
            });
        }
        // A change made on a proof in the request says which kind of proof it was.
        if let Some(proof) = change.proof {
            for d in drafts.iter_mut().filter(|d| d.detail.is_none() && d.kind.is_a_factor_change()) {
                d.detail = Some(format!("proof: {}", proof.name()));
            }
        }
        if change.action == Action::RegenerateBackupCodes && before.backup_codes != after.backup_codes {
            drafts.push(draft(EventKind::BackupCodesRegenerated));
        }
        for id in after.devices.keys().filter(|id| !before.devices.contains_key(*id)) {
            drafts.push(Draft { factor_id: Some(id.clone()), ..draft(EventKind::DeviceRemembered) });
        }
        // Only what was live: expired entries cleaned up on the way are no event.
        let forgotten = before
            .devices
            .iter()
            .filter(|(id, d)| change.now < d.expires_at && !after.devices.contains_key(*id))
            .count();
        if forgotten > 0 {
            drafts.push(Draft { detail: Some(format!("{forgotten} forgotten")), ..draft(EventKind::DeviceForgotten) });
        }
        let ended = before
            .sessions
            .iter()
            .filter(|(id, s)| change.now < s.ends_at && !after.sessions.contains_key(*id))
            .count();
        if ended > 0 {
            drafts.push(Draft { detail: Some(format!("{ended} ended")), ..draft(EventKind::SessionsEnded) });
        }
    }
    let at = milliseconds(change.now, drafts.len());
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| Event {
            event_id: event_id(),
            user_id: after.user_id.clone(),
            kind: d.kind,
            // Events of one change keep their order.
            at: at + i as i64,
            actor: actor(&change.actor),
            factor_id: d.factor_id,
            mfa_type: d.mfa_type,
            detail: d.detail,
            source_ip: origin.source_ip.clone(),
            user_agent: origin.user_agent.clone(),
            expires_at: change.now + retention as i64,
        })
        .collect()
}

/// An event of the organization's policy, recorded with the administrator who changed it.
pub fn enforcement_changed(change: &Change, admin_id: &str, detail: String, origin: &Origin, retention: u64) -> Event {
    Event {
        event_id: event_id(),
        user_id: admin_id.to_string(),
        kind: EventKind::EnforcementChanged,
        at: milliseconds(change.now, 1),
        actor: actor(&change.actor),
        factor_id: None,
        mfa_type: None,
        detail: Some(detail),
        source_ip: origin.source_ip.clone(),
        user_agent: origin.user_agent.clone(),
        expires_at: change.now + retention as i64,
    }
}

/// The time of a change's first event in Unix milliseconds: the change's second (the
/// application's clock, which tests move) and the wall clock's milliseconds within it, so
/// the changes of one second keep their order; room is left for the change's `count`
/// events to follow in the same second.
fn milliseconds(now: i64, count: usize) -> i64 {
    let wall =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    milliseconds_at(now, count, wall)
}

/// [`milliseconds`] with the wall clock read at `wall_ms`.
fn milliseconds_at(now: i64, count: usize, wall_ms: i64) -> i64 {
    let last = 999 - count.min(999) as i64;
    let within = match wall_ms.div_euclid(1000) - now {
        0 => wall_ms.rem_euclid(1000).min(last),
        // The second the change read has passed while it ran (a request lasts seconds at
        // most): its events go at that second's end, after every change made within it and
        // before any change that reads the next.
        1..=60 => last,
        // A clock that tests set: the wall's milliseconds keep that second's changes in order.
        _ => wall_ms.rem_euclid(1000).min(last),
    };
    now * 1000 + within
}

fn actor(actor: &Actor) -> String {
    match actor {
        // The platform's backend acting for the user says so (`server`, `server:<name>`).
        Actor::User(p) => p.server.clone().unwrap_or_else(|| "self".into()),
        Actor::Admin(admin) => format!("admin:{}", admin.user_id),
        Actor::LinkHolder => "link".into(),
    }
}

fn event_id() -> String {
    random_bytes::<8>().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::milliseconds_at;

    const SECOND: i64 = 1_800_000_000;

    #[test]
    fn a_change_whose_second_ends_while_it_runs_is_not_dated_before_that_seconds_changes() {
        // One change read its second and wrote at 900 ms into it; the next read the same
        // second but wrote its events 10 ms into the next.
        let first = milliseconds_at(SECOND, 1, SECOND * 1000 + 900);
        let second = milliseconds_at(SECOND, 3, (SECOND + 1) * 1000 + 10);
        assert!(second > first, "{second} is not after {first}");
        assert!(second + 2 < (SECOND + 1) * 1000, "its events stay in the second it read");
        // A change that reads the next second is after both.
        assert!(milliseconds_at(SECOND + 1, 1, (SECOND + 1) * 1000 + 20) > second + 2);
    }

    #[test]
    fn within_its_second_a_change_takes_the_walls_milliseconds_leaving_room_for_its_events() {
        assert_eq!(milliseconds_at(SECOND, 2, SECOND * 1000 + 123), SECOND * 1000 + 123);
        assert_eq!(milliseconds_at(SECOND, 2, SECOND * 1000 + 999), SECOND * 1000 + 997);
        // A clock set an hour on keeps the wall's milliseconds.
        assert_eq!(milliseconds_at(SECOND + 3600, 1, SECOND * 1000 + 42), (SECOND + 3600) * 1000 + 42);
    }
}
