//! MAGIC_LINK, email magic links: single-use tokens of 256 bits, stored only as SHA-256
//! hashes, living 10 minutes, bound to their purpose (an activation token cannot log in
//! and a login token cannot activate), and a per-user send limit. Below the pure rules:
//! sending (setup and login links), activation, and the login check against the store.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::{Completed, Started, backup_codes};
use crate::App;
use crate::auth::{Principal, UserId};
use crate::crypto::{ExposeSecret, SecretString, random_bytes, sha256_hex};
use crate::factors::{Factor, FactorState, Material};
use crate::lockout::Failure;
use crate::mail::{Mail, html_escape};
use crate::model::{LinkToken, MfaType, PendingSetup, Purpose, UserMfaRecord};
use crate::notify::{self, Notice};
use crate::policy::{Action, Actor, Change};
use crate::refusal::Refusal;
use crate::store::Write;
use crate::update;

pub const TOKEN_LIFETIME: i64 = 10 * 60;
/// At most one mail a minute…
pub const MIN_INTERVAL: i64 = 60;
/// …and five an hour.
pub const MAX_PER_HOUR: usize = 5;
const HOUR: i64 = 3600;

/// A new token (what goes into the link) and its hash (what is stored). An activation
/// token also names its user after a `.` (base64url), so the activation, which has no
/// bearer token, reads the user's record together with the token in one round trip; the
/// 256 random bits before it are the secret.
pub fn new_token(user: Option<&str>) -> (SecretString, String) {
    let mut token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    if let Some(user) = user {
        token = format!("{token}.{}", URL_SAFE_NO_PAD.encode(user));
    }
    let hash = sha256_hex(token.as_bytes());
    (token.into(), hash)
}

/// The stored key of a token as presented, if it has the shape of one.
pub fn hash_presented(token: &SecretString) -> Option<String> {
    let token = token.expose_secret().trim();
    let (random, user) = match token.split_once('.') {
        Some((random, user)) => (random, Some(user)),
        None => (token, None),
    };
    let b64url = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let ok = random.len() == 43 && b64url(random) && user.is_none_or(|u| !u.is_empty() && u.len() <= 700 && b64url(u));
    ok.then(|| sha256_hex(token.as_bytes()))
}

/// The user an activation token names, if it names a well-formed one (parsed before
/// anything is read with it).
pub fn user_of(token: &SecretString) -> Option<UserId> {
    let (_, user) = token.expose_secret().trim().split_once('.')?;
    UserId::parse(&String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?)
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

/// The mail that carries a link (the link is the only secret in it).
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

// Against the store ------------------------------------------------------------------------

/// `POST /mfa/setup` for MAGIC_LINK: mails an activation link to `email` (or the token's).
pub async fn setup(app: &App, principal: &Principal, email: Option<String>) -> Result<Started, Refusal> {
    let (address, to) = send(app, principal, Purpose::Activate, email, None).await?;
    let notice = Notice::SetupStarted { method: MfaType::MagicLink, address: Some(address.clone()) };
    Ok(Started { data: json!({"email": address, "verificationRequired": true}), notice, to })
}

/// Mails a link: an activation link (setup; to `email` or the token's email) or a login
/// link (to the activated address). The send-limit slot and the hashed token are stored
/// in one conditional write *before* the mail goes out, so concurrent sends never exceed
/// the limit; a token whose mail failed is removed, and was never usable anyway (only its
/// hash is stored). A failed send still counts toward the limit. Returns the address, and
/// for an activation link of a user who has MFA every address to tell of the setup.
pub async fn send(
    app: &App,
    principal: &Principal,
    purpose: Purpose,
    email: Option<String>,
    factor_id: Option<&str>,
) -> Result<(String, Vec<String>), Refusal> {
    let mailer = app.mailer()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let requested = match purpose {
        Purpose::Login => None,
        Purpose::Activate => {
            let to = email.or_else(|| principal.email.clone()).map(|e| e.trim().to_string()).ok_or_else(|| {
                Refusal::InvalidField("Field `email` is required: your token carries no email address.".into())
            })?;
            if !is_plausible_email(&to) {
                return Err(Refusal::InvalidField("Field `email` is not a valid email address.".into()));
            }
            Some(to)
        }
    };
    let action = match purpose {
        Purpose::Activate => Action::StartSetup,
        Purpose::Login => Action::Verify,
    };
    let change = Change::by_user(action, principal, now);
    let (token, hash) = new_token((purpose == Purpose::Activate).then_some(user));
    let (to, told) = update::user_with(
        app,
        user,
        None,
        &change,
        |record, _| {
            let told = match purpose {
                Purpose::Activate => super::setup_recipients(record, principal.email.as_deref()),
                Purpose::Login => Vec::new(),
            };
            let login_factor = match &requested {
                Some(_) => None,
                None => {
                    if factor_id.is_some_and(|id| record.factor(id).is_none_or(|f| f.kind() != MfaType::MagicLink)) {
                        return Err(Refusal::FactorNotFound);
                    }
                    let factor = record
                        .login_factor(MfaType::MagicLink, factor_id)
                        .ok_or(Refusal::MethodNotEnabled(MfaType::MagicLink))?;
                    Some((factor.id.clone(), address_of(factor).ok_or(Refusal::NoEmail)?.to_string()))
                }
            };
            if let Some(wait) = send_wait(&record.magic_link_sends, now) {
                return Err(Refusal::RateLimited { seconds: wait as u64 });
            }
            record_send(&mut record.magic_link_sends, now);
            let (factor, to) = match (&requested, login_factor) {
                (Some(to), _) => {
                    let material = Material::MagicLink { address: to.clone() };
                    let setup = PendingSetup { step_up: change.step_up(), item: Some(hash.clone()), started_at: now };
                    (record.begin_setup(material, to.clone(), setup, now)?, to.clone())
                }
                (None, Some((id, to))) => (id, to),
                (None, None) => return Err(Refusal::MethodNotEnabled(MfaType::MagicLink)),
            };
            let stored = LinkToken {
                user_id: user.to_string(),
                purpose,
                email: to.clone(),
                factor_id: Some(factor),
                created_at: now,
                expires_at: now + TOKEN_LIFETIME,
            };
            Ok(((to, told), vec![app.store.put_token(&hash, &stored)?]))
        },
        || Refusal::Internal,
    )
    .await?;
    let link = format!("{}&purpose={}", mailer.link(token.expose_secret()), purpose.as_str().to_lowercase());
    if let Err(e) = mailer.send(mail(purpose, &to, &link)).await {
        if let Err(cleanup) = app.store.delete_token(&hash).await {
            tracing::warn!(error = %cleanup, "an undelivered link token could not be removed; it expires unused");
        }
        return Err(e.into());
    }
    Ok((to, told))
}

/// Enables MAGIC_LINK for the user an activation token was sent to, consuming the token
/// in the same transaction. `actor` is the caller of verify-setup (bound to the token's
/// user) or, for `magic-link/activate`, whoever holds the link. Only the link of the
/// latest setup works, and only while the setup is still authorized (see the policy).
/// The notice goes to the user's addresses before the change and to the new one.
pub async fn activate(app: &App, token: &SecretString, actor: Actor<'_>) -> Result<Completed, Refusal> {
    let now = app.clock.now();
    let hash = hash_presented(token).ok_or(Refusal::InvalidLink)?;
    let user = user_of(token).ok_or(Refusal::InvalidLink)?;
    // The token and the record it names in one read round trip.
    let (record, item) = app.store.load_user_and_token(user.as_str(), &hash).await?;
    if let Actor::User(p) = actor {
        crate::sessions::ensure_live(p, &record, now)?;
    }
    let item = item
        .filter(|t| t.is_valid_for(Purpose::Activate, now) && t.user_id == user.as_str())
        .filter(|t| match actor {
            Actor::User(p) => p.user_id.as_str() == t.user_id,
            Actor::Admin(_) => false,
            Actor::LinkHolder => true,
        })
        .ok_or(Refusal::InvalidLink)?;
    let change = Change::completing(MfaType::MagicLink, actor, now);
    let (codes, hashes) = backup_codes::generate();
    let (to, first) = update::user_with_loaded(
        app,
        &item.user_id,
        None,
        Some(record),
        &change,
        |record, _| {
            let mut to = notify::recipients(record, change.actor.user_email());
            let session = change.acting_session(record).map(String::from);
            let first = !record.has_mfa_enabled();
            let factor =
                record.complete_setup(MfaType::MagicLink, Some(&hash), None, now).ok_or(Refusal::InvalidLink)?;
            factor.material = Material::MagicLink { address: item.email.clone() };
            factor.name = item.email.clone();
            let id = factor.id.clone();
            // The address proven again: the factor that already had it is switched on
            // instead of a second one being added.
            let same = |f: &Factor| {
                f.id != id
                    && f.state.is_configured()
                    && address_of(f).is_some_and(|a| a.eq_ignore_ascii_case(&item.email))
            };
            if let Some(earlier) = record.factors.iter().position(same) {
                record.factors.retain(|f| f.id != id);
                record.factors[earlier].state = FactorState::Enabled;
            }
            if !to.iter().any(|t| t.eq_ignore_ascii_case(&item.email)) {
                to.push(item.email.clone());
            }
            backup_codes::issue_with_first_factor(record, first, &hashes, session);
            Ok(((to, first), vec![app.store.consume_token(&hash, Purpose::Activate, now)?]))
        },
        || Refusal::InvalidLink,
    )
    .await?;
    let backup_codes = first.then_some(codes);
    Ok(Completed { notice: Notice::MethodEnabled(MfaType::MagicLink), to, backup_codes })
}

/// The address of a magic-link factor.
pub fn address_of(factor: &Factor) -> Option<&str> {
    match &factor.material {
        Material::MagicLink { address } => Some(address),
        Material::GoogleAuth { .. } | Material::Passkey { .. } => None,
    }
}

/// `POST /mfa/verify-setup` for MAGIC_LINK: the caller's own activation token.
pub async fn complete(app: &App, principal: &Principal, token: &SecretString) -> Result<Completed, Refusal> {
    activate(app, token, Actor::User(principal)).await
}

/// A login token as presented: its hash and stored item, if it has the shape of one.
pub struct FoundLink(Option<(String, LinkToken)>);

/// Reads the login token presented together with the caller's record (one read round
/// trip); the check runs in the record's write.
pub async fn find_login_link(
    app: &App,
    principal: &Principal,
    token: &SecretString,
) -> Result<(FoundLink, Option<UserMfaRecord>), Refusal> {
    let Some(hash) = hash_presented(token) else { return Ok((FoundLink(None), None)) };
    let (record, item) = app.store.load_user_and_token(principal.user_id.as_str(), &hash).await?;
    Ok((FoundLink(item.map(|item| (hash, item))), Some(record)))
}

/// The login check: the token must be a live login token of the record's user, sent for
/// a factor that is still enabled; returns the write that consumes it. A wrong, foreign,
/// expired or spent token counts as a failure.
pub fn check_login(app: &App, record: &mut UserMfaRecord, found: &FoundLink, now: i64) -> Result<Vec<Write>, Failure> {
    if !record.state(MfaType::MagicLink).is_enabled() {
        return Err(Refusal::MethodNotEnabled(MfaType::MagicLink).into());
    }
    let Some((hash, t)) = &found.0 else { return Err(Failure::Counted(Refusal::InvalidLink)) };
    if !t.is_valid_for(Purpose::Login, now) || t.user_id != record.user_id {
        return Err(Failure::Counted(Refusal::InvalidLink));
    }
    // Tokens sent before factors had ids name only their address.
    let factor = record.factors.iter_mut().find(|f| {
        f.is_enabled()
            && match &t.factor_id {
                Some(id) => f.id == *id,
                None => address_of(f).is_some_and(|a| a.eq_ignore_ascii_case(&t.email)),
            }
    });
    let Some(factor) = factor else { return Err(Failure::Counted(Refusal::InvalidLink)) };
    factor.last_used_at = Some(now);
    Ok(vec![app.store.consume_token(hash, Purpose::Login, now)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_256_bits_and_are_stored_hashed() {
        let (token, hash) = new_token(None);
        let text = token.expose_secret();
        assert_eq!(URL_SAFE_NO_PAD.decode(text).unwrap().len(), 32);
        assert_eq!(hash_presented(&token), Some(hash.clone()));
        assert!(!hash.contains(text));
        assert_eq!(hash_presented(&"short".into()), None);
        assert_eq!(hash_presented(&format!("{}!", &text[..42]).into()), None);
        assert_ne!(new_token(None).0.expose_secret(), text);
        assert_eq!(user_of(&token), None);
        // An activation token names its user; the random part is still the secret.
        let (activation, hash) = new_token(Some("user-7"));
        assert_eq!(user_of(&activation).as_ref().map(UserId::as_str), Some("user-7"));
        assert_eq!(hash_presented(&activation), Some(hash));
        let (random, _) = activation.expose_secret().split_once('.').unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        assert_eq!(hash_presented(&format!("{random}.").into()), None);
    }

    #[test]
    fn purpose_and_expiry_bind_a_token() {
        let t = LinkToken {
            user_id: "u".into(),
            purpose: Purpose::Login,
            email: "e@x.io".into(),
            factor_id: None,
            created_at: 0,
            expires_at: 600,
        };
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
