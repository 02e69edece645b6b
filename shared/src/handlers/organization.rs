//! `POST /mfa/organization/enforce`: requiring MFA of every member of an organization.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::require_method;
use crate::App;
use crate::body;
use crate::envelope::{self, respond};
use crate::model::{MfaType, OrgPolicy};
use crate::policy::{self, Action};
use crate::refusal::Refusal;
use crate::store::StoreError;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnforceInput {
    enforced: bool,
    /// The methods members may set up, of those the deployment offers; absent keeps them.
    allowed_methods: Option<Vec<MfaType>>,
}

/// `OWNER` and `ADMINISTRATOR` only; lifting enforcement also needs the administrator's
/// own fresh second factor (the policy's table).
pub async fn enforce(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let input: EnforceInput = body::json(req)?;
    let action = if input.enforced { Action::Enforce } else { Action::LiftEnforcement };
    if let Some(allowed) = &input.allowed_methods {
        if allowed.is_empty() {
            return Err(Refusal::InvalidField("Field `allowedMethods` must name at least one method.".into()));
        }
        for method in allowed {
            app.offers(*method)?;
        }
    }
    let org = principal.org_id.as_deref().ok_or(Refusal::NoOrganization)?;
    let now = app.clock.now();
    for attempt in 1..=3 {
        // The administrator's own record (is their session live, do they have MFA) and the
        // policy, in one round trip.
        let (own, current) = app.store.load_user_and_policy(principal.user_id.as_str(), Some(org)).await?;
        policy::admin(action, &principal, &own, now)?;
        if input.allowed_methods.is_some() {
            policy::admin(Action::ChooseAllowedMethods, &principal, &own, now)?;
        }
        let mut current = current.unwrap_or_else(|| OrgPolicy { org_id: org.to_string(), ..OrgPolicy::default() });
        current.enforced = input.enforced;
        if let Some(allowed) = &input.allowed_methods {
            current.allowed_methods = Some(allowed.clone());
        }
        current.updated_by = Some(principal.user_id.as_str().to_string());
        current.updated_at = Some(now);
        match app.store.save_policy(&mut current).await {
            Ok(()) => break,
            Err(StoreError::Conflict) if attempt < 3 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(envelope::message(if input.enforced {
        "MFA enforcement enabled for organization"
    } else {
        "MFA enforcement disabled for organization"
    }))
}
