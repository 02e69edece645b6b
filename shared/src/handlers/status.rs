//! `GET /mfa/status` and `GET /mfa/methods`: what the caller has, from one read.

use crate::auth::Principal;
use crate::devices;
use crate::edge::{Answer, Call};
use crate::envelope;
use crate::model::{MethodInfo, MfaStatus};
use crate::sessions;

/// `GET /mfa/status`: the caller's MFA status (with their organization's policy).
pub async fn status(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let (record, policy) =
        app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    let now = app.clock.now();
    sessions::ensure_live(&principal, &record, now)?;
    let remember = devices::remembering(app, policy.as_ref());
    Ok(envelope::data(&MfaStatus::new(
        &record,
        policy.as_ref(),
        principal.session_verified,
        &app.offered,
        remember,
        now,
    )))
}

/// `GET /mfa/methods`: every method with the caller's state of it.
pub async fn methods(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    // The organization's policy says which methods are available to its members.
    let (record, policy) =
        app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    Ok(envelope::data(&MethodInfo::list(&record, &app.offered, policy.as_ref())))
}
