//! What a successful second factor earns: a full-access token (ES256 JWT, 15 minutes,
//! the platform token's identity claims plus `aal: 2`, `amr`, `auth_time`, `jti`) and an
//! opaque refresh token (256 bits, stored as a SHA-256 hash, single use, rotating).
//! Refresh tokens form a chain per login; presenting a spent one revokes the whole chain.

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
pub const REFRESH_LIFETIME: i64 = 30 * 24 * 3600;

/// A refresh token as stored (`REFRESH#<sha256>` / `REFRESH`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshToken {
    pub user_id: String,
    pub chain_id: String,
    pub used: bool,
    pub identity: IdentityClaims,
    pub amr: Vec<String>,
    pub auth_time: i64,
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

fn sign(app: &App, identity: IdentityClaims, amr: Vec<String>, auth_time: i64, now: i64) -> Result<(String, i64), ApiError> {
    let signer = app.signer()?;
    let expires_at = now + ACCESS_LIFETIME;
    let token = signer.sign(&FullAccessClaims {
        identity,
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

/// Issues a new session (a new refresh chain) after a verified second factor.
pub async fn issue(app: &App, principal: &Principal, amr: &[&str]) -> Result<Session, ApiError> {
    let now = app.clock.now();
    let amr: Vec<String> = amr.iter().map(|s| s.to_string()).collect();
    let identity = identity_of(principal);
    let (full_access_token, expires_at) = sign(app, identity.clone(), amr.clone(), now, now)?;
    let refresh_token = random_id();
    let stored = RefreshToken {
        user_id: principal.user_id.as_str().to_string(),
        chain_id: random_id(),
        used: false,
        identity,
        amr,
        auth_time: now,
        expires_at: now + REFRESH_LIFETIME,
    };
    app.store.put(&stored, refresh_pk(&sha256_hex(refresh_token.as_bytes())), REFRESH_SK).await?;
    Ok(Session { full_access_token, refresh_token, expires_at })
}

fn refused() -> ApiError {
    ApiError::unauthorized("INVALID_REFRESH_TOKEN", "The refresh token is invalid, expired or revoked; sign in again.")
}

/// Rotates a refresh token: the presented one is spent and a new one of the same chain
/// returned, with a new access token keeping the original `auth_time` (refreshing never
/// counts as a fresh second factor). A spent token presented again revokes the chain.
pub async fn refresh(app: &App, principal: &Principal, presented: &str) -> Result<Session, ApiError> {
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
    let (full_access_token, expires_at) = sign(app, stored.identity.clone(), stored.amr.clone(), stored.auth_time, now)?;
    let refresh_token = random_id();
    let next = RefreshToken { used: false, expires_at: now + REFRESH_LIFETIME, ..stored.clone() };
    let writes = vec![
        app.store.flip_once(refresh_pk(&hash), REFRESH_SK, "used")?,
        app.store.absent(chain_pk(&stored.chain_id), CHAIN_SK)?,
        app.store.put_new(&next, refresh_pk(&sha256_hex(refresh_token.as_bytes())), REFRESH_SK)?,
    ];
    match app.store.transact(writes).await {
        Ok(()) => Ok(Session { full_access_token, refresh_token, expires_at }),
        // Spent by a concurrent request, or the chain was revoked: the same as reuse.
        Err(StoreError::Spent) => {
            revoke_chain(app, &stored, now).await?;
            Err(refused())
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_chain(app: &App, token: &RefreshToken, now: i64) -> Result<(), ApiError> {
    tracing::warn!(user_id = %token.user_id, "a spent refresh token was presented; revoking its chain");
    let revoked = RevokedChain { user_id: token.user_id.clone(), revoked_at: now, expires_at: now + REFRESH_LIFETIME };
    app.store.put(&revoked, chain_pk(&token.chain_id), CHAIN_SK).await?;
    Ok(())
}
