//! `POST /mfa/setup` and `POST /mfa/verify-setup`: beginning and completing a method's
//! setup. The method itself does the work (`methods`); while the user has MFA, the policy
//! asks for a fresh second factor, decided in the write that records the setup.

use serde::Deserialize;

use crate::auth::Principal;
use crate::edge::{Answer, Call, Json};
use crate::envelope;
use crate::methods;
use crate::model::MfaType;
use crate::proof::Presented;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SetupInput {
    mfa_type: MfaType,
    email: Option<String>,
    phone_number: Option<String>,
    device_info: Option<DeviceInfo>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
struct DeviceInfo {
    name: Option<String>,
}

/// `POST /mfa/setup`: starts setting up a method; while the user has MFA, every address of
/// theirs hears that a factor is being added.
pub async fn setup(Call { app, .. }: Call<'_>, principal: Principal, Json(input): Json<SetupInput>) -> Answer {
    let name = input.device_info.and_then(|d| d.name).and_then(|n| crate::factors::clean_name(&n));
    let request =
        methods::SetupRequest { email: input.email, phone_number: input.phone_number, name, backup_codes: None };
    let started = methods::setup(app, &principal, input.mfa_type, request).await?;
    Ok(envelope::data(&started.setup.data()))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifySetupInput {
    mfa_type: MfaType,
    #[serde(flatten)]
    presented: Presented,
    /// A passkey's: the challenge its registration answers (by default the latest).
    challenge: Option<String>,
}

/// `POST /mfa/verify-setup`: proves the pending setup works and enables the method (a
/// code, the activation link's token, or the passkey's registration `credential`).
pub async fn verify_setup(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(input): Json<VerifySetupInput>,
) -> Answer {
    let proof = input.presented.for_setup(input.mfa_type, input.challenge.clone())?;
    let completed = methods::complete(app, &principal, proof, Default::default()).await?;
    Ok(super::completed("MFA setup verified and enabled", completed.backup_codes))
}
