//! Remembered devices: `GET /mfa/devices` (never a token), `DELETE /mfa/devices/{deviceId}`
//! and `DELETE /mfa/devices` (forget one, or all), and `GET /mfa/remember-device` (whether
//! a login may remember its device, and for how long). A login remembers one with
//! `verify-login` `rememberDevice: true`, and uses it with `{mfaType: "DEVICE"}`
//! (`devices::log_in`).

use super::DeviceId;
use crate::auth::Principal;
use crate::devices::{self, DeviceView};
use crate::edge::{Answer, Call, Unused};
use crate::envelope;
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::sessions;
use crate::update;

/// `GET /mfa/devices`: the caller's remembered devices, the newest first.
pub async fn list(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    let now = app.clock.now();
    sessions::ensure_live(&principal, &record, now)?;
    Ok(envelope::data(&DeviceView::list(&record, now)))
}

/// `DELETE /mfa/devices/{deviceId}`: forgets one device.
pub async fn forget(Call { app, .. }: Call<'_>, principal: Principal, (DeviceId(id), _): (DeviceId, Unused)) -> Answer {
    let change = Change::by_user(Action::ForgetDevices, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| {
        if record.forget_device(&id) { Ok(()) } else { Err(Refusal::DeviceNotFound) }
    })
    .await?;
    Ok(envelope::message("Device forgotten"))
}

/// `DELETE /mfa/devices`: forgets every device of the caller.
pub async fn forget_all(Call { app, .. }: Call<'_>, principal: Principal, _: Unused) -> Answer {
    let change = Change::by_user(Action::ForgetDevices, &principal, app.clock.now());
    let forgotten = update::user(app, principal.user_id.as_str(), &change, |record, _| {
        let n = record.devices.len();
        record.forget_devices();
        Ok(n)
    })
    .await?;
    Ok(envelope::message(match forgotten {
        0 => "No device was remembered",
        _ => "Every remembered device forgotten",
    }))
}

/// `GET /mfa/remember-device`: whether a login of the caller may remember its device
/// (the deployment's setting, shortened or forbidden by their organization), and for how
/// long.
pub async fn remember(Call { app, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let (record, policy) =
        app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    Ok(envelope::data(&devices::remembering(app, policy.as_ref())))
}
