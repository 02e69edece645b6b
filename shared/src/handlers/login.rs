//! The second step of a login and what follows it: `POST /mfa/verify-login`,
//! `POST /mfa/recover` (a backup code) and `POST /mfa/token/refresh`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::Value;

use super::require_method;
use crate::App;
use crate::body;
use crate::ceremonies;
use crate::envelope::{ApiError, json_response, respond};
use crate::methods::backup_codes;
use crate::model::MfaType;
use crate::notify::{self, Notice};
use crate::tokens;
use crate::verify::{self, ensure_unlocked, fail};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyLoginInput {
    mfa_type: MfaType,
    code: Option<String>,
    token: Option<String>,
    credential: Option<Value>,
    /// Accepted for compatibility; remembered devices are not offered.
    #[allow(dead_code)]
    remember_device: Option<bool>,
}

fn required(field: &str, method: MfaType) -> ApiError {
    ApiError::bad_request("INVALID_FIELD", format!("Field `{field}` is required for {}.", method.as_str()))
}

/// `POST /mfa/verify-login`: checks the second factor and issues a full-access token and
/// a refresh token. Failures of every method count toward the same lockout.
pub async fn verify_login(app: &App, req: Request) -> Response<Body> {
    respond(verify_login_run(app, &req).await)
}

async fn verify_login_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth.authenticate(req)?;
    let input: VerifyLoginInput = body::json(req)?;
    let user = &principal.user_id;
    let amr = match input.mfa_type {
        MfaType::GoogleAuth => {
            let code = input.code.filter(|c| !c.trim().is_empty()).ok_or_else(|| required("code", MfaType::GoogleAuth))?;
            verify::totp_code(app, user, &code).await?;
            "otp"
        }
        MfaType::MagicLink => {
            let token = input.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| required("token", MfaType::MagicLink))?;
            verify::magic_link_login(app, user, &token).await?;
            "email"
        }
        MfaType::Passkey => {
            let credential = input.credential.filter(Value::is_object).ok_or_else(|| required("credential", MfaType::Passkey))?;
            ceremonies::verify_assertion(app, user, credential).await?;
            "hwk"
        }
    };
    let session = tokens::issue(app, &principal, &["pwd", amr, "mfa"]).await?;
    Ok(json_response(StatusCode::OK, &session.body("MFA verification successful")))
}

#[derive(Debug, Deserialize)]
struct RecoverInput {
    code: String,
}

/// `POST /mfa/recover`: logs in with a backup code, which is spent; the user is told by mail.
pub async fn recover(app: &App, req: Request) -> Response<Body> {
    respond(recover_run(app, &req).await)
}

async fn recover_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth.authenticate(req)?;
    let input: RecoverInput = body::json(req)?;
    let now = app.clock.now();
    let presented = backup_codes::hash(&input.code);
    let (left, email) = app
        .store
        .update_user(principal.user_id.as_str(), None, None, |record, _| {
            ensure_unlocked(record, now)?;
            let position = presented.as_ref().and_then(|h| record.backup_codes.iter().position(|c| c == h));
            match position {
                Some(i) if record.has_mfa_enabled() => {
                    record.backup_codes.remove(i);
                    record.record_success();
                    Ok((record.backup_codes.len(), record.email.clone()))
                }
                _ => Err(fail(
                    record,
                    now,
                    ApiError::bad_request("INVALID_CODE", "The backup code is wrong or was already used; check it and try again."),
                )),
            }
        })
        .await?;
    notify::send(app, email.as_deref().or(principal.email.as_deref()), Notice::BackupCodeUsed { left }).await;
    let session = tokens::issue(app, &principal, &["pwd", "mfa"]).await?;
    Ok(json_response(StatusCode::OK, &session.body("Recovered with a backup code")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshInput {
    refresh_token: String,
}

/// `POST /mfa/token/refresh`: rotates the refresh token and issues a new access token.
pub async fn refresh(app: &App, req: Request) -> Response<Body> {
    respond(refresh_run(app, &req).await)
}

async fn refresh_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth.authenticate(req)?;
    let input: RefreshInput = body::json(req)?;
    let session = tokens::refresh(app, &principal, &input.refresh_token).await?;
    Ok(json_response(StatusCode::OK, &session.body("Token refreshed")))
}
