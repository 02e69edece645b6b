//! `POST /mfa/passkey/complete-registration` (and its `-1` alias) and
//! `POST /mfa/passkey/auth-options`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::Value;

use super::require_method;
use crate::App;
use crate::body;
use crate::envelope::{self, respond};
use crate::methods::passkey;
use crate::notify;
use crate::refusal::Refusal;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteInput {
    credential: Value,
    challenge: String,
    factor_id: Option<String>,
}

/// `POST /mfa/passkey/complete-registration` and `-1`: `{credential, challenge}`.
pub async fn complete_registration(app: &App, req: Request) -> Response<Body> {
    respond(complete_run(app, &req).await)
}

async fn complete_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: CompleteInput = body::json(req)?;
    if !input.credential.is_object() {
        return Err(Refusal::InvalidField("Field `credential` must be the registration response object.".into()));
    }
    let completed = passkey::complete(
        app,
        &principal,
        input.credential,
        Some(&input.challenge),
        input.factor_id.as_deref(),
        Default::default(),
    )
    .await?;
    notify::send(app, &completed.to, completed.notice).await;
    Ok(super::completed("Passkey registration completed", completed.backup_codes))
}

/// `POST /mfa/passkey/auth-options`: takes no input.
pub async fn auth_options(app: &App, req: Request) -> Response<Body> {
    respond(auth_options_run(app, &req).await)
}

async fn auth_options_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let _: Value = body::json_or_default(req)?;
    Ok(envelope::data(&passkey::auth_options(app, &principal, None).await?))
}
