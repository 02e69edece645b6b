//! Frontegg's pre-login routes (`/resources/auth/v1/user/mfa/…` and the remember-device
//! policy): the second step of a login, and the enrolment of a user who has no MFA yet
//! (an organization requires it) that logs them in. The caller is the platform token of
//! the password step, as `mfaToken`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{answer, authenticated, device_id, pre_login_caller, required, required_text};
use crate::App;
use crate::auth::Caller;
use crate::body;
use crate::crypto::SecretString;
use crate::devices;
use crate::envelope::frontegg;
use crate::handlers::require_method;
use crate::methods::{self, Finish, Login, SetupRequest, codes, passkey};
use crate::model::MfaType;
use crate::notify;
use crate::proof::{LoginProof, SetupProof};
use crate::refusal::Refusal;
use crate::sessions;

/// What an enrolment at login finishes with: a session, and one recovery code.
fn logging_in(remember: bool) -> Finish {
    Finish { log_in: true, remember, backup_codes: 1 }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeLogin {
    value: Option<SecretString>,
    #[serde(default)]
    remember_device: bool,
}

/// `POST …/auth/v1/user/mfa/verify` `{mfaToken, value, rememberDevice?}`: logs in with a
/// code of any of the user's authenticators.
pub async fn verify(app: &App, req: Request) -> Response<Body> {
    answer(code_login(app, &req, false).await)
}

/// `POST …/auth/v1/user/mfa/authenticator/{deviceId}/verify`: logs in with a code of
/// that authenticator.
pub async fn authenticator_verify(app: &App, req: Request) -> Response<Body> {
    answer(code_login(app, &req, true).await)
}

async fn code_login(app: &App, req: &Request, by_device: bool) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let factor_id = if by_device { Some(device_id(req)?) } else { None };
    let input: CodeLogin = body::json(req)?;
    let proof = LoginProof::Authenticator { code: required(input.value, "value")?, factor_id };
    let session = methods::log_in(app, &principal, proof, input.remember_device).await?;
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, &principal, &session, None)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecoverInput {
    email: Option<String>,
    recovery_code: Option<SecretString>,
}

/// `POST …/auth/v1/user/mfa/recover` `{email, recoveryCode}`: the recovery code is spent
/// and the user's MFA reset (Frontegg's recovery turns MFA off); every session of the
/// user ends. The caller is the platform token (the bearer: the body has no `mfaToken`);
/// `email`, when the token names one, must be its address.
pub async fn recover(app: &App, req: Request) -> Response<Body> {
    answer(recover_run(app, &req).await)
}

async fn recover_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let input: RecoverInput = body::json(req)?;
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
pub async fn authenticator_enroll(app: &App, req: Request) -> Response<Body> {
    answer(authenticator_enroll_run(app, &req).await)
}

async fn authenticator_enroll_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let qr = super::account::begin_authenticator(app, &principal).await?;
    Ok(frontegg(StatusCode::CREATED, &qr))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnrollVerify {
    token: Option<SecretString>,
    #[serde(default)]
    remember_device: bool,
}

/// `POST …/auth/v1/user/mfa/authenticator/enroll/verify` `{mfaToken, token}`: completes
/// the authenticator and logs in.
pub async fn authenticator_enroll_verify(app: &App, req: Request) -> Response<Body> {
    answer(authenticator_enroll_verify_run(app, &req).await)
}

async fn authenticator_enroll_verify_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let input: EnrollVerify = body::json(req)?;
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
    notify::send(app, &completed.to, completed.notice).await;
    let Some(session) = &completed.session else {
        tracing::error!("a completion asked to log in started no session");
        return Err(Refusal::Internal);
    };
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, principal, session, completed.backup_codes.clone())))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneInput {
    phone_number: Option<String>,
}

/// `POST …/auth/v1/user/mfa/sms/enroll` `{mfaToken, phoneNumber}`: texts a setup code
/// (`{otcToken, phoneNumber}`, the number masked).
pub async fn sms_enroll(app: &App, req: Request) -> Response<Body> {
    answer(sms_enroll_run(app, &req).await)
}

async fn sms_enroll_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let input: PhoneInput = body::json(req)?;
    let sent = super::account::begin_phone(app, &principal, input.phone_number).await?;
    Ok(frontegg(StatusCode::CREATED, &sent))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeInput {
    otc_token: Option<String>,
    code: Option<SecretString>,
    #[serde(default)]
    remember_device: bool,
}

/// `POST …/auth/v1/user/mfa/sms/enroll/verify` `{mfaToken, otcToken, code}`: completes
/// the phone and logs in.
pub async fn sms_enroll_verify(app: &App, req: Request) -> Response<Body> {
    answer(sms_enroll_verify_run(app, &req).await)
}

async fn sms_enroll_verify_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let input: CodeInput = body::json(req)?;
    let factor_id = Some(required_text(input.otc_token, "otcToken")?);
    let proof = SetupProof::Sent { method: MfaType::Sms, code: required(input.code, "code")?, factor_id };
    complete_and_log_in(app, &principal, proof, input.remember_device).await
}

/// `POST …/auth/v1/user/mfa/sms/{deviceId}` `{mfaToken}`: texts a login code to that
/// phone (`{otcToken, phoneNumber}`).
pub async fn sms_send(app: &App, req: Request) -> Response<Body> {
    answer(sms_send_run(app, &req).await)
}

async fn sms_send_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let id = device_id(req)?;
    let (otc_token, phone) = codes::send_login(app, &principal, MfaType::Sms, Some(&id)).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({"otcToken": otc_token, "phoneNumber": phone})))
}

/// `POST …/auth/v1/user/mfa/sms/{deviceId}/verify` `{mfaToken, otcToken, code}`.
pub async fn sms_verify(app: &App, req: Request) -> Response<Body> {
    answer(sent_code_login(app, &req, MfaType::Sms).await)
}

/// `POST …/auth/v1/user/mfa/emailcode/verify` `{mfaToken, otcToken, code}`.
pub async fn emailcode_verify(app: &App, req: Request) -> Response<Body> {
    answer(sent_code_login(app, &req, MfaType::EmailOtp).await)
}

async fn sent_code_login(app: &App, req: &Request, method: MfaType) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let input: CodeInput = body::json(req)?;
    let otc_token = required_text(input.otc_token, "otcToken")?;
    let factor_id = match method {
        MfaType::Sms => super::same_device(device_id(req)?, &otc_token)?,
        _ => otc_token,
    };
    let proof = LoginProof::Sent { method, code: required(input.code, "code")?, factor_id: Some(factor_id) };
    let session = methods::log_in(app, &principal, proof, input.remember_device).await?;
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, &principal, &session, None)))
}

/// `POST …/auth/v1/user/mfa/emailcode` `{mfaToken}`: mails a login code to the user's
/// email-code address (`{otcToken}`).
pub async fn emailcode_send(app: &App, req: Request) -> Response<Body> {
    answer(emailcode_send_run(app, &req).await)
}

async fn emailcode_send_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let (otc_token, _) = codes::send_login(app, &principal, MfaType::EmailOtp, None).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({"otcToken": otc_token})))
}

/// `POST …/auth/v1/user/mfa/webauthn/enroll` `{mfaToken}`: begins a passkey
/// (`{webauthnToken, options}`: the challenge, and the creation options).
pub async fn webauthn_enroll(app: &App, req: Request) -> Response<Body> {
    answer(webauthn_enroll_run(app, &req).await)
}

async fn webauthn_enroll_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let request = SetupRequest::default();
    let started = methods::setup(app, &principal, MfaType::Passkey, request).await?;
    if !started.to.is_empty() {
        notify::send(app, &started.to, started.notice).await;
    }
    match started.setup {
        methods::Setup::Passkey { challenge, public_key, .. } => {
            Ok(frontegg(StatusCode::CREATED, &json!({"webauthnToken": challenge, "options": public_key})))
        }
        other => Err(super::unexpected(other)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebauthnInput {
    webauthn_token: Option<String>,
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
pub async fn webauthn_enroll_verify(app: &App, req: Request) -> Response<Body> {
    answer(webauthn_enroll_verify_run(app, &req).await)
}

async fn webauthn_enroll_verify_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let input: WebauthnInput = body::json(req)?;
    let challenge = Some(required_text(input.webauthn_token, "webauthnToken")?);
    let proof = SetupProof::Registration { credential: credential(input.options)?, challenge, factor_id: None };
    complete_and_log_in(app, &principal, proof, input.remember_device).await
}

/// `POST …/auth/v1/user/mfa/webauthn/{deviceId}` `{mfaToken}`: opens a login ceremony
/// for that passkey (`{webauthnToken, options}`).
pub async fn webauthn_options(app: &App, req: Request) -> Response<Body> {
    answer(webauthn_options_run(app, &req).await)
}

async fn webauthn_options_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let id = device_id(req)?;
    let options = passkey::auth_options(app, &principal, Some(&id)).await?;
    Ok(frontegg(StatusCode::CREATED, &json!({"webauthnToken": options["challenge"], "options": options["publicKey"]})))
}

/// `POST …/auth/v1/user/mfa/webauthn/{deviceId}/verify` `{mfaToken, webauthnToken,
/// options}`: logs in with that passkey's assertion.
pub async fn webauthn_verify(app: &App, req: Request) -> Response<Body> {
    answer(webauthn_verify_run(app, &req).await)
}

async fn webauthn_verify_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = pre_login_caller(app, req)?;
    let factor_id = Some(device_id(req)?);
    let input: WebauthnInput = body::json(req)?;
    let proof = LoginProof::Assertion { credential: credential(input.options)?, factor_id };
    let session = methods::log_in(app, &principal, proof, input.remember_device).await?;
    Ok(frontegg(StatusCode::CREATED, &authenticated(app, &principal, &session, None)))
}

/// `GET …/configurations/v1/mfa-policy/allow-remember-device?mfaToken=…`: whether a
/// login's `rememberDevice` will be honoured, and for how many seconds.
pub async fn allow_remember_device(app: &App, req: Request) -> Response<Body> {
    answer(allow_remember_device_run(app, &req).await)
}

async fn allow_remember_device_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "GET")?;
    let query = req.query_string_parameters_ref().and_then(|q| q.first("mfaToken")).map(str::to_string);
    let policy = match app.auth()?.identify(req, query.as_deref())? {
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
    let (allowed, lifetime) = devices::remembering(app, policy.as_ref());
    Ok(frontegg(StatusCode::OK, &json!({"isAllowedToRemember": allowed, "mfaDeviceExpiration": lifetime})))
}
