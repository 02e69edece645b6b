//! The second step of a login: `POST /mfa/verify-login` and `POST /mfa/recover` (a backup
//! code). Both start a session in the same transaction that accepts the factor.

use lambda_http::http::StatusCode;
use serde::Deserialize;

use crate::auth::Principal;
use crate::crypto::SecretString;
use crate::devices;
use crate::edge::{Answer, Call, Json};
use crate::envelope::json_response;
use crate::methods::{self, backup_codes};
use crate::update;

use crate::policy::{Action, Change};
use crate::proof::{LoginMethod, Presented};
use crate::refusal::Refusal;
use crate::sessions;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyLoginInput {
    mfa_type: LoginMethod,
    #[serde(flatten)]
    presented: Presented,
    /// With `mfaType: "DEVICE"`: the token a login that remembered this device returned.
    #[cfg_attr(feature = "contract", schemars(with = "Option<String>"))]
    device_token: Option<SecretString>,
    /// Also remember this device: the answer carries a `deviceToken`.
    #[serde(default)]
    remember_device: bool,
}

/// `POST /mfa/verify-login`: checks the second factor and issues a full-access token and
/// a refresh token. Failures of every method count toward the same lockout.
pub async fn verify_login(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<VerifyLoginInput>,
) -> Answer {
    let method = match input.mfa_type {
        LoginMethod::Factor(method) => method,
        LoginMethod::Device => {
            let token = crate::proof::device_token(&input.device_token)?;
            let session = devices::log_in(app, &principal, &token).await?;
            return Ok(json_response(StatusCode::OK, &session.body("Signed in with a remembered device")));
        }
    };
    let proof = input.presented.for_login(method)?;
    let session = methods::log_in(app, &principal, proof, input.remember_device).await?;
    Ok(json_response(StatusCode::OK, &session.body("MFA verification successful")))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct RecoverInput {
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    code: SecretString,
}

/// `POST /mfa/recover`: logs in with a backup code, which is spent; every earlier session
/// of the user ends; the user is told by mail.
pub async fn recover(Call { app, .. }: Call<'_>, principal: Principal, Json(input): Json<RecoverInput>) -> Answer {
    let now = app.clock.now();
    let change = Change::by_user(Action::Verify, &principal, now);
    // The lockout tells the user a code was spent (it does for every route that spends one).
    let session = update::attempt(
        app,
        principal.user_id.as_str(),
        None,
        change,
        None,
        |record, _| {
            backup_codes::spend(app.keyring()?, record, &input.code)?;
            let session = sessions::start(app, &principal, &["pwd", "mfa"], record, now, None)?;
            Ok((session, Vec::new()))
        },
        || Refusal::InvalidCode { backup: true },
    )
    .await?;
    Ok(json_response(StatusCode::OK, &session.body("Recovered with a backup code")))
}
