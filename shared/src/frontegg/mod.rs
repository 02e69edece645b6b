//! Frontegg's MFA API, route for route: adapters only. Each handler parses Frontegg's
//! shape, calls the same domain steps as our own routes (`methods`, `devices`, the one
//! policy, lockout, sessions and audit trail behind them) and writes Frontegg's shape:
//! its own bodies without the envelope, `201` for the pre-login `POST`s, and failures in
//! the envelope with Frontegg's `errors` and `errorCode` added (`envelope::Shape`).
//!
//! Tokens: the pre-login routes (`/resources/auth/v1/user/mfa/…`, the remember-device
//! policy) take the platform token as `mfaToken` in the body (the query, for the `GET`),
//! else as the bearer; the logged-in routes (`/resources/users/v1/mfa/…`) take the bearer
//! as our own routes do. `deviceId` is our factor id; `otcToken` is the id of the factor a
//! code was sent to; `webauthnToken` is the ceremony's challenge.

pub mod account;
pub mod login;

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use serde_json::{Value, json};

use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, SecretString};
use crate::refusal::Refusal;
use crate::sessions::Session;

/// `{phoneNumber}`: the phone an SMS enrolment (at login, or signed in) texts.
#[derive(Debug, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PhoneInput {
    phone_number: String,
}

/// The `{deviceId}` of the path: one of the caller's factors (Frontegg calls them
/// devices; another's is a factor not found).
pub struct Device(pub String);

impl crate::edge::Input for Device {
    fn read(req: &lambda_http::Request) -> Result<Self, Refusal> {
        crate::handlers::path_id(req, "deviceId", Refusal::FactorNotFound).map(Device)
    }
}

/// Frontegg's authentication response for a session a login started, with the one
/// recovery code a first enrolment brings (and the device token when the login
/// remembered its device).
fn authenticated(app: &App, principal: &Principal, session: &Session, recovery: Option<Vec<SecretString>>) -> Value {
    let now = app.clock.now();
    let expires = DateTime::from_secs(session.expires_at).fmt(DateTimeFormat::DateTime).unwrap_or_default();
    let mut body = json!({
        "tokenType": "bearer",
        "mfaRequired": false,
        "accessToken": session.full_access_token.expose_secret(),
        "refreshToken": session.refresh_token.expose_secret(),
        "expiresIn": (session.expires_at - now).max(0),
        "expires": expires,
        "userId": principal.user_id.as_str(),
        "userEmail": principal.email,
        "amr": session.amr,
        "auth_time": session.auth_time,
    });
    if let Some(code) = recovery.as_ref().and_then(|codes| codes.first()) {
        body["recoveryCode"] = json!(code.expose_secret());
    }
    if let Some(token) = &session.device_token {
        body["deviceToken"] = json!(token.expose_secret());
    }
    body
}

/// A setup of one method that answered as another's: a bug, never the caller's doing.
fn unexpected(setup: crate::methods::Setup) -> Refusal {
    tracing::error!(factor = setup.factor_id(), "a setup answered for another method");
    Refusal::Internal
}

/// `{recoveryCode}` when a completion issued one, else `{}`.
fn recovery(codes: Option<Vec<SecretString>>) -> Value {
    match codes.as_ref().and_then(|c| c.first()) {
        Some(code) => json!({ "recoveryCode": code.expose_secret() }),
        None => json!({}),
    }
}

/// A `token` that proves a factor in the request: an authenticator code (of `factor_id`,
/// when one is named; refused where the deployment does not offer authenticators), or a
/// recovery code.
async fn code_or_recovery(
    app: &App,
    principal: &Principal,
    token: SecretString,
    factor_id: Option<String>,
) -> Result<crate::methods::Login, Refusal> {
    if crate::methods::backup_codes::digest(token.expose_secret()).is_some() {
        return Ok(crate::methods::Login::BackupCode(token));
    }
    let proof = crate::proof::LoginProof::Authenticator { code: token, factor_id };
    Ok(crate::methods::Login::prepare(app, principal, proof, None).await?.0)
}

/// A required secret field, not blank.
fn required(value: SecretString, field: &str) -> Result<SecretString, Refusal> {
    Some(value)
        .filter(|v| !v.expose_secret().trim().is_empty())
        .ok_or_else(|| Refusal::InvalidField(format!("Field `{field}` is required.").into()))
}

/// A required field, not blank.
fn required_text(value: String, field: &str) -> Result<String, Refusal> {
    Some(value)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Refusal::InvalidField(format!("Field `{field}` is required.").into()))
}

/// The factor an `otcToken` names, when it must be the `{deviceId}` of the path.
fn same_device(device_id: String, otc_token: &str) -> Result<String, Refusal> {
    if device_id == otc_token {
        return Ok(device_id);
    }
    Err(Refusal::InvalidField(
        "Field `otcToken` is not the one sent for this device; send the `otcToken` its code came with.".into(),
    ))
}

#[cfg(feature = "contract")]
impl crate::edge::contract::Described for Device {
    fn body(_: &mut schemars::SchemaGenerator) -> Option<(serde_json::Value, bool)> {
        None
    }
}
