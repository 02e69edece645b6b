//! Notices to the user, by mail through SES v2, after every change to their MFA and
//! after a lockout. They go to every address the user had before the change (so someone
//! who adds their own address is not the only one told), name what changed, and never
//! carry a secret, code or link. Sending is best effort: the change is already made, so
//! a mail failure is logged, not returned.

use crate::App;
use crate::mail::{Mail, html_escape};
use crate::model::{MfaType, UserMfaRecord};

#[derive(Debug)]
pub enum Notice {
    /// A setup began while the user has MFA: a factor is being added (for MAGIC_LINK, the
    /// address links would go to).
    SetupStarted {
        method: MfaType,
        address: Option<String>,
    },
    MethodEnabled(MfaType),
    MethodDisabled(MfaType),
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
            Notice::MethodEnabled(m) => {
                ("Two-step sign-in method turned on".into(), format!("{} was turned on for your account.", m.name()))
            }
            Notice::MethodDisabled(m) => {
                ("Two-step sign-in method turned off".into(), format!("{} was turned off for your account.", m.name()))
            }
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
        let address = address.trim();
        if !address.is_empty() && !to.iter().any(|t| t.eq_ignore_ascii_case(address)) {
            to.push(address.to_string());
        }
    }
    to
}

/// Mails `notice` to each address in `to`, all at once (so a slow SES costs one mail's
/// time, not one per address); logs instead of failing.
pub async fn send(app: &App, to: &[String], notice: Notice) {
    if to.is_empty() {
        tracing::info!("no email address for a notice; none sent");
        return;
    }
    let Ok(mailer) = app.mailer() else { return };
    let sends = to.iter().map(|address| mailer.send(notice.mail(address)));
    for result in futures_util::future::join_all(sends).await {
        if let Err(e) = result {
            tracing::warn!(error = %e, "a change notice could not be sent");
        }
    }
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
