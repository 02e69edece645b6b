//! Sessions: what a passed second factor earns, how long it lasts, and when it ends.
//!
//! A login (or a recovery) starts a session: an id (256 random bits, base64url) that the
//! user's record lists with the session's start and absolute end, a full-access token
//! (ES256 JWT, 15 minutes, the platform token's identity claims plus `aal: 2`, `amr`,
//! `auth_time`, `sid`: the session's id) and a refresh token (`<session id>.<generation>.
//! <secret>`, 256 random bits of secret; single use, rotating, bound to the session). The
//! session's refresh chain is kept in its entry of the record (the generation that may
//! rotate next and the SHA-256 of its secret): a refresh reads the record (one round trip)
//! and rotates the chain with one conditional update of the record's login state. A
//! session is live while
//! the record lists it and its end has not come; a token of any other session is refused
//! with `401 SESSION_ENDED` on every route ([`ensure_live`], run against the record each
//! request reads anyway). A session ends:
//! - at its absolute end (`MFA_SESSION_LIFETIME` after the login, default 12 hours), which
//!   rotation never moves;
//! - when the user's factors change: a change that removes, switches off or replaces a
//!   factor ends every other session of the user (the session that made it goes on), an
//!   administrator's reset and a recovery end them all (`update::settle`); a setup stepped
//!   up in an ended session is void with it;
//! - when a spent refresh token is presented again (the session is taken off the record);
//! - when the user has more than [`MAX_SESSIONS`] at once (the oldest ends).
//!
//! Refresh takes the *platform* token as its bearer, so the platform is asked again at
//! every rotation, and the new access token's identity (`orgId`, `orgRole`, `email`) is
//! read from it; `amr`, `auth_time` and `sid` stay those of the login.

use serde_json::{Value, json};

use crate::App;
use crate::auth::{FULL_ACCESS_AUDIENCE, FullAccessClaims, IdentityClaims, Principal};
use crate::crypto::{ExposeSecret, SecretString, random_id, sha256_hex};
use crate::model::RememberedDevice;
use crate::model::{LiveSession, UserMfaRecord};
use crate::refusal::Refusal;
use crate::store::StoreError;

pub const ACCESS_LIFETIME: i64 = 15 * 60;
pub use crate::auth::DEFAULT_SESSION_LIFETIME;
/// Sessions one user may have at once; a login beyond them ends the oldest.
pub const MAX_SESSIONS: usize = 20;

pub use crate::auth::ensure_live;

/// The body of a successful login, recovery or refresh.
#[derive(Debug)]
pub struct Session {
    pub full_access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: i64,
    /// The token of the device this login remembered (`rememberDevice: true`), shown once.
    pub device_token: Option<SecretString>,
    /// The token's `amr` and `auth_time` (Frontegg's authentication response shows them).
    pub amr: Vec<String>,
    pub auth_time: i64,
}

impl Session {
    pub fn body(&self, message: &str) -> Value {
        let mut body = json!({
            "success": true,
            "message": message,
            "fullAccessToken": self.full_access_token.expose_secret(),
            "refreshToken": self.refresh_token.expose_secret(),
            "expiresAt": self.expires_at,
        });
        if let Some(token) = &self.device_token {
            body["deviceToken"] = json!(token.expose_secret());
        }
        body
    }
}

fn identity_of(principal: &Principal) -> IdentityClaims {
    IdentityClaims {
        sub: Some(principal.user_id.as_str().to_string()),
        user_id: None,
        email: principal.email.clone(),
        org_id: principal.org_id.clone(),
        org_role: principal.org_role.clone(),
    }
}

/// A full-access token of session `session_id` for `principal` that expires in 15
/// minutes, or when the session does if that is sooner.
fn sign(
    app: &App,
    principal: &Principal,
    session_id: &str,
    amr: Vec<String>,
    auth_time: i64,
    session_end: i64,
    now: i64,
) -> Result<(SecretString, i64), Refusal> {
    let signer = app.signer()?;
    let expires_at = (now + ACCESS_LIFETIME).min(session_end);
    let token = signer.sign(&FullAccessClaims {
        identity: identity_of(principal),
        iss: signer.issuer.clone(),
        aud: FULL_ACCESS_AUDIENCE.to_string(),
        iat: now,
        exp: expires_at,
        aal: 2,
        amr,
        auth_time,
        sid: session_id.to_string(),
        jti: random_id(),
    })?;
    Ok((token.into(), expires_at))
}

/// Starts a session after a second factor passed at `now`: the session is listed in the
/// user's `record` (expired ones are dropped; beyond [`MAX_SESSIONS`] the oldest ends)
/// with its refresh chain, so it is stored by the record update that accepted the factor,
/// and the tokens are returned. With
/// `remember` (and a lifetime above 0), the login also remembers its device.
pub fn start(
    app: &App,
    principal: &Principal,
    amr: &[&str],
    record: &mut UserMfaRecord,
    now: i64,
    remember: Option<&Remember>,
) -> Result<Session, Refusal> {
    let amr: Vec<String> = amr.iter().map(|s| s.to_string()).collect();
    open(app, principal, Opening { amr, auth_time: now, device: None, remember, ends_by: None }, record, now)
}

/// Starts a session with a remembered device instead of a second factor: its tokens carry
/// the `amr` and `auth_time` of the login that remembered the device, with `device`
/// added, so they never count as a fresh second factor.
pub fn start_by_device(
    app: &App,
    principal: &Principal,
    device_id: &str,
    device: &RememberedDevice,
    ends_by: i64,
    record: &mut UserMfaRecord,
    now: i64,
) -> Result<Session, Refusal> {
    let mut amr = device.amr.clone();
    if !amr.iter().any(|a| a == crate::model::DEVICE_AMR) {
        amr.push(crate::model::DEVICE_AMR.to_string());
    }
    let opening = Opening {
        amr,
        auth_time: device.auth_time,
        device: Some(device_id.to_string()),
        remember: None,
        ends_by: Some(ends_by),
    };
    open(app, principal, opening, record, now)
}

/// What a login that remembers its device needs to know.
pub struct Remember {
    pub name: String,
    /// Seconds (`devices::allowed_lifetime`); 0 remembers nothing.
    pub lifetime: u64,
}

struct Opening<'a> {
    amr: Vec<String>,
    auth_time: i64,
    /// The remembered device that logged in, if one did.
    device: Option<String>,
    remember: Option<&'a Remember>,
    /// The latest end the session may have (a device's own end).
    ends_by: Option<i64>,
}

fn open(
    app: &App,
    principal: &Principal,
    opening: Opening,
    record: &mut UserMfaRecord,
    now: i64,
) -> Result<Session, Refusal> {
    let session_end = (now + app.signer()?.session_lifetime).min(opening.ends_by.unwrap_or(i64::MAX));
    let session_id = random_id();
    record.sessions.retain(|_, s| now < s.ends_at);
    while record.sessions.len() >= MAX_SESSIONS {
        // Those a remembered device started go first, the oldest first.
        let oldest = record.sessions.iter().min_by_key(|(_, s)| (!s.by_device, s.started_at)).map(|(id, _)| id.clone());
        let Some(oldest) = oldest else {
            break;
        };
        record.drop_session(&oldest);
    }
    let by_device = opening.device.is_some();
    let Opening { amr, auth_time, device, remember, .. } = opening;
    let secret = random_id();
    // Ordered by when it began (the oldest of too many is dropped first), whatever the
    // `auth_time` a remembered device carries on.
    let mut live = LiveSession {
        started_at: now,
        ends_at: session_end,
        by_device,
        device,
        generation: 0,
        hash: sha256_hex(secret.as_bytes()),
        amr: amr.clone(),
        auth_time,
        remembered: None,
    };
    let device_token = match remember.filter(|r| r.lifetime > 0 && !by_device) {
        Some(r) => {
            let (id, token) = record.remember_device(r, amr.clone(), auth_time, &session_id, now);
            live.remembered = Some(id);
            Some(token)
        }
        None => None,
    };
    record.sessions.insert(session_id.clone(), live);
    let (full_access_token, expires_at) = sign(app, principal, &session_id, amr.clone(), auth_time, session_end, now)?;
    let refresh_token = refresh_token(&session_id, 0, &secret);
    Ok(Session { full_access_token, refresh_token, expires_at, device_token, amr, auth_time })
}

/// A refresh token as the client holds it.
fn refresh_token(session_id: &str, generation: u64, secret: &str) -> SecretString {
    format!("{session_id}.{generation}.{secret}").into()
}

/// A presented refresh token's session id, generation and secret, if it has that form:
/// the id and the secret are `random_id`s (43 base64url characters, no dots), the
/// generation at most 10 digits.
fn parse_refresh(presented: &str) -> Option<(&str, u64, &str)> {
    let mut parts = presented.trim().split('.');
    let (session_id, generation, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = !generation.is_empty() && generation.len() <= 10 && generation.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some()
        || !crate::crypto::is_random_id(session_id)
        || !crate::crypto::is_random_id(secret)
        || !digits
    {
        return None;
    }
    Some((session_id, generation.parse().ok()?, secret))
}

/// Rotates a refresh token: the presented one is spent and a new one of the same session
/// returned, with a new access token keeping the original `auth_time` (refreshing never
/// counts as a fresh second factor). `principal` must come from a platform token. A spent
/// token presented again ends its session; a session past its end, or no longer listed in
/// the user's record, is over.
///
/// One read (the record) and one write (the chain's conditional update in the record's
/// login state). A session that ends between the two yields a full-access token that every
/// route refuses (`ensure_live` reads the record) and a refresh token refused next time.
pub async fn refresh(app: &App, principal: &Principal, presented: &SecretString) -> Result<Session, Refusal> {
    if principal.session_verified {
        return Err(Refusal::PlatformTokenRequired);
    }
    let now = app.clock.now();
    let (session_id, generation, secret) =
        parse_refresh(presented.expose_secret()).ok_or(Refusal::InvalidRefreshToken)?;
    let user_id = principal.user_id.as_str();
    let (record, _) = app.store.load_user_and_policy(user_id, None).await?;
    let chain = record
        .sessions
        .get(session_id)
        .filter(|s| now < s.ends_at && !s.hash.is_empty())
        .cloned()
        .ok_or(Refusal::InvalidRefreshToken)?;
    let hash = sha256_hex(secret.as_bytes());
    if generation < chain.generation {
        // A spent token of the chain, presented again: the session ends.
        end(app, user_id, session_id, &chain).await?;
        return Err(Refusal::InvalidRefreshToken);
    }
    // Listed, not past its end, and a remembered device that started it still remembered.
    let live = record.has_live_session(session_id, now);
    if generation != chain.generation
        || !crate::crypto::constant_time_eq(hash.as_bytes(), chain.hash.as_bytes())
        || !live
    {
        return Err(Refusal::InvalidRefreshToken);
    }
    let (full_access_token, expires_at) =
        sign(app, principal, session_id, chain.amr.clone(), chain.auth_time, chain.ends_at, now)?;
    let next = random_id();
    match app.store.rotate_refresh(user_id, session_id, generation, &hash, &sha256_hex(next.as_bytes()), now).await {
        // A change that takes access away holds the record: try again in a moment.
        Ok(false) => Err(Refusal::ConcurrentUpdate),
        Ok(true) => {
            let refresh_token = refresh_token(session_id, generation + 1, &next);
            let (amr, auth_time) = (chain.amr.clone(), chain.auth_time);
            Ok(Session { full_access_token, refresh_token, expires_at, device_token: None, amr, auth_time })
        }
        // Spent by a concurrent request: it is over.
        Err(StoreError::Conflict) => {
            end(app, user_id, session_id, &chain).await?;
            Err(Refusal::InvalidRefreshToken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends session `session_id` (a spent refresh token presented again): its full-access
/// tokens and every refresh token of it stop working, and the device its login remembered
/// is forgotten.
async fn end(app: &App, user_id: &str, session_id: &str, chain: &LiveSession) -> Result<(), StoreError> {
    tracing::warn!(user_id = %user_id, "a session ends: a spent refresh token was presented again");
    app.store.end_session(user_id, session_id, chain.remembered.as_deref().or(chain.device.as_deref())).await
}
