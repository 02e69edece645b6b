use lambda_http::{Body, Request, Response};

use super::require_method;
use crate::App;
use crate::envelope::{self, ApiError, respond};
use crate::model::MfaStatus;

/// `GET /mfa/status`: the caller's MFA status, from one DynamoDB round trip.
pub async fn status(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    let (record, policy) =
        app.store.load_user_and_policy(principal.user_id.as_str(), principal.org_id.as_deref()).await?;
    Ok(envelope::data(&MfaStatus::new(&record, policy.as_ref(), principal.session_verified)))
}
