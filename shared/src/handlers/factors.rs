//! `GET /mfa/factors`, `PATCH /mfa/factors/{factorId}` and `DELETE /mfa/factors/{factorId}`:
//! the user's factors, each by its id. The list never holds a secret; renaming and
//! removing are factor changes the policy decides (step-up while the user has MFA), and a
//! removal ends the user's other sessions (`update::settle`).

use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::{path_id, require_method};
use crate::App;
use crate::body;
use crate::envelope::{self, respond};
use crate::factors::{FactorView, clean_name};
use crate::notify::{self, Notice};
use crate::policy::{Action, Change};
use crate::refusal::Refusal;
use crate::sessions;
use crate::update;

/// The `{factorId}` of the path (an unknown one is a 404 of the step, like any other id
/// that is not theirs).
fn factor_id(req: &Request) -> Result<String, Refusal> {
    path_id(req, "factorId", Refusal::FactorNotFound)
}

/// `GET /mfa/factors`: every factor of the caller, with its state and times, phones and
/// addresses masked.
pub async fn list(app: &App, req: Request) -> Response<Body> {
    respond(list_run(app, &req).await)
}

async fn list_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "GET")?;
    let principal = app.auth()?.authenticate(req)?;
    let (record, _) = app.store.load_user_and_policy(principal.user_id.as_str(), None).await?;
    sessions::ensure_live(&principal, &record, app.clock.now())?;
    Ok(envelope::data(&FactorView::list(&record.factors)))
}

#[derive(Debug, Deserialize)]
struct RenameInput {
    name: String,
}

/// `PATCH /mfa/factors/{factorId}` `{name}`.
pub async fn rename(app: &App, req: Request) -> Response<Body> {
    respond(rename_run(app, &req).await)
}

async fn rename_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "PATCH")?;
    let principal = app.auth()?.authenticate(req)?;
    let id = factor_id(req)?;
    let input: RenameInput = body::json(req)?;
    let name = clean_name(&input.name)
        .ok_or_else(|| Refusal::InvalidField("Field `name` must hold at least one visible character.".into()))?;
    let change = Change::by_user(Action::RenameFactor, &principal, app.clock.now());
    update::user(app, principal.user_id.as_str(), &change, |record, _| record.rename_factor(&id, name.clone())).await?;
    Ok(envelope::message("Factor renamed"))
}

/// `DELETE /mfa/factors/{factorId}`: removes one factor; a user MFA is required of keeps
/// at least one enabled factor.
pub async fn remove(app: &App, req: Request) -> Response<Body> {
    respond(remove_run(app, &req).await)
}

async fn remove_run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "DELETE")?;
    let principal = app.auth()?.authenticate(req)?;
    let id = factor_id(req)?;
    let _: serde_json::Value = body::json_or_default(req)?;
    let change = Change::by_user(Action::RemoveFactor, &principal, app.clock.now());
    let (to, notice) = update::user(app, principal.user_id.as_str(), &change, |record, policy| {
        let to = notify::recipients(record, principal.email.as_deref());
        let required = crate::policy::requires_mfa(record, policy);
        let removed = record.remove_factor(&id, required)?;
        Ok((to, Notice::FactorRemoved { method: removed.kind(), name: removed.name }))
    })
    .await?;
    notify::send(app, &to, notice).await;
    Ok(envelope::message("Factor removed"))
}
