//! Sessions: what a passed second factor earns, and how long it lasts.
//!
//! A login (or a recovery) starts a session: a full-access token (ES256 JWT, 15 minutes,
//! the platform token's identity claims plus `aal: 2`, `amr`, `auth_time`, `jti`) and an
//! opaque refresh token (256 bits, stored as a SHA-256 hash, single use, rotating). The
//! refresh tokens of one session form a chain that:
//! - ends at an absolute time fixed at login (`MFA_SESSION_LIFETIME`, default 12 hours),
//!   which rotation never moves;
//! - ends when the user's factors change: the refresh token carries the user's session
//!   epoch, which a reset or a method switched off raises, and each rotation checks it in
//!   its transaction;
//! - ends when a spent refresh token is presented again (the whole chain is revoked).
//!
//! Refresh takes the *platform* token as its bearer, so the platform is asked again at
//! every rotation, and the new access token's identity (`orgId`, `orgRole`, `email`) is
//! read from it; `amr` and `auth_time` stay those of the login.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::App;
use crate::auth::{FullAccessClaims, IdentityClaims, Principal};
use crate::crypto::{ExposeSecret, SecretString, random_bytes, sha256_hex};
use crate::model::{RefreshToken, RevokedChain};
use crate::refusal::Refusal;
use crate::store::{StoreError, Write};

pub const ACCESS_LIFETIME: i64 = 15 * 60;
pub use crate::auth::DEFAULT_SESSION_LIFETIME;

fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The body of a successful login, recovery or refresh.
pub struct Session {
    pub full_access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: i64,
}

impl Session {
    pub fn body(&self, message: &str) -> Value {
        json!({
            "success": true,
            "message": message,
            "fullAccessToken": self.full_access_token.expose_secret(),
            "refreshToken": self.refresh_token.expose_secret(),
            "expiresAt": self.expires_at,
        })
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

/// A full-access token for `principal` that expires in 15 minutes, or when the session
/// does if that is sooner.
fn sign(
    app: &App,
    principal: &Principal,
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
        iat: now,
        exp: expires_at,
        aal: 2,
        amr,
        auth_time,
        jti: random_id(),
    })?;
    Ok((token.into(), expires_at))
}

/// Starts a session after a second factor passed at `now`, for a user whose session epoch
/// is `epoch`: the tokens, and the write that stores the refresh token, which belongs in
/// the same transaction as the record update that accepted the factor.
pub fn start(
    app: &App,
    principal: &Principal,
    amr: &[&str],
    epoch: u64,
    now: i64,
) -> Result<(Session, Write), Refusal> {
    let session_end = now + app.signer()?.session_lifetime;
    let amr: Vec<String> = amr.iter().map(|s| s.to_string()).collect();
    let (full_access_token, expires_at) = sign(app, principal, amr.clone(), now, session_end, now)?;
    let refresh_token = random_id();
    let stored = RefreshToken {
        user_id: principal.user_id.as_str().to_string(),
        chain_id: random_id(),
        used: false,
        amr,
        auth_time: now,
        session_epoch: epoch,
        expires_at: session_end,
    };
    let put = app.store.put_refresh(&sha256_hex(refresh_token.as_bytes()), &stored)?;
    Ok((Session { full_access_token, refresh_token: refresh_token.into(), expires_at }, put))
}

/// Rotates a refresh token: the presented one is spent and a new one of the same chain
/// returned, with a new access token keeping the original `auth_time` (refreshing never
/// counts as a fresh second factor). `principal` must come from a platform token. A spent
/// token presented again revokes the chain; a session past its end, or begun before the
/// user's factors last changed, is over.
pub async fn refresh(app: &App, principal: &Principal, presented: &SecretString) -> Result<Session, Refusal> {
    if principal.session_verified {
        return Err(Refusal::PlatformTokenRequired);
    }
    let now = app.clock.now();
    let hash = sha256_hex(presented.expose_secret().trim().as_bytes());
    let stored = app
        .store
        .get_refresh(&hash)
        .await?
        .filter(|t| t.user_id == principal.user_id.as_str() && now < t.expires_at)
        .ok_or(Refusal::InvalidRefreshToken)?;
    if stored.used {
        revoke_chain(app, &stored, now).await?;
        return Err(Refusal::InvalidRefreshToken);
    }
    let (full_access_token, expires_at) =
        sign(app, principal, stored.amr.clone(), stored.auth_time, stored.expires_at, now)?;
    let refresh_token = random_id();
    let next = RefreshToken { used: false, ..stored.clone() };
    let writes = vec![
        app.store.spend_refresh(&hash)?,
        app.store.chain_live(&stored.chain_id)?,
        app.store.session_live(&stored.user_id, stored.session_epoch)?,
        app.store.put_refresh(&sha256_hex(refresh_token.as_bytes()), &next)?,
    ];
    match app.store.transact(writes).await {
        Ok(()) => Ok(Session { full_access_token, refresh_token: refresh_token.into(), expires_at }),
        // Spent by a concurrent request, the chain revoked, or the user's sessions ended:
        // the chain is over either way.
        Err(StoreError::Spent) => {
            revoke_chain(app, &stored, now).await?;
            Err(Refusal::InvalidRefreshToken)
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_chain(app: &App, token: &RefreshToken, now: i64) -> Result<(), StoreError> {
    tracing::warn!(user_id = %token.user_id, "a refresh chain ends: a spent token was presented again, or the session was ended");
    let revoked =
        RevokedChain { user_id: token.user_id.clone(), revoked_at: now, expires_at: token.expires_at.max(now) };
    app.store.revoke_chain(&token.chain_id, &revoked).await
}
