//! `POST /mfa/magic-link/send` and `POST /mfa/magic-link/activate`.

use serde::Deserialize;

use crate::auth::Principal;
use crate::crypto::SecretString;
use crate::edge::{Answer, Anyone, Call, Json, OrDefault};
use crate::envelope;
use crate::methods::magic_link;
use crate::model::Purpose;
use crate::policy::Actor;

/// `POST /mfa/magic-link/send`: mails a login link (MAGIC_LINK must be enabled) to the
/// address named, or the one used (or added) most recently. Takes no other input; sending
/// never resets the failure count.
pub async fn send(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    OrDefault(super::FactorChoice { factor_id }): OrDefault<super::FactorChoice>,
) -> Answer {
    magic_link::send(app, &principal, Purpose::Login, None, factor_id.as_deref()).await?;
    Ok(envelope::message("Magic link sent successfully"))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct ActivateInput {
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    token: SecretString,
}

/// `POST /mfa/magic-link/activate`: no Authorization header; the mailed token is the
/// credential. Only this POST spends it, so a mail scanner fetching the link does not.
pub async fn activate(Call { app, .. }: Call<'_>, _: Anyone, Json(input): Json<ActivateInput>) -> Answer {
    let completed = magic_link::activate(app, &input.token, Actor::LinkHolder).await?;
    Ok(super::completed("Magic link MFA activated successfully", completed.backup_codes))
}
