//! `POST /mfa/backup-codes`: ten new backup codes (step-up).

use lambda_http::{Body, Request, Response};

use super::require_method;
use crate::App;
use crate::body;
use crate::crypto::ExposeSecret;
use crate::envelope::{self, respond};
use crate::methods::backup_codes;
use crate::notify::{self, Notice};
use crate::refusal::Refusal;

/// Every old code is void; the new ones are shown this once.
pub async fn regenerate_backup_codes(app: &App, req: Request) -> Response<Body> {
    respond(run(app, &req).await)
}

async fn run(app: &App, req: &Request) -> Result<Response<Body>, Refusal> {
    require_method(req, "POST")?;
    let principal = app.auth()?.authenticate(req)?;
    let _: serde_json::Value = body::json_or_default(req)?;
    let (codes, to) = backup_codes::regenerate(app, &principal).await?;
    notify::send(app, &to, Notice::CodesRegenerated).await;
    let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
    Ok(envelope::data(&serde_json::json!({ "backupCodes": codes })))
}
