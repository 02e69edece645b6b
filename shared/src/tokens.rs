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

use aws_sdk_dynamodb::types::TransactWriteItem;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::auth::{FullAccessClaims, IdentityClaims, Principal};
use crate::crypto::{random_bytes, sha256_hex};
use crate::envelope::ApiError;
use crate::store::StoreError;

pub const ACCESS_LIFETIME: i64 = 15 * 60;
/// A session's absolute lifetime unless `MFA_SESSION_LIFETIME` says otherwise.
pub const DEFAULT_SESSION_LIFETIME: u64 = 12 * 3600;

/// A refresh token as stored (`REFRESH#<sha256>` / `REFRESH`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshToken {
    pub user_id: String,
    pub chain_id: String,
    pub used: bool,
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// The user's session epoch at login; the chain ends when the record's moves on.
    pub session_epoch: u64,
    /// When the session ends, whatever the rotations; also the table's TTL attribute.
    pub expires_at: i64,
}

/// A revoked chain (`CHAIN#<id>` / `CHAIN`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokedChain {
    user_id: String,
    revoked_at: i64,
    expires_at: i64,
}

fn refresh_pk(hash: &str) -> String {
    format!("REFRESH#{hash}")
}
const REFRESH_SK: &str = "REFRESH";
fn chain_pk(chain: &str) -> String {
    format!("CHAIN#{chain}")
}
const CHAIN_SK: &str = "CHAIN";

fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The body of a successful login, recovery or refresh.
pub struct Session {
    pub full_access_token: String,
    pub refresh_token: String,
    pub expires_at: i64,
}

impl Session {
    pub fn body(&self, message: &str) -> Value {
        json!({
            "success": true,
            "message": message,
            "fullAccessToken": self.full_access_token,
            "refreshToken": self.refresh_token,
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
fn sign(app: &App, principal: &Principal, amr: Vec<String>, auth_time: i64, session_end: i64, now: i64) -> Result<(String, i64), ApiError> {
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
    Ok((token, expires_at))
}

/// Starts a session after a second factor passed at `now`, for a user whose session epoch
/// is `epoch`: the tokens, and the write that stores the refresh token, which belongs in
/// the same transaction as the record update that accepted the factor.
pub fn start(app: &App, principal: &Principal, amr: &[&str], epoch: u64, now: i64) -> Result<(Session, TransactWriteItem), ApiError> {
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
    let put = app.store.put_new(&stored, refresh_pk(&sha256_hex(refresh_token.as_bytes())), REFRESH_SK)?;
    Ok((Session { full_access_token, refresh_token, expires_at }, put))
}

fn refused() -> ApiError {
    ApiError::unauthorized("INVALID_REFRESH_TOKEN", "The refresh token is invalid, expired or revoked; sign in again.")
}

/// Rotates a refresh token: the presented one is spent and a new one of the same chain
/// returned, with a new access token keeping the original `auth_time` (refreshing never
/// counts as a fresh second factor). `principal` must come from a platform token. A spent
/// token presented again revokes the chain; a session past its end, or begun before the
/// user's factors last changed, is over.
pub async fn refresh(app: &App, principal: &Principal, presented: &str) -> Result<Session, ApiError> {
    if principal.session_verified {
        return Err(ApiError::unauthorized(
            "PLATFORM_TOKEN_REQUIRED",
            "Refreshing takes the platform's token as the bearer, not a full-access token; send the token your platform issued at sign-in.",
        ));
    }
    let now = app.clock.now();
    let hash = sha256_hex(presented.trim().as_bytes());
    let stored: RefreshToken = app
        .store
        .get(refresh_pk(&hash), REFRESH_SK)
        .await?
        .filter(|t: &RefreshToken| t.user_id == principal.user_id.as_str() && now < t.expires_at)
        .ok_or_else(refused)?;
    if stored.used {
        revoke_chain(app, &stored, now).await?;
        return Err(refused());
    }
    let (full_access_token, expires_at) = sign(app, principal, stored.amr.clone(), stored.auth_time, stored.expires_at, now)?;
    let refresh_token = random_id();
    let next = RefreshToken { used: false, ..stored.clone() };
    let writes = vec![
        app.store.flip_once(refresh_pk(&hash), REFRESH_SK, "used")?,
        app.store.absent(chain_pk(&stored.chain_id), CHAIN_SK)?,
        app.store.session_live(&stored.user_id, stored.session_epoch)?,
        app.store.put_new(&next, refresh_pk(&sha256_hex(refresh_token.as_bytes())), REFRESH_SK)?,
    ];
    match app.store.transact(writes).await {
        Ok(()) => Ok(Session { full_access_token, refresh_token, expires_at }),
        // Spent by a concurrent request, the chain revoked, or the user's sessions ended:
        // the chain is over either way.
        Err(StoreError::Spent) => {
            revoke_chain(app, &stored, now).await?;
            Err(refused())
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_chain(app: &App, token: &RefreshToken, now: i64) -> Result<(), ApiError> {
    tracing::warn!(user_id = %token.user_id, "a refresh chain ends: a spent token was presented again, or the session was ended");
    let revoked = RevokedChain { user_id: token.user_id.clone(), revoked_at: now, expires_at: token.expires_at.max(now) };
    app.store.put(&revoked, chain_pk(&token.chain_id), CHAIN_SK).await?;
    Ok(())
}
