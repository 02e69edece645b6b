//! MAGIC_LINK, email magic links: single-use tokens of 256 bits, stored only as SHA-256
//! hashes, living 10 minutes, bound to their purpose (an activation token cannot log in
//! and a login token cannot activate) and their factor, sent by the one delivery rule
//! (`delivery`). Below the pure rules: sending (setup and login links), activation, and
//! the login check against the store.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Completed, Started, backup_codes};
use crate::App;
use crate::auth::{Principal, UserId};
use crate::crypto::{ExposeSecret, SecretString, random_bytes, sha256_hex};
use crate::delivery;
use crate::factors::{Factor, FactorState, Material};
use crate::mail::{Mail, html_escape};
use crate::model::{LinkToken, MfaType, PendingSetup, Purpose, UserMfaRecord};
use crate::policy::{Action, Actor, Change};
use crate::refusal::Refusal;
use crate::store::Write;
use crate::update;
use crate::update::Failure;

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
    let ok = crate::crypto::is_random_id(random) && user.is_none_or(|u| !u.is_empty() && u.len() <= 700 && b64url(u));
    ok.then(|| sha256_hex(token.as_bytes()))
}

/// The user an activation token names, if it names a well-formed one (parsed before
/// anything is read with it).
pub fn user_of(token: &SecretString) -> Option<UserId> {
    let (_, user) = token.expose_secret().trim().split_once('.')?;
    UserId::parse(&String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?)
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
    let minutes = delivery::LIFETIME / 60;
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
    let (address, factor_id) = send(app, principal, Purpose::Activate, email, None).await?;
    Ok(Started { setup: super::Setup::Link { factor_id, email: address } })
}

/// Mails a link: an activation link (setup, a new pending factor for `email` or the
/// token's address) or a login link (to the factor named, or the one used most recently),
/// by the one delivery rule (`delivery`: the hashed token and the send slot in one write
/// before the mail). Returns the address and the factor the link is for.
pub async fn send(
    app: &App,
    principal: &Principal,
    purpose: Purpose,
    email: Option<String>,
    factor_id: Option<&str>,
) -> Result<(String, String), Refusal> {
    app.offers(MfaType::MagicLink)?;
    let mailer = app.mailer()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let requested = match purpose {
        Purpose::Login => None,
        Purpose::Activate => Some(crate::mail::requested_address(email, principal)?),
    };
    let change = match purpose {
        Purpose::Activate => Change::starting(MfaType::MagicLink, principal, now),
        Purpose::Login => Change::by_user(Action::Verify, principal, now),
    };
    let (token, hash) = new_token((purpose == Purpose::Activate).then_some(user));
    let link = format!("{}&purpose={}", mailer.link(token.expose_secret()), purpose.as_str().to_lowercase());
    delivery::send(app, user, &change, |record| {
        let (factor, to) = match &requested {
            Some(to) => {
                let material = Material::MagicLink { address: to.clone() };
                let setup = PendingSetup { step_up: change.step_up(), item: Some(hash.clone()), started_at: now };
                (record.begin_setup(material, to.clone(), setup, now)?, to.clone())
            }
            None => {
                let factor = super::login_factor(record, MfaType::MagicLink, factor_id)?;
                (factor.id.clone(), address_of(factor).ok_or(Refusal::NoEmail)?.to_string())
            }
        };
        let stored = LinkToken {
            user_id: user.to_string(),
            purpose,
            email: to.clone(),
            factor_id: Some(factor.clone()),
            created_at: now,
            expires_at: now + delivery::LIFETIME,
        };
        Ok(delivery::Prepared {
            message: delivery::Message::Mail(mail(purpose, &to, &link)),
            stored: delivery::Stored::Token {
                write: Box::new(app.store.put_token(&hash, &stored)?),
                hash: hash.clone(),
            },
            answer: (to, factor),
        })
    })
    .await
}

/// Enables MAGIC_LINK for the user an activation token was sent to, consuming the token
/// in the same transaction. `actor` is the caller of verify-setup (bound to the token's
/// user) or, for `magic-link/activate`, whoever holds the link. Only the link of the
/// latest setup works, and only while the setup is still authorized (see the policy).
pub async fn activate(app: &App, token: &SecretString, actor: Actor<'_>) -> Result<Completed, Refusal> {
    let now = app.clock.now();
    let hash = hash_presented(token).ok_or(Refusal::InvalidLink)?;
    let user = user_of(token).ok_or(Refusal::InvalidLink)?;
    // The token and the record it names in one read round trip, with the rules that
    // govern the user (those of the organization the record is bound to).
    let named = match actor {
        Actor::User(p) => p.org_id.as_deref(),
        Actor::Admin(_) | Actor::LinkHolder => None,
    };
    let (record, item, rules) = app.store.load_user_and_token(user.as_str(), &hash, named).await?;
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
    let (codes, hashes) = backup_codes::generate(app.keyring()?, user.as_str());
    let first = update::user_with_loaded(
        app,
        &item.user_id,
        Some((record, rules)),
        &change,
        |record, _| {
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
            backup_codes::issue_with_first_factor(record, first, &hashes, session);
            Ok((first, vec![app.store.consume_token(&hash, Purpose::Activate, now)?]))
        },
        || Refusal::InvalidLink,
    )
    .await?;
    let backup_codes = first.then_some(codes);
    Ok(Completed { backup_codes, session: None })
}

/// The address of a magic-link factor (none of a factor of another type).
pub fn address_of(factor: &Factor) -> Option<&str> {
    if let Material::MagicLink { address } = &factor.material { Some(address) } else { None }
}

/// `POST /mfa/verify-setup` for MAGIC_LINK: the caller's own activation token.
pub async fn complete(app: &App, principal: &Principal, token: &SecretString) -> Result<Completed, Refusal> {
    activate(app, token, Actor::User(principal)).await
}

/// A login token as presented: its hash and stored item, if it has the shape of one.
pub struct FoundLink(Option<(String, LinkToken)>);

/// Reads the login token presented together with the caller's record and the rules that
/// govern it (one read round trip); the check runs in the record's write.
pub async fn find_login_link(
    app: &App,
    principal: &Principal,
    token: &SecretString,
) -> Result<(FoundLink, Option<crate::update::Loaded>), Refusal> {
    let Some(hash) = hash_presented(token) else { return Ok((FoundLink(None), None)) };
    let (record, item, rules) =
        app.store.load_user_and_token(principal.user_id.as_str(), &hash, principal.org_id.as_deref()).await?;
    Ok((FoundLink(item.map(|item| (hash, item))), Some((record, rules))))
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
    fn the_link_is_the_only_secret_in_the_mail() {
        let m = mail(Purpose::Login, "a@b.io", "https://app.example/mfa?token=abc&purpose=login");
        assert!(m.text.contains("https://app.example/mfa?token=abc&purpose=login"));
        assert!(m.html.contains("href=\"https://app.example/mfa?token=abc&amp;purpose=login\""));
        assert!(m.text.contains("10 minutes"));
    }
}
