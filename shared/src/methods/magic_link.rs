//! Email magic links: single-use tokens of 256 bits, stored only as SHA-256 hashes, living
//! 10 minutes, bound to their purpose (an activation token cannot log in and a login token
//! cannot activate), and a per-user send limit.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::{random_bytes, sha256_hex};
use crate::mail::{Mail, html_escape};

pub const TOKEN_LIFETIME: i64 = 10 * 60;
/// At most one mail a minute…
pub const MIN_INTERVAL: i64 = 60;
/// …and five an hour.
pub const MAX_PER_HOUR: usize = 5;
const HOUR: i64 = 3600;

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

/// The stored side of a link (`TOKEN#<sha256(token)>` / `TOKEN`).
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

/// A new token (what goes into the link) and its hash (what is stored).
pub fn new_token() -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

/// The stored key of a token as presented, if it has the shape of one.
pub fn hash_presented(token: &str) -> Option<String> {
    let token = token.trim();
    let ok = token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| sha256_hex(token.as_bytes()))
}

/// Seconds to wait before another mail may be sent, given the recent send times.
pub fn send_wait(sent: &[i64], now: i64) -> Option<i64> {
    let recent: Vec<i64> = sent.iter().copied().filter(|t| now - t < HOUR).collect();
    let mut wait = 0;
    if let Some(last) = recent.iter().max() {
        wait = wait.max(last + MIN_INTERVAL - now);
    }
    if recent.len() >= MAX_PER_HOUR {
        let mut sorted = recent.clone();
        sorted.sort_unstable();
        wait = wait.max(sorted[recent.len() - MAX_PER_HOUR] + HOUR - now);
    }
    (wait > 0).then_some(wait)
}

/// Records a send, keeping only the last hour.
pub fn record_send(sent: &mut Vec<i64>, now: i64) {
    sent.retain(|t| now - t < HOUR);
    sent.push(now);
}

/// A minimal check that `email` can be a mail address (SES validates the rest).
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
}

pub fn mail(purpose: Purpose, to: &str, link: &str) -> Mail {
    let (subject, intro, ignore) = match purpose {
        Purpose::Activate => (
            "Confirm sign-in links for your account",
            "Open this link to turn on email sign-in links as a second step when you sign in:",
            "If you did not ask for this, ignore this email; nothing changes until the link is opened.",
        ),
        Purpose::Login => (
            "Your sign-in link",
            "Open this link to finish signing in:",
            "If you are not signing in right now, ignore this email and consider changing your password.",
        ),
    };
    let minutes = TOKEN_LIFETIME / 60;
    let text = format!("{intro}\n\n{link}\n\nThe link works once and expires in {minutes} minutes.\n{ignore}\n");
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p><a href=\"{href}\">{}</a></p><p>The link works once and expires in {minutes} minutes.</p><p>{}</p></body></html>",
        html_escape(intro),
        html_escape(subject),
        html_escape(ignore),
        href = html_escape(link),
    );
    Mail { to: to.to_string(), subject: subject.to_string(), text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_256_bits_and_are_stored_hashed() {
        let (token, hash) = new_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        assert_eq!(hash_presented(&token), Some(hash.clone()));
        assert!(!hash.contains(&token));
        assert_eq!(hash_presented("short"), None);
        assert_eq!(hash_presented(&format!("{}!", &token[..42])), None);
        assert_ne!(new_token().0, token);
    }

    #[test]
    fn purpose_and_expiry_bind_a_token() {
        let t = LinkToken { user_id: "u".into(), purpose: Purpose::Login, email: "e@x.io".into(), created_at: 0, expires_at: 600 };
        assert!(t.is_valid_for(Purpose::Login, 599));
        assert!(!t.is_valid_for(Purpose::Login, 600));
        assert!(!t.is_valid_for(Purpose::Activate, 1));
    }

    #[test]
    fn one_a_minute_and_five_an_hour() {
        let mut sent = Vec::new();
        assert_eq!(send_wait(&sent, 1000), None);
        record_send(&mut sent, 1000);
        assert_eq!(send_wait(&sent, 1030), Some(30));
        for t in [1060, 1120, 1180, 1240] {
            assert_eq!(send_wait(&sent, t), None, "at {t}");
            record_send(&mut sent, t);
        }
        // Five in the last hour: the next slot opens an hour after the first.
        assert_eq!(send_wait(&sent, 1300), Some(1000 + 3600 - 1300));
        assert_eq!(send_wait(&sent, 4600), None);
        record_send(&mut sent, 4600);
        assert!(sent.len() <= MAX_PER_HOUR);
    }

    #[test]
    fn the_link_is_the_only_secret_in_the_mail() {
        let m = mail(Purpose::Login, "a@b.io", "https://app.example/mfa?token=abc&purpose=login");
        assert!(m.text.contains("https://app.example/mfa?token=abc&purpose=login"));
        assert!(m.html.contains("href=\"https://app.example/mfa?token=abc&amp;purpose=login\""));
        assert!(m.text.contains("10 minutes"));
    }

    #[test]
    fn plausible_emails() {
        assert!(is_plausible_email("ada@example.com"));
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b.com,c@d.com"] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }
}
