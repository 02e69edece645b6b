//! `POST /mfa/enable`, `/mfa/disable` and `/mfa/primary`: switching configured methods.

use lambda_http::{Body, Request, Response};

use super::{MethodInput, require_method};
use crate::App;
use crate::body;
use crate::envelope::{self, ApiError, respond};
use crate::model::{MethodState, MfaType};
use crate::notify::{self, Notice};
use crate::policy::{Action, Change};

/// `POST /mfa/enable`: switches a configured method back on (step-up while the user has
/// MFA: re-enabling is adding a factor).
pub async fn enable(app: &App, req: Request) -> Response<Body> {
    respond(enable_run(app, &req).await)
}

async fn enable_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let MethodInput { mfa_type } = body::json(req)?;
    let change = Change::by_user(Action::Enable, &principal, app.clock.now());
    let changed = app
        .store
        .update_user(principal.user_id.as_str(), None, &change, |record, _| match record.state(mfa_type) {
            MethodState::Enabled => Ok(None),
            MethodState::Disabled => {
                let to = notify::recipients(record, principal.email.as_deref());
                record.turn_on(mfa_type);
                Ok(Some(to))
            }
            MethodState::NotConfigured | MethodState::Pending => Err(not_configured(mfa_type)),
        })
        .await?;
    if let Some(to) = changed {
        notify::send(app, &to, Notice::MethodEnabled(mfa_type)).await;
    }
    Ok(envelope::message("MFA method enabled"))
}

fn not_configured(m: MfaType) -> ApiError {
    ApiError::conflict(
        "METHOD_NOT_CONFIGURED",
        format!("{} is not set up yet; complete POST /mfa/setup and POST /mfa/verify-setup first.", m.as_str()),
    )
}

fn not_enabled(m: MfaType) -> ApiError {
    ApiError::conflict("METHOD_NOT_ENABLED", format!("{} is not enabled; enable it first with POST /mfa/enable.", m.as_str()))
}

/// `POST /mfa/disable`: switches a method off (it stays configured). Needs step-up; an
/// enforced user keeps at least one method; the primary moves to another enabled method;
/// every session of the user ends.
pub async fn disable(app: &App, req: Request) -> Response<Body> {
    respond(disable_run(app, &req).await)
}

async fn disable_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let MethodInput { mfa_type } = body::json(req)?;
    let change = Change::by_user(Action::Disable, &principal, app.clock.now());
    let to = app
        .store
        .update_user(principal.user_id.as_str(), principal.org_id.as_deref(), &change, |record, policy| {
            if !record.state(mfa_type).is_enabled() {
                return Err(not_enabled(mfa_type));
            }
            let required = record.is_required || policy.is_some_and(|p| p.enforced);
            if required && record.enabled_methods() == [mfa_type] {
                return Err(ApiError::forbidden(
                    "ORG_ENFORCED",
                    "MFA is required for your account, so its last enabled method cannot be disabled; enable another method first.",
                ));
            }
            let to = notify::recipients(record, principal.email.as_deref());
            record.turn_off(mfa_type);
            Ok(to)
        })
        .await?;
    notify::send(app, &to, Notice::MethodDisabled(mfa_type)).await;
    Ok(envelope::message("MFA method disabled"))
}

/// `POST /mfa/primary`: chooses which enabled method a login asks for first.
pub async fn primary(app: &App, req: Request) -> Response<Body> {
    respond(primary_run(app, &req).await)
}

async fn primary_run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let MethodInput { mfa_type } = body::json(req)?;
    let change = Change::by_user(Action::ChoosePrimary, &principal, app.clock.now());
    app.store
        .update_user(principal.user_id.as_str(), None, &change, |record, _| {
            if !record.state(mfa_type).is_enabled() {
                return Err(not_enabled(mfa_type));
            }
            record.primary_method = Some(mfa_type);
            Ok(())
        })
        .await?;
    Ok(envelope::message("Primary MFA method updated"))
}
