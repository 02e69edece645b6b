//! `GET /mfa/factors`, `PATCH /mfa/factors/{factorId}` and `DELETE /mfa/factors/{factorId}`:
//! the user's factors, each by its id. The list never holds a secret; renaming and
//! removing are factor changes the policy decides (step-up while the user has MFA), and a
//! removal ends the user's other sessions (`update::settle`).

use serde::Deserialize;

use super::FactorId;
use crate::auth::Principal;
use crate::edge::{Answer, Call, Json, Unused};
use crate::envelope;
use crate::factors::{FactorView, clean_name};
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::sessions;
use crate::update;

/// `GET /mfa/factors`: every factor of the caller, with its state and times, phones and
/// addresses masked.
pub async fn list(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    Ok(envelope::data(&FactorView::list(&record.factors)))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct RenameInput {
    name: String,
}

/// `PATCH /mfa/factors/{factorId}` `{name}`.
pub async fn rename(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    (FactorId(id), Json(input)): (FactorId, Json<RenameInput>),
) -> Answer {
    let name = clean_name(&input.name)
        .ok_or_else(|| Refusal::InvalidField("Field `name` must hold at least one visible character.".into()))?;
    let change = Change::by_user(Action::RenameFactor, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| record.rename_factor(&id, name.clone())).await?;
    Ok(envelope::message("Factor renamed"))
}

/// `DELETE /mfa/factors/{factorId}`: removes one factor; a user MFA is required of keeps
/// at least one enabled factor.
pub async fn remove(Call { app, .. }: Call<'_>, principal: Principal, (FactorId(id), _): (FactorId, Unused)) -> Answer {
    let change = Change::by_user(Action::RemoveFactor, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, policy| {
        let required = crate::policy::requires_mfa(record, policy);
        record.remove_factor(&id, required).map(|_| ())
    })
    .await?;
    Ok(envelope::message("Factor removed"))
}
