//! `POST /mfa/passkey/complete-registration` (and its `-1` alias) and
//! `POST /mfa/passkey/auth-options`.

use serde::Deserialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::edge::{Answer, Call, Json, Unused};
use crate::envelope;
use crate::methods::passkey;
use crate::refusal::Refusal;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CompleteInput {
    credential: Value,
    challenge: String,
    factor_id: Option<String>,
}

/// `POST /mfa/passkey/complete-registration` and `-1`: `{credential, challenge}`.
pub async fn complete_registration(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<CompleteInput>,
) -> Answer {
    if !input.credential.is_object() {
        return Err(Refusal::InvalidField("Field `credential` must be the registration response object.".into()));
    }
    let completed = passkey::complete(
        app,
        &principal,
        input.credential,
        Some(&input.challenge),
        input.factor_id.as_deref(),
        Default::default(),
    )
    .await?;
    Ok(super::completed("Passkey registration completed", completed.backup_codes))
}

/// `POST /mfa/passkey/auth-options`: takes no input.
pub async fn auth_options(Call { app, .. }: Call<'_>, principal: Principal, _: Unused) -> Answer {
    Ok(envelope::data(&passkey::auth_options(app, &principal, None).await?))
}
