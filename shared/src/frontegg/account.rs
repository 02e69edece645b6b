//! Frontegg's logged-in routes (`/resources/users/v1/mfa/…`): enrolling an authenticator
//! or a phone, the device list, and removing a factor with its proof in the request (a
//! code, an assertion or a recovery code), which the policy counts as a fresh second
//! factor for that request only (`Requirement::FreshFactorOrProof`).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Device;
use super::{code_or_recovery, recovery, required, required_text, same_device, unexpected};
use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, SecretString};
use crate::edge::{Answer, Call, Json, Unused};
use crate::envelope::frontegg;
use crate::methods::{self, Finish, Login, SetupRequest, codes, passkey};
use crate::model::MfaType;
use crate::policy::Action;
use crate::proof::{LoginProof, SetupProof};
use crate::refusal::Refusal;
use crate::sessions;

/// A completion here logs nobody in; a first factor brings one recovery code.
const COMPLETING: Finish = Finish { log_in: false, remember: false, backup_codes: 1 };

/// Begins an authenticator: `{qrCode}` (its recovery code comes with the completion).
pub(super) async fn begin_authenticator(app: &App, principal: &Principal) -> Result<Value, Refusal> {
    let request = SetupRequest { backup_codes: Some(0), ..SetupRequest::default() };
    let started = methods::setup(app, principal, MfaType::GoogleAuth, request).await?;
    match started.setup {
        methods::Setup::Authenticator { qr_code, .. } => Ok(json!({ "qrCode": qr_code.expose_secret() })),
        other => Err(unexpected(other)),
    }
}

/// Begins a phone: texts its setup code; `{otcToken, phoneNumber}` (the number masked).
pub(super) async fn begin_phone(app: &App, principal: &Principal, phone: String) -> Result<Value, Refusal> {
    let phone_number = Some(required_text(phone, "phoneNumber")?);
    let request = SetupRequest { phone_number, ..SetupRequest::default() };
    let started = methods::setup(app, principal, MfaType::Sms, request).await?;
    match started.setup {
        methods::Setup::Code { factor_id, to: codes::Shown::Phone(masked) } => {
            Ok(json!({ "otcToken": factor_id, "phoneNumber": masked }))
        }
        other => Err(unexpected(other)),
    }
}

/// `POST …/users/v1/mfa/authenticator/enroll` (and the legacy `…/users/v1/mfa/enroll`):
/// begins an authenticator, `{qrCode}`.
pub async fn authenticator_enroll(Call { app, .. }: Call<'_>, principal: Principal, _: Unused) -> Answer {
    Ok(frontegg(StatusCode::OK, &begin_authenticator(app, &principal).await?))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct TokenInput {
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    token: SecretString,
}

/// `POST …/users/v1/mfa/authenticator/enroll/verify` (and the legacy
/// `…/users/v1/mfa/enroll/verify`) `{token}`: completes it; `{recoveryCode}` when it is
/// the user's first factor.
pub async fn authenticator_enroll_verify(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<TokenInput>,
) -> Answer {
    let proof = SetupProof::Authenticator { code: required(input.token, "token")?, factor_id: None };
    let completed = methods::complete(app, &principal, proof, COMPLETING).await?;
    Ok(frontegg(StatusCode::OK, &recovery(completed.backup_codes)))
}

/// `POST …/users/v1/mfa/sms/enroll` `{phoneNumber}`.
pub async fn sms_enroll(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<super::PhoneInput>,
) -> Answer {
    Ok(frontegg(StatusCode::OK, &begin_phone(app, &principal, input.phone_number).await?))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeInput {
    otc_token: String,
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    code: SecretString,
}

/// `POST …/users/v1/mfa/sms/enroll/verify` `{otcToken, code}`: completes the phone;
/// `{recoveryCode}` when it is the user's first factor.
pub async fn sms_enroll_verify(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<CodeInput>,
) -> Answer {
    let factor_id = Some(required_text(input.otc_token, "otcToken")?);
    let proof = SetupProof::Sent { method: MfaType::Sms, code: required(input.code, "code")?, factor_id };
    let completed = methods::complete(app, &principal, proof, COMPLETING).await?;
    Ok(frontegg(StatusCode::OK, &recovery(completed.backup_codes)))
}

/// Removes factor `id` of `kind` with `proof`, the proof presented in the request
/// (`loaded`: the record it was read with); the user hears of it.
async fn remove_with_proof(
    app: &App,
    principal: &Principal,
    id: &str,
    kind: MfaType,
    proof: Login,
    loaded: Option<crate::update::Loaded>,
) -> Result<Response<Body>, Refusal> {
    methods::with_proof(app, principal, Action::RemoveFactor, proof, loaded, |record, policy| {
        if record.factor(id).is_none_or(|f| f.kind() != kind) {
            return Err(Refusal::FactorNotFound);
        }
        let required = crate::policy::requires_mfa(record, policy);
        record.remove_factor(id, required).map(|_| ())
    })
    .await?;
    Ok(frontegg(StatusCode::OK, &json!({})))
}

/// `POST …/users/v1/mfa/authenticator/{deviceId}/disable/verify` `{token}`: removes that
/// authenticator, proven by a current code of it or a recovery code.
pub async fn authenticator_disable(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (Device(id), Json(input)): (Device, Json<TokenInput>),
) -> Answer {
    let proof = code_or_recovery(app, &principal, required(input.token, "token")?, Some(id.clone())).await?;
    remove_with_proof(app, &principal, &id, MfaType::GoogleAuth, proof, None).await
}

/// `POST …/users/v1/mfa/sms/{deviceId}/disable`: texts a code to that phone, to prove it
/// in the removal (`{otcToken, phoneNumber}`).
pub async fn sms_disable_send(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (Device(id), _): (Device, Unused),
) -> Answer {
    let (otc_token, phone) = codes::send_login(app, &principal, MfaType::Sms, Some(&id)).await?;
    Ok(frontegg(StatusCode::OK, &json!({"otcToken": otc_token, "phoneNumber": phone})))
}

/// `POST …/users/v1/mfa/sms/{deviceId}/disable/verify` `{otcToken, code}`: removes that
/// phone, proven by the code just texted to it.
pub async fn sms_disable(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (Device(id), Json(input)): (Device, Json<CodeInput>),
) -> Answer {
    let factor_id = same_device(id.clone(), &required_text(input.otc_token, "otcToken")?)?;
    let proof =
        LoginProof::Sent { method: MfaType::Sms, code: required(input.code, "code")?, factor_id: Some(factor_id) };
    let (login, loaded) = Login::prepare(app, &principal, proof, principal.org_id.as_deref()).await?;
    remove_with_proof(app, &principal, &id, MfaType::Sms, login, loaded).await
}

/// `POST …/users/v1/mfa/webauthn/{deviceId}/disable`: opens a ceremony to prove that
/// passkey in its removal (`{webauthnToken, options}`).
pub async fn webauthn_disable_options(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (Device(id), _): (Device, Unused),
) -> Answer {
    let options = passkey::auth_options(app, &principal, Some(&id)).await?;
    Ok(frontegg(StatusCode::OK, &json!({"webauthnToken": options["challenge"], "options": options["publicKey"]})))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebauthnInput {
    /// Required: the handler refuses a body without it, saying what it must hold.
    #[cfg_attr(feature = "contract", schemars(required))]
    options: Option<Value>,
}

/// `POST …/users/v1/mfa/webauthn/{deviceId}/disable/verify` `{webauthnToken, options}`:
/// removes that passkey, proven by its assertion.
pub async fn webauthn_disable(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (Device(id), Json(input)): (Device, Json<WebauthnInput>),
) -> Answer {
    let credential = input.options.filter(Value::is_object).ok_or_else(|| {
        Refusal::InvalidField("Field `options` is required: the assertion the browser returned, as JSON.".into())
    })?;
    let proof = LoginProof::Assertion { credential, factor_id: Some(id.clone()) };
    let (login, loaded) = Login::prepare(app, &principal, proof, principal.org_id.as_deref()).await?;
    remove_with_proof(app, &principal, &id, MfaType::Passkey, login, loaded).await
}

/// `POST …/users/v1/mfa/disable` `{token}` (legacy): turns MFA off, every factor,
/// proven by an authenticator code or a recovery code; the user's other sessions end.
pub async fn disable(Call { app, .. }: Call<'_>, principal: Principal, Json(input): Json<TokenInput>) -> Answer {
    let proof = code_or_recovery(app, &principal, required(input.token, "token")?, None).await?;
    methods::reset_with_proof(app, &principal, proof).await?;
    Ok(frontegg(StatusCode::OK, &json!({})))
}

/// `GET …/users/v1/mfa/devices`: the user's enabled factors as Frontegg's client lists
/// them, phones and addresses masked.
pub async fn devices(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    let (mut webauthn, mut phones, mut authenticators, mut emails) = (vec![], vec![], vec![], vec![]);
    for f in record.factors.iter().filter(|f| f.is_enabled()) {
        let hint = f.material.hint();
        match f.kind() {
            MfaType::GoogleAuth => authenticators.push(json!({"id": f.id})),
            MfaType::Passkey => webauthn.push(json!({"id": f.id, "deviceType": "Platform", "name": f.name})),
            MfaType::Sms => phones.push(json!({"id": f.id, "phoneNumber": hint})),
            MfaType::EmailOtp => emails.push(json!({"id": f.id, "email": hint})),
            // Frontegg has no magic-link factor.
            MfaType::MagicLink => {}
        }
    }
    Ok(frontegg(
        StatusCode::OK,
        &json!({"webauthn": webauthn, "phones": phones, "authenticators": authenticators, "emails": emails}),
    ))
}
