//! Notices to the user, by mail through SES v2, after every change to their MFA and
//! after a lockout. They go to every address the user had before the change (so someone
//! who adds their own address is not the only one told), name what changed, and never
//! carry a secret, code or link.
//!
//! A change's notices are read off its audit events ([`of_change`], in `update.rs`, for
//! every change alike) and ride in the change's own write, in the user's login state
//! (`store::PENDING_NOTICES`), beside the events: no handler sends one, and a change that
//! fails or loses its write sends none. The audit writer mails them from the table's
//! stream once it stored the events (`outbox.rs`), so no request waits on SES for a
//! notice. Sending is best effort: the change is already made, so a mail SES refuses is
//! logged and counted, never retried into the audit trail's way.

use serde::{Deserialize, Serialize};

use crate::audit::{Event, EventKind};
use crate::factors::Material;
use crate::mail::{Mail, Mailer, html_escape};
use crate::model::{MfaType, UserMfaRecord};
use crate::policy::Change;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Notice {
    /// A setup began while the user has MFA: a factor is being added (for MAGIC_LINK, the
    /// address links would go to).
    SetupStarted {
        method: MfaType,
        address: Option<String>,
    },
    MethodEnabled {
        method: MfaType,
    },
    MethodDisabled {
        method: MfaType,
    },
    Reset {
        by_admin: bool,
    },
    PasskeyAdded {
        name: String,
    },
    FactorRemoved {
        method: MfaType,
        name: String,
    },
    BackupCodeUsed {
        left: usize,
    },
    CodesRegenerated,
    /// Five failed second-factor checks locked verification for this many minutes.
    LockedOut {
        minutes: i64,
    },
}

impl Notice {
    fn text(&self) -> (String, String) {
        match self {
            Notice::SetupStarted { method, address } => {
                let what = match (method, address) {
                    (MfaType::GoogleAuth, _) => "A new authenticator app is being added to your account.".to_string(),
                    (MfaType::Passkey, _) => "A new passkey is being added to your account.".to_string(),
                    (MfaType::MagicLink, Some(address)) => {
                        format!("A new address for sign-in links, {address}, is being added to your account.")
                    }
                    (MfaType::MagicLink, None) => {
                        "A new address for sign-in links is being added to your account.".into()
                    }
                    (MfaType::EmailOtp, Some(address)) => {
                        format!("A new address for sign-in codes, {address}, is being added to your account.")
                    }
                    (MfaType::EmailOtp, None) => {
                        "A new address for sign-in codes is being added to your account.".into()
                    }
                    (MfaType::Sms, Some(phone)) => {
                        format!("A new phone for sign-in codes, {phone}, is being added to your account.")
                    }
                    (MfaType::Sms, None) => "A new phone for sign-in codes is being added to your account.".into(),
                };
                ("A sign-in method is being added".into(), what)
            }
            Notice::MethodEnabled { method } => (
                "Two-step sign-in method turned on".into(),
                format!("{} was turned on for your account.", method.name()),
            ),
            Notice::MethodDisabled { method } => (
                "Two-step sign-in method turned off".into(),
                format!("{} was turned off for your account.", method.name()),
            ),
            Notice::Reset { by_admin: true } => (
                "Your two-step sign-in was reset".into(),
                "An administrator of your organization reset your two-step sign-in methods.".into(),
            ),
            Notice::Reset { by_admin: false } => (
                "Your two-step sign-in was reset".into(),
                "All two-step sign-in methods were removed from your account.".into(),
            ),
            Notice::FactorRemoved { method, name } => (
                "A sign-in method was removed".into(),
                format!("{} \"{name}\" was removed from your account.", method.name()),
            ),
            Notice::PasskeyAdded { name } => {
                ("A passkey was added".into(), format!("A passkey named \"{name}\" was added to your account."))
            }
            Notice::BackupCodeUsed { left } => (
                "A backup code was used".into(),
                format!(
                    "A backup code was used to sign in to your account. You have {left} unused backup code(s) left."
                ),
            ),
            Notice::CodesRegenerated => (
                "New backup codes were created".into(),
                "New backup codes were created for your account; the old ones no longer work.".into(),
            ),
            Notice::LockedOut { minutes } => (
                "Sign-in attempts blocked".into(),
                format!(
                    "Someone failed five second-factor checks in a row for your account, so they are blocked for {minutes} minutes."
                ),
            ),
        }
    }

    pub fn mail(&self, to: &str) -> Mail {
        let (subject, what) = self.text();
        let advice = "If this was not you, contact your administrator and change your password now.";
        Mail {
            to: to.to_string(),
            text: format!("{what}\n\n{advice}\n"),
            html: format!(
                "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p></body></html>",
                html_escape(&what),
                html_escape(advice)
            ),
            subject,
        }
    }
}

/// The addresses a user has before a change: the email of the token they act with (if
/// they act themselves), the address their record is bound to, and every address they
/// have proven (for links or codes); each once.
pub fn recipients(before: &UserMfaRecord, actor_email: Option<&str>) -> Vec<String> {
    let mut to: Vec<String> = Vec::new();
    let proven = before.factors.iter().filter(|f| f.state.is_configured()).filter_map(|f| f.material.address());
    for address in [actor_email, before.email.as_deref()].into_iter().flatten().chain(proven) {
        add(&mut to, address);
    }
    to
}

/// One notice as it rides in a change's write: whom it goes to, and the id of the audit
/// event it tells of (one notice per event at most; a mail that fails names it in the log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub id: String,
    pub to: Vec<String>,
    pub notice: Notice,
}

/// The notices a change makes, read off the events it makes (`audit::events`), with the
/// record before and after it. Each goes to every address the user had before the change
/// ([`recipients`]), except that
/// - a setup that began is news only to a user who already has MFA (one enrolling a first
///   factor started it themselves);
/// - an address just proven for links or codes hears that it was added too.
pub fn of_change(change: &Change, before: &UserMfaRecord, after: &UserMfaRecord, events: &[Event]) -> Vec<Outgoing> {
    // Worked out only for a change that tells of something (most logins do not).
    let everyone = std::cell::OnceCell::new();
    let factor = |event: &Event| {
        let id = event.factor_id.as_deref()?;
        after.factor(id).or_else(|| before.factor(id))
    };
    let mut outgoing = Vec::new();
    for event in events {
        // An address the notice also goes to: one just proven.
        let mut proven = None;
        let notice = match event.kind {
            EventKind::SetupStarted if before.has_mfa_enabled() => {
                let Some(f) = factor(event) else { continue };
                let address = match &f.material {
                    Material::MagicLink { address } => Some(address.clone()),
                    material => material.hint(),
                };
                Notice::SetupStarted { method: f.kind(), address }
            }
            EventKind::FactorAdded => {
                let Some(f) = factor(event) else { continue };
                proven = f.material.address();
                match f.kind() {
                    MfaType::Passkey => Notice::PasskeyAdded { name: f.name.clone() },
                    method => Notice::MethodEnabled { method },
                }
            }
            EventKind::FactorRemoved => {
                let Some(f) = factor(event) else { continue };
                Notice::FactorRemoved { method: f.kind(), name: f.name.clone() }
            }
            EventKind::MethodEnabled => match event.mfa_type {
                Some(method) => Notice::MethodEnabled { method },
                None => continue,
            },
            EventKind::MethodDisabled => match event.mfa_type {
                Some(method) => Notice::MethodDisabled { method },
                None => continue,
            },
            EventKind::Reset => Notice::Reset { by_admin: false },
            EventKind::AdminReset => Notice::Reset { by_admin: true },
            EventKind::BackupCodeUsed => Notice::BackupCodeUsed { left: after.backup_codes.len() },
            EventKind::BackupCodesRegenerated => Notice::CodesRegenerated,
            EventKind::LockedOut => Notice::LockedOut { minutes: crate::lockout::LOCK_SECONDS / 60 },
            _ => continue,
        };
        let mut to = everyone.get_or_init(|| recipients(before, change.actor.user_email())).clone();
        if let Some(address) = proven {
            add(&mut to, address);
        }
        if to.is_empty() {
            tracing::info!("no email address for a notice; none sent");
            continue;
        }
        outgoing.push(Outgoing { id: event.event_id.clone(), to, notice });
    }
    outgoing
}

fn add(to: &mut Vec<String>, address: &str) {
    let address = address.trim();
    if !address.is_empty() && !to.iter().any(|t| t.eq_ignore_ascii_case(address)) {
        to.push(address.to_string());
    }
}

/// Mails `outgoing` to each of its addresses, all at once (so a slow SES costs one mail's
/// time, not one per address); how many SES refused (each logged and counted).
pub async fn send(mailer: &Mailer, outgoing: &Outgoing) -> usize {
    let sends = outgoing.to.iter().map(|address| mailer.send(outgoing.notice.mail(address)));
    let mut failed = 0;
    for result in futures_util::future::join_all(sends).await {
        if let Err(e) = result {
            failed += 1;
            crate::metrics::dependency_failed(crate::refusal::Dependency::Mail);
            tracing::warn!(error = %e, event_id = %outgoing.id, "a change notice could not be sent");
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_say_what_changed() {
        let m = Notice::BackupCodeUsed { left: 7 }.mail("a@b.io");
        assert!(m.text.contains("7 unused"));
        assert!(m.html.contains("backup code"));
        let m = Notice::PasskeyAdded { name: "<Laptop>".into() }.mail("a@b.io");
        assert!(m.html.contains("&lt;Laptop&gt;"));
    }

    #[test]
    fn every_address_the_user_had_hears_once() {
        let mut before = UserMfaRecord::new("u1");
        before.email = Some("Ada@Example.com".into());
        before.factors.push(crate::factors::Factor {
            id: "f".into(),
            name: "links".into(),
            state: crate::factors::FactorState::Disabled,
            created_at: 0,
            last_used_at: None,
            setup: None,
            material: crate::factors::Material::MagicLink { address: "links@example.org".into() },
        });
        assert_eq!(recipients(&before, Some("ada@example.com")), ["ada@example.com", "links@example.org"]);
        assert_eq!(recipients(&UserMfaRecord::new("u2"), None), Vec::<String>::new());
    }
}
