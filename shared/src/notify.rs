//! Notices to the user, by mail through SES v2, after every change to their MFA. They
//! name what changed and when, and never carry a secret, code or link. Sending is best
//! effort: the change is already made, so a mail failure is logged, not returned.

use crate::App;
use crate::mail::{Mail, html_escape};
use crate::model::MfaType;

pub enum Notice {
    MethodEnabled(MfaType),
    MethodDisabled(MfaType),
    Reset { by_admin: bool },
    PasskeyAdded { name: String },
    BackupCodeUsed { left: usize },
    CodesRegenerated,
}

impl Notice {
    fn text(&self) -> (String, String) {
        match self {
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
            Notice::Reset { by_admin: false } => {
                ("Your two-step sign-in was reset".into(), "All two-step sign-in methods were removed from your account.".into())
            }
            Notice::PasskeyAdded { name } => ("A passkey was added".into(), format!("A passkey named \"{name}\" was added to your account.")),
            Notice::BackupCodeUsed { left } => (
                "A backup code was used".into(),
                format!("A backup code was used to sign in to your account. You have {left} unused backup code(s) left."),
            ),
            Notice::CodesRegenerated => (
                "New backup codes were created".into(),
                "New backup codes were created for your account; the old ones no longer work.".into(),
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

/// Mails `notice` to `to`, if there is an address; logs instead of failing.
pub async fn send(app: &App, to: Option<&str>, notice: Notice) {
    let Some(to) = to.filter(|t| !t.is_empty()) else {
        tracing::info!("no email address for a notice; none sent");
        return;
    };
    let mailer = match app.mailer() {
        Ok(m) => m,
        Err(_) => return,
    };
    if let Err(e) = mailer.send(notice.mail(to)).await {
        tracing::warn!(error = %e, "a change notice could not be sent");
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
}
