//! `POST /mfa/enable`, `/mfa/disable` and `/mfa/primary`: switching configured methods.
//! The state machine is the record's (`model`); the policy decides who may.

use super::MethodInput;
use crate::auth::Principal;
use crate::edge::{Answer, Call, Json};
use crate::envelope;
use crate::policy::{Action, Change};
use crate::update;

/// `POST /mfa/enable`: switches a configured method back on (step-up while the user has
/// MFA: re-enabling is adding a factor).
pub async fn enable(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(MethodInput { mfa_type }): Json<MethodInput>,
) -> Answer {
    app.offers(mfa_type)?;
    let change = Change::enabling(mfa_type, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| record.enable(mfa_type).map(|_| ())).await?;
    Ok(envelope::message("MFA method enabled"))
}

/// `POST /mfa/disable`: switches a method off (it stays configured). Needs step-up; a
/// user MFA is required of keeps at least one method; the primary moves to another
/// enabled method; every session of the user ends.
pub async fn disable(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(MethodInput { mfa_type }): Json<MethodInput>,
) -> Answer {
    let change = Change::by_user(Action::Disable, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, policy| {
        record.disable(mfa_type, crate::policy::requires_mfa(record, policy))
    })
    .await?;
    Ok(envelope::message("MFA method disabled"))
}

/// `POST /mfa/primary`: chooses which enabled method a login asks for first.
pub async fn primary(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    Json(MethodInput { mfa_type }): Json<MethodInput>,
) -> Answer {
    app.offers(mfa_type)?;
    let change = Change::by_user(Action::ChoosePrimary, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| record.choose_primary(mfa_type)).await?;
    Ok(envelope::message("Primary MFA method updated"))
}
