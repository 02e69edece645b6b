use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::require_method;
use crate::App;
use crate::auth::{Principal, UserId};
use crate::body;
use crate::envelope::{self, ApiError, respond};
use crate::notify::{self, Notice};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResetInput {
    reset_user_id: Option<String>,
    enable: Option<bool>,
}

/// `POST /mfa/reset`: returns every method of a user to not configured. A user resets
/// themself with step-up; an `OWNER` or `ADMINISTRATOR` resets a user of their own
/// organization, and `enable: true` leaves that user required to enrol again.
pub async fn reset(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "POST")?;
    let principal = app.auth.authenticate(req)?;
    let input: ResetInput = body::json_or_default(req)?;
    let now = app.clock.now();
    let required = input.enable.unwrap_or(false);
    let target = match input.reset_user_id.as_deref() {
        None => None,
        Some(raw) => Some(UserId::parse(raw).ok_or_else(|| {
            ApiError::bad_request("INVALID_FIELD", "Field `resetUserId` must be a non-empty user id of at most 128 characters.")
        })?),
    }
    .filter(|t| *t != principal.user_id);

    match target {
        None => {
            let email = app
                .store
                .update_user(principal.user_id.as_str(), None, Some(&principal), |record, _| {
                    principal.require_step_up(record.has_mfa_enabled(), now)?;
                    record.reset();
                    record.is_required = required;
                    Ok(record.email.clone())
                })
                .await?;
            notify::send(app, email.as_deref().or(principal.email.as_deref()), Notice::Reset { by_admin: false }).await;
        }
        Some(target) => {
            let org = authorize_admin(app, &principal, now).await?;
            let email = app
                .store
                .update_user(target.as_str(), None, None, |record, _| {
                    // Users of other organizations, and unknown users, look the same.
                    if record.version == 0 || record.org_id.as_deref() != Some(org) {
                        return Err(ApiError::not_found(
                            "USER_NOT_FOUND",
                            "There is no user with that id in your organization; check `resetUserId`.",
                        ));
                    }
                    record.reset();
                    record.is_required = required;
                    Ok(record.email.clone())
                })
                .await?;
            notify::send(app, email.as_deref(), Notice::Reset { by_admin: true }).await;
        }
    }
    Ok(envelope::message("MFA reset successfully"))
}

/// The administrator's organization, once their role and (when they have MFA
/// themselves) a recent second factor are established.
async fn authorize_admin<'p>(app: &App, principal: &'p Principal, now: i64) -> Result<&'p str, ApiError> {
    let org = principal
        .org_id
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("NO_ORGANIZATION", "User not associated with an organization."))?;
    if !principal.is_org_admin() {
        return Err(ApiError::forbidden(
            "FORBIDDEN",
            "Only an OWNER or ADMINISTRATOR of the organization can reset another user's MFA.",
        ));
    }
    if !principal.session_verified {
        let (own, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
        principal.require_step_up(own.has_mfa_enabled(), now)?;
    } else {
        principal.require_step_up(true, now)?;
    }
    Ok(org)
}
