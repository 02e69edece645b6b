//! `POST /mfa/passkey/complete-registration` (and its `-1` alias) and
//! `POST /mfa/passkey/auth-options`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::Value;

use super::require_method;
use crate::App;
use crate::body;
use crate::ceremonies;
use crate::envelope::{self, ApiError, respond};
use crate::notify::{self, Notice};

#[derive(Debug, Deserialize)]
struct CompleteInput {
    credential: Value,
    challenge: String,
}

/// `POST /mfa/passkey/complete-registration` and `-1`: `{credential, challenge}`.
pub async fn complete_registration(app: &App, req: Request) -> Response<Body> {
    respond(complete_run(app, &req).await)
}

async fn complete_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: CompleteInput = body::json(req)?;
    if !input.credential.is_object() {
        return Err(ApiError::bad_request("INVALID_FIELD", "Field `credential` must be the registration response object."));
    }
    let (name, to) = ceremonies::finish_registration(app, &principal, input.credential, &input.challenge).await?;
    notify::send(app, &to, Notice::PasskeyAdded { name }).await;
    Ok(envelope::message("Passkey registration completed"))
}

/// `POST /mfa/passkey/auth-options`: takes no input.
pub async fn auth_options(app: &App, req: Request) -> Response<Body> {
    respond(auth_options_run(app, &req).await)
}

async fn auth_options_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let _: Value = body::json_or_default(req)?;
    let options = ceremonies::start_authentication(app, &principal).await?;
    Ok(envelope::data(&options))
}
