//! Frontegg's pre-login routes (`/resources/auth/v1/user/mfa/…` and the remember-device
//! policy): the second step of a login, and the enrolment of a user who has no MFA yet
//! (an organization requires it) that logs them in. The caller is the platform token of
//! the password step, as `mfaToken`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Device;
use super::{authenticated, required, required_text};
use crate::App;
use crate::auth::Caller;
use crate::auth::Principal;
use crate::crypto::SecretString;
use crate::devices;
use crate::edge::{Answer, Call, Json};
use crate::envelope::frontegg;
use crate::methods::{self, Finish, Login, SetupRequest, codes, passkey};
use crate::model::MfaType;
use crate::proof::{LoginProof, SetupProof};
use crate::refusal::Refusal;
use crate::sessions;

/// What an enrolment at login finishes with: a session, and one recovery code.
fn logging_in(remember: bool) -> Finish {
    Finish { log_in: true, remember, backup_codes: 1 }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeLogin {
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    value: SecretString,
    #[serde(default)]
    remember_device: bool,
}

/// `POST …/auth/v1/user/mfa/verify` `{mfaToken, value, rememberDevice?}`: logs in with a
/// code of any of the user's authenticators.
pub async fn verify(call: Call<'_>, principal: Principal, Json(input): Json<CodeLogin>) -> Answer {
    code_login(call.app, &principal, None, input).await
}

/// `POST …/auth/v1/user/mfa/authenticator/{deviceId}/verify`: logs in with a code of
/// that authenticator.
pub async fn authenticator_verify(
    call: Call<'_>,
    principal: Principal,
    (Device(id), Json(input)): (Device, Json<CodeLogin>),
) -> Answer {
    code_login(call.app, &principal, Some(id), input).await
}

async fn code_login(app: &App, principal: &Principal, factor_id: Option<String>, input: CodeLogin) -> Answer {
    let proof = LoginProof::Authenticator { code: required(input.value, "value")?, factor_id };
    let session = methods::log_in(app, principal, proof, input.remember_device).await?;
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, principal, &session, None)))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecoverInput {
    email: String,
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    recovery_code: SecretString,
}

/// `POST …/auth/v1/user/mfa/recover` `{email, recoveryCode}`: the recovery code is spent
/// and the user's MFA reset (Frontegg's recovery turns MFA off); every session of the
/// user ends. The caller is the platform token (Frontegg's client sends it as the bearer;
/// a body's `mfaToken` counts too, as on the other pre-login routes);
/// `email`, when the token names one, must be its address.
pub async fn recover(Call { app, .. }: Call<'_>, principal: Principal, Json(input): Json<RecoverInput>) -> Answer {
    let email = required_text(input.email, "email")?;
    if principal.email.as_deref().is_some_and(|own| !own.eq_ignore_ascii_case(email.trim())) {
        return Err(Refusal::InvalidField("Field `email` must be the address of the user signing in.".into()));
    }
    let code = required(input.recovery_code, "recoveryCode")?;
    methods::reset_with_proof(app, &principal, Login::BackupCode(code)).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({})))
}

/// `POST …/auth/v1/user/mfa/authenticator/enroll` `{mfaToken}`: begins an authenticator
/// (`{qrCode}`); its recovery code comes with the completion.
pub async fn authenticator_enroll(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let qr = super::account::begin_authenticator(app, &principal).await?;
    Ok(frontegg(StatusCode::CREATED, &qr))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EnrollVerify {
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    token: SecretString,
    #[serde(default)]
    remember_device: bool,
}

/// `POST …/auth/v1/user/mfa/authenticator/enroll/verify` `{mfaToken, token}`: completes
/// the authenticator and logs in.
pub async fn authenticator_enroll_verify(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<EnrollVerify>,
) -> Answer {
    let proof = SetupProof::Authenticator { code: required(input.token, "token")?, factor_id: None };
    complete_and_log_in(app, &principal, proof, input.remember_device).await
}

/// A setup completed with `proof` that also logs in: Frontegg's authentication response
/// with the first factor's recovery code.
async fn complete_and_log_in(
    app: &App,
    principal: &crate::auth::Principal,
    proof: SetupProof,
    remember: bool,
) -> Result<Response<Body>, Refusal> {
    let completed = methods::complete(app, principal, proof, logging_in(remember)).await?;
    let Some(session) = &completed.session else {
        tracing::error!("a completion asked to log in started no session");
        return Err(Refusal::Internal);
    };
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, principal, session, completed.backup_codes.clone())))
}

/// `POST …/auth/v1/user/mfa/sms/enroll` `{mfaToken, phoneNumber}`: texts a setup code
/// (`{otcToken, phoneNumber}`, the number masked).
pub async fn sms_enroll(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<super::PhoneInput>,
) -> Answer {
    let sent = super::account::begin_phone(app, &principal, input.phone_number).await?;
    Ok(frontegg(StatusCode::CREATED, &sent))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeInput {
    otc_token: String,
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    code: SecretString,
    #[serde(default)]
    remember_device: bool,
}

/// `POST …/auth/v1/user/mfa/sms/enroll/verify` `{mfaToken, otcToken, code}`: completes
/// the phone and logs in.
pub async fn sms_enroll_verify(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<CodeInput>,
) -> Answer {
    let factor_id = Some(required_text(input.otc_token, "otcToken")?);
    let proof = SetupProof::Sent { method: MfaType::Sms, code: required(input.code, "code")?, factor_id };
    complete_and_log_in(app, &principal, proof, input.remember_device).await
}

/// `POST …/auth/v1/user/mfa/sms/{deviceId}` `{mfaToken}`: texts a login code to that
/// phone (`{otcToken, phoneNumber}`).
pub async fn sms_send(Call { app, .. }: Call<'_>, principal: Principal, Device(id): Device) -> Answer {
    let (otc_token, phone) = codes::send_login(app, &principal, MfaType::Sms, Some(&id)).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({"otcToken": otc_token, "phoneNumber": phone})))
}

/// `POST …/auth/v1/user/mfa/sms/{deviceId}/verify` `{mfaToken, otcToken, code}`.
pub async fn sms_verify(
    call: Call<'_>,
    principal: Principal,
    (Json(input), Device(id)): (Json<CodeInput>, Device),
) -> Answer {
    let otc_token = required_text(input.otc_token.clone(), "otcToken")?;
    let factor_id = super::same_device(id, &otc_token)?;
    sent_code_login(call.app, &principal, MfaType::Sms, input, factor_id).await
}

/// `POST …/auth/v1/user/mfa/emailcode/verify` `{mfaToken, otcToken, code}`.
pub async fn emailcode_verify(call: Call<'_>, principal: Principal, Json(input): Json<CodeInput>) -> Answer {
    let factor_id = required_text(input.otc_token.clone(), "otcToken")?;
    sent_code_login(call.app, &principal, MfaType::EmailOtp, input, factor_id).await
}

async fn sent_code_login(
    app: &App,
    principal: &Principal,
    method: MfaType,
    input: CodeInput,
    factor_id: String,
) -> Answer {
    let proof = LoginProof::Sent { method, code: required(input.code, "code")?, factor_id: Some(factor_id) };
    let session = methods::log_in(app, principal, proof, input.remember_device).await?;
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, principal, &session, None)))
}

/// `POST …/auth/v1/user/mfa/emailcode` `{mfaToken}`: mails a login code to the user's
/// email-code address (`{otcToken}`).
pub async fn emailcode_send(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let (otc_token, _) = codes::send_login(app, &principal, MfaType::EmailOtp, None).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({"otcToken": otc_token})))
}

/// `POST …/auth/v1/user/mfa/webauthn/enroll` `{mfaToken}`: begins a passkey
/// (`{webauthnToken, options}`: the challenge, and the creation options).
pub async fn webauthn_enroll(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let request = SetupRequest::default();
    let started = methods::setup(app, &principal, MfaType::Passkey, request).await?;
    match started.setup {
        methods::Setup::Passkey { challenge, public_key, .. } => {
            Ok(frontegg(StatusCode::CREATED, &json!({"webauthnToken": challenge, "options": public_key})))
        }
        other => Err(super::unexpected(other)),
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebauthnInput {
    webauthn_token: String,
    /// Required: the handler refuses a body without it, saying what it must hold.
    #[cfg_attr(feature = "contract", schemars(required))]
    options: Option<Value>,
    #[serde(default)]
    remember_device: bool,
}

fn credential(options: Option<Value>) -> Result<Value, Refusal> {
    options.filter(Value::is_object).ok_or_else(|| {
        Refusal::InvalidField("Field `options` is required: the credential the browser returned, as JSON.".into())
    })
}

/// `POST …/auth/v1/user/mfa/webauthn/enroll/verify` `{mfaToken, webauthnToken,
/// deviceType, options}`: completes the passkey and logs in.
pub async fn webauthn_enroll_verify(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<WebauthnInput>,
) -> Answer {
    let challenge = Some(required_text(input.webauthn_token, "webauthnToken")?);
    let proof = SetupProof::Registration { credential: credential(input.options)?, challenge, factor_id: None };
    complete_and_log_in(app, &principal, proof, input.remember_device).await
}

/// `POST …/auth/v1/user/mfa/webauthn/{deviceId}` `{mfaToken}`: opens a login ceremony
/// for that passkey (`{webauthnToken, options}`).
pub async fn webauthn_options(Call { app, .. }: Call<'_>, principal: Principal, Device(id): Device) -> Answer {
    let options = passkey::auth_options(app, &principal, Some(&id)).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({"webauthnToken": options["challenge"], "options": options["publicKey"]})))
}

/// `POST …/auth/v1/user/mfa/webauthn/{deviceId}/verify` `{mfaToken, webauthnToken,
/// options}`: logs in with that passkey's assertion.
pub async fn webauthn_verify(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (Device(id), Json(input)): (Device, Json<WebauthnInput>),
) -> Answer {
    let proof = LoginProof::Assertion { credential: credential(input.options)?, factor_id: Some(id) };
    let session = methods::log_in(app, &principal, proof, input.remember_device).await?;
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, &principal, &session, None)))
}

/// `GET …/configurations/v1/mfa-policy/allow-remember-device?mfaToken=…`: whether a
/// login's `rememberDevice` will be honoured, and for how many seconds.
pub async fn allow_remember_device(Call { app, .. }: Call<'_>, caller: Caller, _: ()) -> Answer {
    let policy = match caller {
        Caller::User(principal) => {
            let (record, policy) =
                app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
            sessions::ensure_live(&principal, &record, app.clock.now())?;
            policy
        }
        // The platform's backend asks about the organization `frontegg-tenant-id` names (none:
        // the deployment's own rule).
        Caller::Server { tenant: Some(org) } => app.store.load_policy(&org).await?,
        Caller::Server { tenant: None } => None,
    };
    let rule = devices::remembering(app, policy.as_ref());
    Ok(frontegg(
        StatusCode::OK,
        &json!({"isAllowedToRemember": rule.is_allowed_to_remember, "mfaDeviceExpiration": rule.lifetime_seconds}),
    ))
}
