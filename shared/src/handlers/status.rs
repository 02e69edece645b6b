//! `GET /mfa/status` and `GET /mfa/methods`: what the caller has, from one read.

use lambda_http::{Body, Request, Response};

use super::require_method;
use crate::App;
use crate::envelope::{self, respond};
use crate::model::{MethodInfo, MfaStatus};
use crate::refusal::Refusal;
use crate::sessions;

/// `GET /mfa/status`: the caller's MFA status (with their organization's policy).
pub async fn status(app: &App, req: Request) -> Response<Body> {
    respond(status_run(app, &req).await)
}

async fn status_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    let (record, policy) =
        app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    let now = app.clock.now();
    sessions::ensure_live(&principal, &record, now)?;
    Ok(envelope::data(&MfaStatus::new(&record, policy.as_ref(), principal.session_verified, &app.offered, now)))
}

/// `GET /mfa/methods`: every method with the caller's state of it.
pub async fn methods(app: &App, req: Request) -> Response<Body> {
    respond(methods_run(app, &req).await)
}

async fn methods_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    // The organization's policy says which methods are available to its members.
    let (record, policy) =
        app.store.load_user_and_rules(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    Ok(envelope::data(&MethodInfo::list(&record, &app.offered, policy.as_ref())))
}
