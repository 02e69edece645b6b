use lambda_http::{Body, Request, Response};

use super::require_method;
use crate::App;
use crate::envelope::{self, ApiError, respond};
use crate::model::MethodInfo;

/// `GET /mfa/methods`: every method with the caller's state of it, from one read.
pub async fn methods(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    // The policy is not needed here, so only the user record is read.
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    Ok(envelope::data(&MethodInfo::list(&record)))
}
