//! `POST /mfa/reset`: a user's own reset, or an administrator's reset of a member.

use serde::Deserialize;

use crate::auth::Principal;
use crate::auth::UserId;
use crate::edge::{Answer, Call, OrDefault};
use crate::envelope;
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::update;

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResetInput {
    reset_user_id: Option<String>,
    enable: Option<bool>,
}

/// `POST /mfa/reset`: returns every method of a user to not configured. A user resets
/// themself (step-up while they have MFA; their other sessions end, the acting one goes
/// on); an `OWNER` or `ADMINISTRATOR` with their own fresh second factor resets a user
/// bound to their own organization (every session of the user ends), and `enable: true`
/// leaves that user required to enrol again. A self reset keeps such a requirement.
pub async fn reset(
    Call { app, .. }: Call<'_>,
    principal: Principal,
    OrDefault(input): OrDefault<ResetInput>,
) -> Answer {
    let now = app.clock.now();
    let required = input.enable.unwrap_or(false);
    let target = match input.reset_user_id.as_deref() {
        None => None,
        Some(raw) => Some(UserId::parse(raw).ok_or_else(|| {
            Refusal::InvalidField("Field `resetUserId` must be a non-empty user id of at most 128 characters.".into())
        })?),
    }
    .filter(|t| *t != principal.user_id);

    let (subject, change) = match &target {
        None => (&principal.user_id, Change::by_user(Action::ResetSelf, &principal, now)),
        Some(target) => (target, Change::by_admin(Action::ResetMember, &principal, now)),
    };
    update::user(app, subject.as_str(), &change, |record, _| {
        record.reset();
        record.is_required |= required;
        Ok(())
    })
    .await?;
    Ok(envelope::message("MFA reset successfully"))
}
