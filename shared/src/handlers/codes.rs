//! `POST /mfa/email-code/send` and `POST /mfa/sms/send`: a login code by mail or text.

use lambda_http::{Body, Request, Response};

use super::{FactorChoice, require_method};
use crate::App;
use crate::body;
use crate::envelope::{self, respond};
use crate::methods::codes;
use crate::model::MfaType;
use crate::refusal::Refusal;

/// `POST /mfa/email-code/send` `{factorId?}`: mails a login code to the address named, or
/// the one used (or added) most recently; sending never resets the failure count.
pub async fn send_email_code(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req, MfaType::EmailOtp, "A sign-in code was sent by email").await)
}

/// `POST /mfa/sms/send` `{factorId?}`: texts a login code to the phone named, or the one
/// used (or added) most recently; sending never resets the failure count.
pub async fn send_sms_code(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req, MfaType::Sms, "A sign-in code was sent by text message").await)
}

async fn run(app: &App, req: &Request, method: MfaType, done: &str) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let FactorChoice { factor_id } = body::json_or_default(req)?;
    codes::send_login(app, &principal, method, factor_id.as_deref()).await?;
    Ok(envelope::message(done))
}
