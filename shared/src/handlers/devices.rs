//! Remembered devices: `GET /mfa/devices` (never a token), `DELETE /mfa/devices/{deviceId}`
//! and `DELETE /mfa/devices` (forget one, or all), and `GET /mfa/remember-device` (whether
//! a login may remember its device, and for how long). A login remembers one with
//! `verify-login` `rememberDevice: true`, and uses it with `{mfaType: "DEVICE"}`
//! (`devices::log_in`).

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{path_id, require_method};
use crate::App;
use crate::body;
use crate::devices::{self, DeviceView};
use crate::envelope::{self, respond};
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::sessions;
use crate::update;

/// `GET /mfa/devices`: the caller's remembered devices, the newest first.
pub async fn list(app: &App, req: Request) -> Response<Body> {
    respond(list_run(app, &req).await)
}

async fn list_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    let now = app.clock.now();
    sessions::ensure_live(&principal, &record, now)?;
    Ok(envelope::data(&DeviceView::list(&record, now)))
}

/// `DELETE /mfa/devices/{deviceId}`: forgets one device.
pub async fn forget(app: &App, req: Request) -> Response<Body> {
    respond(forget_run(app, &req).await)
}

async fn forget_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "DELETE")?;
    let principal = app.auth()?.authenticate(req)?;
    let id = path_id(req, "deviceId", Refusal::DeviceNotFound)?;
    let _: serde_json::Value = body::json_or_default(req)?;
    let change = Change::by_user(Action::ForgetDevices, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| {
        if record.forget_device(&id) { Ok(()) } else { Err(Refusal::DeviceNotFound) }
    })
    .await?;
    Ok(envelope::message("Device forgotten"))
}

/// `DELETE /mfa/devices`: forgets every device of the caller.
pub async fn forget_all(app: &App, req: Request) -> Response<Body> {
    respond(forget_all_run(app, &req).await)
}

async fn forget_all_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "DELETE")?;
    let principal = app.auth()?.authenticate(req)?;
    let _: serde_json::Value = body::json_or_default(req)?;
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
pub async fn remember(app: &App, req: Request) -> Response<Body> {
    respond(remember_run(app, &req).await)
}

async fn remember_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    let (record, policy) =
        app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    let (allowed, lifetime) = devices::remembering(app, policy.as_ref());
    Ok(envelope::data(&json!({"isAllowedToRemember": allowed, "lifetimeSeconds": lifetime})))
}
