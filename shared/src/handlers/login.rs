//! The second step of a login and what follows it: `POST /mfa/verify-login`,
//! `POST /mfa/recover` (a backup code) and `POST /mfa/token/refresh`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::Value;

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::require_method;
use crate::App;
use crate::auth::Principal;
use crate::body;
use crate::ceremonies;
use crate::envelope::{ApiError, json_response, respond};
use crate::lockout::{self, Failure};
use crate::methods::backup_codes;
use crate::model::{MfaType, UserMfaRecord};
use crate::notify::{self, Notice};
use crate::policy::{Action, Change};
use crate::tokens::{self, Session};
use crate::verify;

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
    let principal = app.auth()?.authenticate(req)?;
    let input: VerifyLoginInput = body::json(req)?;
    let now = app.clock.now();
    let session = match input.mfa_type {
        MfaType::GoogleAuth => {
            let code = input.code.filter(|c| !c.trim().is_empty()).ok_or_else(|| required("code", MfaType::GoogleAuth))?;
            let keyring = app.keyring()?;
            login(app, &principal, "otp", now, |record| verify::check_totp(record, keyring, &code, now).map(|()| Vec::new()), ApiError::internal)
                .await?
        }
        MfaType::MagicLink => {
            let token = input.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| required("token", MfaType::MagicLink))?;
            let found = verify::find_login_link(app, &token).await?;
            login(app, &principal, "email", now, |record| verify::check_magic_link(app, record, &found, now), verify::invalid_link)
                .await?
        }
        MfaType::Passkey => {
            let credential = input.credential.filter(Value::is_object).ok_or_else(|| required("credential", MfaType::Passkey))?;
            let checked = ceremonies::read_assertion(app, &principal, credential).await?;
            login(app, &principal, "hwk", now, |record| ceremonies::check_assertion(app, record, &checked, now), ceremonies::ceremony_gone)
                .await?
        }
    };
    Ok(json_response(StatusCode::OK, &session.body("MFA verification successful")))
}

/// One second-factor check of a login, through the lockout; when it passes, the session
/// starts in the same transaction (the refresh token is written with the record).
async fn login(
    app: &App,
    principal: &Principal,
    amr: &str,
    now: i64,
    mut check: impl FnMut(&mut UserMfaRecord) -> Result<Vec<TransactWriteItem>, Failure>,
    spent: impl Fn() -> ApiError,
) -> Result<Session, ApiError> {
    let change = Change::by_user(Action::Verify, principal, now);
    lockout::attempt(
        app,
        principal.user_id.as_str(),
        change,
        |record| {
            let mut writes = check(record)?;
            let (session, put) = tokens::start(app, principal, &["pwd", amr, "mfa"], record.session_epoch, now)?;
            writes.push(put);
            Ok((session, writes))
        },
        spent,
    )
    .await
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
    let principal = app.auth()?.authenticate(req)?;
    let input: RecoverInput = body::json(req)?;
    let now = app.clock.now();
    let presented = backup_codes::hash(&input.code);
    let change = Change::by_user(Action::Verify, &principal, now);
    let (session, left, to) = lockout::attempt(
        app,
        principal.user_id.as_str(),
        change,
        |record| {
            let position = presented.as_ref().and_then(|h| record.backup_codes.iter().position(|c| c == h));
            let i = match position {
                Some(i) if record.has_mfa_enabled() => i,
                _ => {
                    return Err(Failure::Counted(ApiError::bad_request(
                        "INVALID_CODE",
                        "The backup code is wrong or was already used; check it and try again.",
                    )));
                }
            };
            let to = notify::recipients(record, principal.email.as_deref());
            record.backup_codes.remove(i);
            let (session, put) = tokens::start(app, &principal, &["pwd", "mfa"], record.session_epoch, now)?;
            Ok(((session, record.backup_codes.len(), to), vec![put]))
        },
        ApiError::internal,
    )
    .await?;
    notify::send(app, &to, Notice::BackupCodeUsed { left }).await;
    Ok(json_response(StatusCode::OK, &session.body("Recovered with a backup code")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshInput {
    refresh_token: String,
}

/// `POST /mfa/token/refresh`: rotates the refresh token and issues a new access token. The
/// bearer is the platform token (see `tokens`).
pub async fn refresh(app: &App, req: Request) -> Response<Body> {
    respond(refresh_run(app, &req).await)
}

async fn refresh_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: RefreshInput = body::json(req)?;
    let session = tokens::refresh(app, &principal, &input.refresh_token).await?;
    Ok(json_response(StatusCode::OK, &session.body("Token refreshed")))
}
