//! `GET /mfa/events`: the audit trail, newest first, a page at a time with an opaque
//! cursor. A user reads their own; an organization administrator may read a member's
//! (`?userId=`), decided by the policy (`Action::ReadMemberEvents`) against the member's
//! record, whose organization binding is the one that counts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::RequestExt;
use serde_json::json;

use crate::audit::SORT_PREFIX;
use crate::auth::Principal;
use crate::auth::UserId;
use crate::edge::{Answer, Call};
use crate::envelope;
use crate::policy::{self, Action, Change};
use crate::refusal::Refusal;

/// Events in one page.
pub const PAGE: usize = 25;

/// The sort key a cursor stands for: the last event of the page before.
fn cursor_key(raw: &str) -> Result<String, Refusal> {
    let invalid =
        || Refusal::InvalidField("Query parameter `cursor` is not one this API gave; start again without it.".into());
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    let key = String::from_utf8(bytes).map_err(|_| invalid())?;
    let rest = key.strip_prefix(SORT_PREFIX).ok_or_else(invalid)?;
    let ok = rest.len() <= 64 && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '#');
    if ok { Ok(key) } else { Err(invalid()) }
}

/// `GET /mfa/events`.
pub async fn list(Call { app, req, .. }: Call<'_>, principal: Principal, _: ()) -> Answer {
    let query = req.query_string_parameters_ref();
    let after = query.and_then(|q| q.first("cursor")).filter(|c| !c.is_empty()).map(cursor_key).transpose()?;
    let member = match query.and_then(|q| q.first("userId")).filter(|u| !u.is_empty()) {
        Some(raw) => Some(UserId::parse(raw).ok_or_else(|| {
            Refusal::InvalidField("Query parameter `userId` must be a user id of at most 128 characters.".into())
        })?),
        None => None,
    }
    .filter(|m| *m != principal.user_id);
    let now = app.clock.now();
    let (events, next) = match &member {
        None => {
            let (record, events, next) =
                app.store.events_page(principal.user_id.as_str(), after.as_deref(), PAGE).await?;
            policy::check(&Change::by_user(Action::ReadOwnEvents, &principal, now), &record, None, None)?;
            (events, next)
        }
        Some(member) => {
            // The member's events (with their record) and the administrator's own record
            // (is their session live), side by side.
            let ((record, events, next), (own, _)) = tokio::try_join!(
                app.store.events_page(member.as_str(), after.as_deref(), PAGE),
                app.store.load_user_and_policy(principal.user_id.as_str(), None),
            )?;
            let change = Change::by_admin(Action::ReadMemberEvents, &principal, now);
            policy::check(&change, &record, Some(&own), None)?;
            (events, next)
        }
    };
    let mut data = json!({ "events": events });
    if let Some(next) = next {
        data["cursor"] = json!(URL_SAFE_NO_PAD.encode(next.as_bytes()));
    }
    Ok(envelope::data(&data))
}
