//! The audit writer: stores the audit events a write of a user's record carried in its login
//! state (`store::PENDING_EVENTS`) as items of their own, from the table's stream. A change
//! and its events are one write of one item (a login: one write unit); each event becomes
//! an item here, a moment later, in the order the stream keeps for each item. Delivery is
//! at least once: an event is put whole under its own key, so a batch delivered again
//! stores nothing twice. A batch that fails is delivered again (the template's event
//! source mapping retries it, halving it, and parks what still fails in the dead-letter
//! queue with the stream positions to replay).
//!
//! Once a batch's events are stored, the writer mails the change notices the same login
//! states carried (`store::PENDING_NOTICES`, `notify`): a request never waits on SES for
//! a notice. A notice SES refuses is logged and counted, and the batch still succeeds, and
//! the writer begins no notice once its invocation's time runs short (those are logged
//! and counted too): a mail outage never holds up the audit trail. A batch whose process
//! died while mailing is delivered again and may repeat a notice.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;

use crate::App;
use crate::notify::Outgoing;
use crate::routes::Needs;
use crate::store::{LOGIN_STATE_SORT_KEY, StoreError};

/// What the audit writer needs: the table, and SES for the notices.
pub const NEEDS: Needs = Needs { store: true, mail: true, ..Needs::NOTHING };
/// Its function.
pub const FUNCTION: &str = "mfa-audit-writer";
/// The DynamoDB actions it needs (the stream's own are granted by its event source).
pub const DYNAMODB: &[&str] = &["dynamodb:BatchWriteItem", "dynamodb:PutItem"];

/// A batch of the table's stream records, as Lambda hands it over.
#[derive(Debug, Default, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(default)]
    pub dynamodb: Option<StreamChange>,
}

#[derive(Debug, Deserialize)]
pub struct StreamChange {
    /// The item as the write left it (the stream's `NEW_IMAGE`): what the writer reads of it.
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<NewImage>,
}

/// The attributes of a stream record's item the writer reads (the others are left unread).
#[derive(Debug, Deserialize)]
pub struct NewImage {
    #[serde(default)]
    pub pk: Option<serde_dynamo::AttributeValue>,
    #[serde(default)]
    pub sk: Option<serde_dynamo::AttributeValue>,
    /// `store::PENDING_EVENTS`.
    #[serde(rename = "pendingEvents", default)]
    pub pending_events: Option<serde_dynamo::AttributeValue>,
    /// `store::PENDING_NOTICES`.
    #[serde(rename = "pendingNotices", default)]
    pub pending_notices: Option<serde_dynamo::AttributeValue>,
}

/// What the batch's login states carried: the events, as the items to store (only events
/// of the record's own user, under the audit's keys), and the notices, in order.
pub fn pending(batch: StreamBatch) -> (Vec<HashMap<String, AttributeValue>>, Vec<Outgoing>) {
    let (mut items, mut notices) = (Vec::new(), Vec::new());
    for record in batch.records {
        let Some(image) = record.dynamodb.and_then(|c| c.new_image) else { continue };
        let (pk, sk) = (image.pk.map(AttributeValue::from), image.sk.map(AttributeValue::from));
        let is_login_state = sk.as_ref().and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == LOGIN_STATE_SORT_KEY);
        if !is_login_state {
            continue;
        }
        if let Some(carried) = image.pending_notices {
            match serde_dynamo::from_attribute_value::<_, Vec<Outgoing>>(carried) {
                Ok(carried) => notices.extend(carried),
                Err(e) => tracing::error!(error = %e, "a login state carried notices that do not read"),
            }
        }
        let Some(AttributeValue::L(pending)) = image.pending_events.map(AttributeValue::from) else { continue };
        for event in pending {
            let AttributeValue::M(item) = event else { continue };
            let sort_key = item.get("sk").and_then(|v| v.as_s().ok());
            let is_event = sort_key.is_some_and(|sk| sk.starts_with(crate::audit::SORT_PREFIX));
            if is_event && item.get("pk") == pk.as_ref() {
                items.push(item);
            }
        }
    }
    (items, notices)
}

/// What a batch came to: events stored, notices mailed, mails SES refused, and notices
/// left unmailed because the invocation's time was running out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub stored: usize,
    pub mailed: usize,
    pub refused: usize,
    pub unsent: usize,
}

/// How many notices are mailed at once (each to all its addresses at once).
const NOTICES_AT_ONCE: usize = 4;
/// No notice is begun with less than this left of the invocation: one mail's worst time
/// (SES's 1.5 s in all, `app.rs`) and a margin. A slow SES costs notices, never the batch.
const MAIL_MARGIN: std::time::Duration = std::time::Duration::from_secs(2);

/// What is left of an invocation whose deadline is `deadline_ms` (Unix milliseconds, as
/// Lambda hands it over). A deadline that is no time since 2001 is the length of the
/// invocation itself, as `cargo lambda watch` hands it over (600,000 ms).
pub fn time_left(deadline_ms: u64, now: std::time::SystemTime) -> std::time::Duration {
    const A_TIME: u64 = 1_000_000_000_000;
    let deadline = std::time::Duration::from_millis(deadline_ms);
    if deadline_ms < A_TIME {
        return deadline;
    }
    (std::time::UNIX_EPOCH + deadline).duration_since(now).unwrap_or_default()
}

/// Stores the events of `batch`, then mails its notices until `time_left` (what is left of
/// the invocation) runs short. A batch is delivered again only when storing its events
/// failed, before any notice was mailed; one whose process died while mailing (its
/// environment lost) is delivered again and mails its notices again.
pub async fn write(app: &App, batch: StreamBatch, time_left: std::time::Duration) -> Result<Written, StoreError> {
    let started = std::time::Instant::now();
    let (items, notices) = pending(batch);
    let stored = items.len();
    app.store.put_event_items(items).await?;
    if notices.is_empty() {
        return Ok(Written { stored, ..Written::default() });
    }
    let mailer = match app.mailer() {
        Ok(mailer) => mailer,
        Err(_) => {
            crate::metrics::dependency_failed(crate::refusal::Dependency::Mail);
            tracing::error!(
                notices = notices.len(),
                "no change notice can be sent: this function has no mail settings"
            );
            return Ok(Written { stored, unsent: notices.len(), ..Written::default() });
        }
    };
    // A few notices at a time: a batch of a hundred changes does not meet SES's sending
    // rate all at once.
    use futures_util::StreamExt;
    let sent: Vec<Option<usize>> = futures_util::stream::iter(notices.iter().map(|n| async move {
        if started.elapsed() + MAIL_MARGIN > time_left {
            return None;
        }
        Some(crate::notify::send(mailer, n).await)
    }))
    .buffer_unordered(NOTICES_AT_ONCE)
    .collect()
    .await;
    let unsent = sent.iter().filter(|s| s.is_none()).count();
    if unsent > 0 {
        crate::metrics::dependency_failed(crate::refusal::Dependency::Mail);
        tracing::error!(unsent, "the audit writer ran out of time before mailing every notice");
    }
    let mailed = sent.len() - unsent;
    Ok(Written { stored, mailed, refused: sent.into_iter().flatten().sum(), unsent })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream record as Lambda hands it over (DynamoDB JSON), of `sk`, carrying `events`.
    fn record(sk: &str, events: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "eventName": "MODIFY",
            "dynamodb": {
                "Keys": {"pk": {"S": "USER#u1"}, "sk": {"S": sk}},
                "NewImage": {
                    "pk": {"S": "USER#u1"}, "sk": {"S": sk}, "version": {"N": "7"},
                    "deviceUse": {"M": {}}, "sessions": {"M": {"s1": {"M": {"hash": {"S": "h"}}}}},
                    "pendingEvents": events,
                },
            },
        })
    }

    fn event(pk: &str, sk: &str) -> serde_json::Value {
        serde_json::json!({"M": {"pk": {"S": pk}, "sk": {"S": sk}, "kind": {"S": "LOGIN_SUCCEEDED"}}})
    }

    #[test]
    fn only_a_login_states_own_events_are_taken() {
        let batch = serde_json::json!({"Records": [
            record("MFA#LOGIN", serde_json::json!({"L": [event("USER#u1", "MFA~AUDIT#1#a"), event("USER#u2", "MFA~AUDIT#1#b"), event("USER#u1", "MFA")]})),
            record("MFA", serde_json::json!({"L": [event("USER#u1", "MFA~AUDIT#1#c")]})),
            {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "USER#u1"}, "sk": {"S": "MFA#LOGIN"}}}},
        ]});
        let batch: StreamBatch = serde_json::from_value(batch).expect("a stream batch");
        let (items, _) = pending(batch);
        let keys: Vec<_> = items.iter().map(|i| i["sk"].as_s().unwrap().as_str()).collect();
        assert_eq!(keys, ["MFA~AUDIT#1#a"], "another user's event, a record's key and a settings item's are left");
    }

    #[test]
    fn the_time_left_is_read_off_the_deadline() {
        use std::time::{Duration, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_millis(1_796_616_863_581);
        assert_eq!(time_left(1_796_616_873_581, now), Duration::from_secs(10));
        assert_eq!(time_left(1_796_616_860_000, now), Duration::ZERO, "a deadline passed");
        assert_eq!(time_left(600_000, now), Duration::from_secs(600), "cargo lambda watch's");
    }

    #[test]
    fn only_a_login_states_notices_are_mailed() {
        let notice = |id: &str| {
            serde_json::json!({"M": {
                "id": {"S": id},
                "to": {"L": [{"S": "ada@example.com"}]},
                "notice": {"M": {"kind": {"S": "backupCodeUsed"}, "left": {"N": "9"}}},
            }})
        };
        let mut login = record("MFA#LOGIN", serde_json::json!({"L": []}));
        login["dynamodb"]["NewImage"]["pendingNotices"] = serde_json::json!({"L": [notice("n1")]});
        let mut settings = record("MFA", serde_json::json!({"L": []}));
        settings["dynamodb"]["NewImage"]["pendingNotices"] = serde_json::json!({"L": [notice("n2")]});
        let batch: StreamBatch =
            serde_json::from_value(serde_json::json!({"Records": [login, settings]})).expect("a stream batch");
        let (_, notices) = pending(batch);
        assert_eq!(
            notices,
            [Outgoing {
                id: "n1".into(),
                to: vec!["ada@example.com".into()],
                notice: crate::notify::Notice::BackupCodeUsed { left: 9 },
            }]
        );
    }
}
