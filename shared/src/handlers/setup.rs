use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use super::require_method;
use crate::App;
use crate::auth::Principal;
use crate::body;
use crate::envelope::{self, ApiError, respond};
use crate::methods::magic_link::Purpose;
use crate::methods::{backup_codes, totp};
use crate::model::MfaType;
use crate::policy::{Action, Change};
use crate::verify::{seal_totp_secret, send_magic_link};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetupInput {
    mfa_type: MfaType,
    email: Option<String>,
    device_info: Option<DeviceInfo>,
}

#[derive(Debug, Default, Deserialize)]
struct DeviceInfo {
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TotpSetup {
    secret: String,
    otpauth_url: String,
    qr_code: String,
    backup_codes: Vec<String>,
}

/// `POST /mfa/setup`: starts setting up a method. While the user has MFA, any setup needs
/// step-up (the policy's `StartSetup`), decided in the write that records it.
pub async fn setup(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: SetupInput = body::json(req)?;
    match input.mfa_type {
        MfaType::GoogleAuth => google_auth(app, &principal).await,
        MfaType::MagicLink => {
            let email = send_magic_link(app, &principal, Purpose::Activate, input.email).await?;
            Ok(envelope::data(&serde_json::json!({"email": email, "verificationRequired": true})))
        }
        MfaType::Passkey => {
            let name = input.device_info.and_then(|d| d.name);
            Ok(envelope::data(&crate::ceremonies::start_registration(app, &principal, name).await?))
        }
    }
}

/// A new secret, pending until `verify-setup` accepts a code from it. Setting up again
/// while pending replaces the pending secret.
async fn google_auth(app: &App, principal: &Principal) -> Result<Response<Body>, ApiError> {
    let keyring = app.keyring()?;
    let now = app.clock.now();
    let account = principal.email.as_deref().unwrap_or(principal.user_id.as_str());
    let enrollment = totp::enroll(&app.totp_issuer, account).map_err(|e| {
        tracing::error!(error = %e, "building an authenticator enrollment failed");
        ApiError::internal()
    })?;
    let (codes, hashes) = backup_codes::generate();
    let user = principal.user_id.as_str();
    let sealed = seal_totp_secret(keyring, user, &enrollment.raw_secret);
    let change = Change::by_user(Action::StartSetup, principal, now);
    app.store
        .update_user(user, None, &change, |record, _| {
            record.totp.pending = Some(sealed.clone());
            record.pending_backup_codes = hashes.clone();
            record.begin_setup(MfaType::GoogleAuth, change.has_fresh_factor(), None, now);
            Ok(())
        })
        .await?;
    Ok(envelope::data(&TotpSetup {
        secret: enrollment.secret,
        otpauth_url: enrollment.otpauth_url,
        qr_code: enrollment.qr_code,
        backup_codes: codes,
    }))
}
