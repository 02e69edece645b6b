//! `POST /mfa/magic-link/send` and `POST /mfa/magic-link/activate`.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::require_method;
use crate::App;
use crate::body;
use crate::crypto::SecretString;
use crate::envelope::{self, respond};
use crate::methods::magic_link;
use crate::model::Purpose;
use crate::notify;
use crate::policy::Actor;
use crate::refusal::Refusal;

/// `POST /mfa/magic-link/send`: mails a login link (MAGIC_LINK must be enabled) to the
/// address named, or the one used (or added) most recently. Takes no other input; sending
/// never resets the failure count.
pub async fn send(app: &App, req: Request) -> Response<Body> {
    respond(send_run(app, &req).await)
}

async fn send_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let super::FactorChoice { factor_id } = body::json_or_default(req)?;
    magic_link::send(app, &principal, Purpose::Login, None, factor_id.as_deref()).await?;
    Ok(envelope::message("Magic link sent successfully"))
}

#[derive(Debug, Deserialize)]
struct ActivateInput {
    token: SecretString,
}

/// `POST /mfa/magic-link/activate`: no Authorization header; the mailed token is the
/// credential. Only this POST spends it, so a mail scanner fetching the link does not.
pub async fn activate(app: &App, req: Request) -> Response<Body> {
    respond(activate_run(app, &req).await)
}

async fn activate_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let input: ActivateInput = body::json(req)?;
    let completed = magic_link::activate(app, &input.token, Actor::LinkHolder).await?;
    notify::send(app, &completed.to, completed.notice).await;
    Ok(super::completed("Magic link MFA activated successfully", completed.backup_codes))
}
