use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::require_method;
use crate::App;
use crate::body;
use crate::envelope::{self, ApiError, respond};
use crate::lockout;
use crate::model::MfaType;
use crate::notify::{self, Notice};
use crate::policy::{Actor, Change};
use crate::verify::{activate_magic_link, activate_pending_totp};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifySetupInput {
    mfa_type: MfaType,
    code: Option<String>,
    token: Option<String>,
}

/// `POST /mfa/verify-setup`: proves the pending setup works and enables the method. The
/// policy re-checks, in the write, that the setup is still authorized.
pub async fn verify_setup(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: VerifySetupInput = body::json(req)?;
    match input.mfa_type {
        MfaType::GoogleAuth => {
            let code = input
                .code
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("INVALID_FIELD", "Field `code` is required for GOOGLE_AUTH."))?;
            let keyring = app.keyring()?;
            let now = app.clock.now();
            let change = Change::completing(MfaType::GoogleAuth, Actor::User(&principal), now);
            let to = lockout::attempt(
                app,
                principal.user_id.as_str(),
                change,
                |record| {
                    let to = notify::recipients(record, principal.email.as_deref());
                    activate_pending_totp(record, keyring, &code, now).map(|()| (to, Vec::new()))
                },
                ApiError::internal,
            )
            .await?;
            notify::send(app, &to, Notice::MethodEnabled(MfaType::GoogleAuth)).await;
            Ok(envelope::message("MFA setup verified and enabled"))
        }
        MfaType::MagicLink => {
            let token = input
                .token
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("INVALID_FIELD", "Field `token` (from the activation email) is required for MAGIC_LINK."))?;
            let to = activate_magic_link(app, &token, Actor::User(&principal)).await?;
            notify::send(app, &to, Notice::MethodEnabled(MfaType::MagicLink)).await;
            Ok(envelope::message("MFA setup verified and enabled"))
        }
        other => Err(ApiError::bad_request(
            "METHOD_UNAVAILABLE",
            format!("{} cannot be verified on this deployment yet; use GOOGLE_AUTH or MAGIC_LINK.", other.as_str()),
        )),
    }
}
