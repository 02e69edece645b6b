//! `POST /mfa/backup-codes`, `POST /mfa/organization/enforce` and `GET /.well-known/jwks.json`.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::require_method;
use crate::App;
use crate::body;
use crate::envelope::{self, ApiError, respond};
use crate::methods::backup_codes;
use crate::model::OrgPolicy;
use crate::notify::{self, Notice};
use crate::policy::{self, Action, Change};

/// `POST /mfa/backup-codes`: ten new codes; every old one is void. Needs step-up.
pub async fn regenerate_backup_codes(app: &App, req: Request) -> Response<Body> {
    respond(regenerate_run(app, &req).await)
}

async fn regenerate_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let _: serde_json::Value = body::json_or_default(req)?;
    let (codes, hashes) = backup_codes::generate();
    let change = Change::by_user(Action::RegenerateBackupCodes, &principal, app.clock.now());
    let to = app
        .store
        .update_user(principal.user_id.as_str(), None, &change, |record, _| {
            if !record.has_mfa_enabled() {
                return Err(ApiError::conflict("MFA_NOT_ENABLED", "Backup codes need MFA; enable a method first."));
            }
            let to = notify::recipients(record, principal.email.as_deref());
            record.backup_codes = hashes.clone();
            Ok(to)
        })
        .await?;
    notify::send(app, &to, Notice::CodesRegenerated).await;
    Ok(envelope::data(&serde_json::json!({ "backupCodes": codes })))
}

#[derive(Debug, Deserialize)]
struct EnforceInput {
    enforced: bool,
}

/// `POST /mfa/organization/enforce`: `OWNER` and `ADMINISTRATOR` only; lifting enforcement
/// also needs the administrator's own fresh second factor.
pub async fn enforce(app: &App, req: Request) -> Response<Body> {
    respond(enforce_run(app, &req).await)
}

async fn enforce_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: EnforceInput = body::json(req)?;
    let action = if input.enforced { Action::Enforce } else { Action::LiftEnforcement };
    let org = policy::authorize_admin(app, action, &principal).await?.to_string();
    let now = app.clock.now();
    for attempt in 1..=3 {
        let (_, policy) = app.store.load_user_and_policy(principal.user_id.as_str(), Some(&org)).await?;
        let mut policy = policy.unwrap_or_else(|| OrgPolicy { org_id: org.clone(), ..OrgPolicy::default() });
        policy.enforced = input.enforced;
        policy.updated_by = Some(principal.user_id.as_str().to_string());
        policy.updated_at = Some(now);
        match app.store.save_policy(&mut policy).await {
            Ok(()) => break,
            Err(crate::store::StoreError::Conflict) if attempt < 3 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(envelope::message(if input.enforced {
        "MFA enforcement enabled for organization"
    } else {
        "MFA enforcement disabled for organization"
    }))
}

/// The JWKS document, built once at cold start from `MFA_TOKEN_PUBLIC_KEYS`.
pub fn jwks_document(public_keys: &str) -> Result<String, &'static str> {
    crate::auth::parse_jwks(public_keys)?;
    let set: serde_json::Value = serde_json::from_str(public_keys).map_err(|_| "not JSON")?;
    Ok(serde_json::json!({ "keys": set["keys"] }).to_string())
}

/// `GET /.well-known/jwks.json`: the public keys that verify full-access tokens. No auth.
pub async fn jwks(document: &str, req: Request) -> Response<Body> {
    if let Err(e) = require_method(&req, "GET") {
        return respond(Err(e));
    }
    let mut response = Response::new(Body::Text(document.to_string()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
