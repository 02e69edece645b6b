//! The DynamoDB table: every key shape and every read and write of it (docs/architecture.md's
//! "Data model"). One table with string keys `pk`/`sk` and the TTL attribute `expiresAt`. The
//! store answers in [`StoreError`]s; what they mean to a caller is decided in the envelope.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem,
    TransactWriteItem, Update,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::{self, Event};
use crate::model::{
    Ceremony, CeremonyKind, CodeItem, LinkToken, MfaType, OrgPolicy, Purpose, RefreshChain, UserMfaRecord,
};

pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// One write of a transaction, built by the store and carried out with the user's record.
pub type Write = TransactWriteItem;

/// Every item's keys: `(pk, sk)`.
mod keys {
    pub fn user(user_id: &str) -> (String, String) {
        (format!("USER#{user_id}"), "MFA".into())
    }
    pub fn policy(org_id: &str) -> (String, String) {
        (format!("ORG#{org_id}"), "POLICY".into())
    }
    pub fn token(token_hash: &str) -> (String, String) {
        (format!("TOKEN#{token_hash}"), "TOKEN".into())
    }
    pub fn ceremony(user_id: &str, challenge_hash: &str) -> (String, String) {
        (format!("USER#{user_id}"), format!("CEREMONY#{challenge_hash}"))
    }
    /// A session's refresh chain.
    pub fn refresh(session_id: &str) -> (String, String) {
        (format!("REFRESH#{session_id}"), "REFRESH".into())
    }
    pub fn code(user_id: &str, method: super::MfaType, purpose: super::Purpose) -> (String, String) {
        (format!("USER#{user_id}"), format!("CODE#{}#{}", method.as_str(), purpose.as_str()))
    }
    /// A phone number's send count in one hour, under the number's MAC.
    pub fn number_slot(number_tag: &str, hour: i64) -> (String, String) {
        (format!("SMSLIMIT#{number_tag}"), format!("HOUR#{hour}"))
    }
    /// A number prefix's texts in one hour (`sms`): sent, and sent but not yet entered.
    pub fn sms_prefix(prefix: &str, hour: i64) -> (String, String) {
        (format!("SMSPREFIX#{prefix}"), format!("HOUR#{hour}"))
    }
    /// The deployment's texts in one hour.
    pub fn sms_budget(hour: i64) -> (String, String) {
        ("SMSBUDGET#".into(), format!("HOUR#{hour}"))
    }
}

/// The first item of a transaction whose condition failed.
#[derive(Debug, Default)]
pub struct Cancelled {
    /// Its place among the transaction's items.
    pub at: usize,
    /// The item as it stood, when its write asked for it (`ALL_OLD`).
    pub old: Option<HashMap<String, AttributeValue>>,
}

impl Cancelled {
    /// A whole-number attribute of the item as it stood.
    pub fn number(&self, name: &str) -> Option<i64> {
        match self.old.as_ref()?.get(name)? {
            AttributeValue::N(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// The record's attribute that lists the user's live sessions by id.
const SESSIONS_ATTRIBUTE: &str = "sessions";
const DEVICES_ATTRIBUTE: &str = "devices";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: someone else changed the item first.
    #[error("the item changed concurrently")]
    Conflict,
    /// A one-time item written with the record was already consumed (or never existed),
    /// or a limit's counter stood at its limit: which item of the transaction, and that
    /// item as it stood when it asked for it.
    #[error("a one-time value was already spent")]
    Spent(Cancelled),
    /// DynamoDB could not be reached or is throttling.
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    #[error("DynamoDB request failed: {0}")]
    Failed(String),
    #[error("stored item is malformed: {0}")]
    Malformed(String),
}

fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => StoreError::Unavailable(format!("{err:?}")),
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            match code {
                // Our condition failed, or another transaction holds the item right now:
                // read again and retry.
                "ConditionalCheckFailedException" | "TransactionConflictException" => StoreError::Conflict,
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "TransactionInProgressException" => StoreError::Unavailable(code.to_string()),
                _ => StoreError::Failed(format!("{code}: {}", se.err().message().unwrap_or_default())),
            }
        }
        _ => StoreError::Failed(format!("{err:?}")),
    }
}

type Item = HashMap<String, AttributeValue>;

fn to_item<T: Serialize>(value: &T, (pk, sk): (String, String)) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| StoreError::Malformed(e.to_string()))?;
    item.insert("pk".into(), AttributeValue::S(pk));
    item.insert("sk".into(), AttributeValue::S(sk));
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed(e.to_string()))
}

fn key((pk, sk): (String, String)) -> Item {
    HashMap::from([("pk".to_string(), AttributeValue::S(pk)), ("sk".to_string(), AttributeValue::S(sk))])
}

fn built<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Failed(e.to_string()))
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Source,
    table: String,
}

/// Where the store's DynamoDB client comes from: given, or built from the SDK's settings on
/// the first request that reads or writes. Building it reads the SDK's endpoint rules and
/// sets up its HTTPS connector (a third of a millisecond): a cold start whose first request
/// is refused before any read does not pay for it.
#[derive(Clone, Debug)]
enum Source {
    Given(Client),
    OnFirstUse(Box<aws_types::SdkConfig>, fn(&aws_types::SdkConfig) -> Client, std::sync::OnceLock<Client>),
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client: Source::Given(client), table: table.into() }
    }

    /// A store whose client `build` makes from `sdk` when it is first needed.
    pub fn on_first_use(
        sdk: aws_types::SdkConfig,
        build: fn(&aws_types::SdkConfig) -> Client,
        table: impl Into<String>,
    ) -> Self {
        Self { client: Source::OnFirstUse(Box::new(sdk), build, std::sync::OnceLock::new()), table: table.into() }
    }

    fn client(&self) -> &Client {
        match &self.client {
            Source::Given(client) => client,
            Source::OnFirstUse(sdk, build, built) => built.get_or_init(|| build(sdk)),
        }
    }

    /// The write that puts a new item (never overwriting one).
    fn put_new<T: Serialize>(&self, value: &T, keys: (String, String)) -> Result<Write, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(value, keys)?))
            .condition_expression("attribute_not_exists(pk)");
        Ok(TransactWriteItem::builder().put(built(put.build())?).build())
    }

    async fn delete(&self, keys: (String, String)) -> Result<(), StoreError> {
        self.client().delete_item().table_name(&self.table).set_key(Some(key(keys))).send().await.map_err(classify)?;
        Ok(())
    }

    /// The write that deletes a one-time item: once, while it exists and `attribute` is
    /// `value` and it has not expired at `now`.
    fn consume(&self, keys: (String, String), attribute: &str, value: &str, now: i64) -> Result<Write, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys)))
            .condition_expression("attribute_exists(pk) AND #a = :value AND expiresAt > :now")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":value", AttributeValue::S(value.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
        Ok(TransactWriteItem::builder().delete(built(delete.build())?).build())
    }

    // The user's record and the organization policy ----------------------------------------

    /// The user's record and, for a member of an organization, its policy, in one round trip.
    /// A user with no record yet gets a fresh one (version 0).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn load_user_and_policy(
        &self,
        user_id: &str,
        org_id: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<OrgPolicy>), StoreError> {
        let user_or_new = |item: Option<Item>| match item {
            Some(item) => from_item(item),
            None => Ok(UserMfaRecord::new(user_id)),
        };
        let Some(org_id) = org_id else {
            let out = self
                .client()
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::user(user_id))))
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            return Ok((user_or_new(out.item)?, None));
        };
        let get = |keys: (String, String)| -> Result<TransactGetItem, StoreError> {
            let get = built(Get::builder().table_name(&self.table).set_key(Some(key(keys))).build())?;
            Ok(TransactGetItem::builder().get(get).build())
        };
        let out = self
            .client()
            .transact_get_items()
            .transact_items(get(keys::user(user_id))?)
            .transact_items(get(keys::policy(org_id))?)
            .send()
            .await
            .map_err(classify)?;
        let mut responses = out.responses.unwrap_or_default().into_iter().map(|r| r.item);
        let user = user_or_new(responses.next().flatten())?;
        let policy = responses.next().flatten().map(from_item::<OrgPolicy>).transpose()?;
        Ok((user, policy))
    }

    /// The user's record and the rules that govern them: the policy of the organization the
    /// record is bound to or, for a record bound to none yet, of `named` (the organization
    /// the caller's token names). `named`'s policy is read in the same round trip; a record
    /// bound to another organization costs one more read, so a session begun with another
    /// organization's token, or with none, still meets its member's organization's rules.
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn load_user_and_rules(
        &self,
        user_id: &str,
        named: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<OrgPolicy>), StoreError> {
        let (user, policy) = self.load_user_and_policy(user_id, named).await?;
        let policy = self.governing(&user, named, policy).await?;
        Ok((user, policy))
    }

    /// The policy that governs `user`, given `read`, the policy of `named` read with it.
    async fn governing(
        &self,
        user: &UserMfaRecord,
        named: Option<&str>,
        read: Option<OrgPolicy>,
    ) -> Result<Option<OrgPolicy>, StoreError> {
        match user.org_id.as_deref() {
            Some(bound) if Some(bound) != named => self.load_policy(bound).await,
            _ => Ok(read),
        }
    }

    /// An organization's policy alone.
    pub async fn load_policy(&self, org_id: &str) -> Result<Option<OrgPolicy>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::policy(org_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item::<OrgPolicy>).transpose()
    }

    /// The user's record and one more item, in one round trip (the record and the
    /// one-time item a request presents), with the policy of `org_id` when one is named.
    async fn load_user_and<T: DeserializeOwned>(
        &self,
        user_id: &str,
        other: (String, String),
        org_id: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<T>, Option<OrgPolicy>), StoreError> {
        let get = |keys: (String, String)| -> Result<TransactGetItem, StoreError> {
            let get = built(Get::builder().table_name(&self.table).set_key(Some(key(keys))).build())?;
            Ok(TransactGetItem::builder().get(get).build())
        };
        let mut request =
            self.client().transact_get_items().transact_items(get(keys::user(user_id))?).transact_items(get(other)?);
        if let Some(org_id) = org_id {
            request = request.transact_items(get(keys::policy(org_id))?);
        }
        let out = request.send().await.map_err(classify)?;
        let mut responses = out.responses.unwrap_or_default().into_iter().map(|r| r.item);
        let user = match responses.next().flatten() {
            Some(item) => from_item(item)?,
            None => UserMfaRecord::new(user_id),
        };
        let other = responses.next().flatten().map(from_item::<T>).transpose()?;
        let policy = responses.next().flatten().map(from_item::<OrgPolicy>).transpose()?;
        Ok((user, other, policy))
    }

    /// [`Store::load_user_and`] for a change: with the rules that govern the user (see
    /// [`Store::load_user_and_rules`]).
    async fn load_user_and_governed<T: DeserializeOwned>(
        &self,
        user_id: &str,
        other: (String, String),
        named: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<T>, Option<OrgPolicy>), StoreError> {
        let (user, other, policy) = self.load_user_and(user_id, other, named).await?;
        let policy = self.governing(&user, named, policy).await?;
        Ok((user, other, policy))
    }

    /// The records of a member and of the administrator acting on them, in one round trip
    /// (the administrator's own record tells whether their session is live).
    pub async fn load_user_and_actor(
        &self,
        user_id: &str,
        actor_id: &str,
    ) -> Result<(UserMfaRecord, UserMfaRecord), StoreError> {
        let (user, actor, _) = self.load_user_and::<UserMfaRecord>(user_id, keys::user(actor_id), None).await?;
        Ok((user, actor.unwrap_or_else(|| UserMfaRecord::new(actor_id))))
    }

    /// The user's record and a magic-link token, in one round trip, with the rules that
    /// govern the user (`named`: the organization the caller's token names, if any).
    pub async fn load_user_and_token(
        &self,
        user_id: &str,
        token_hash: &str,
        named: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<LinkToken>, Option<OrgPolicy>), StoreError> {
        self.load_user_and_governed(user_id, keys::token(token_hash), named).await
    }

    /// The user's record and their live code of `method` for `purpose`, in one round trip,
    /// with the rules that govern the user.
    pub async fn load_user_and_code(
        &self,
        user_id: &str,
        method: MfaType,
        purpose: Purpose,
        named: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<CodeItem>, Option<OrgPolicy>), StoreError> {
        self.load_user_and_governed(user_id, keys::code(user_id, method, purpose), named).await
    }

    /// The user's record and a WebAuthn ceremony of theirs, in one round trip, with the
    /// rules that govern the user.
    pub async fn load_user_and_ceremony(
        &self,
        user_id: &str,
        challenge_hash: &str,
        named: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<Ceremony>, Option<OrgPolicy>), StoreError> {
        self.load_user_and_governed(user_id, keys::ceremony(user_id, challenge_hash), named).await
    }

    /// Writes `record` if nobody changed it since it was read (optimistic locking on
    /// `version`), and bumps its version.
    #[tracing::instrument(skip_all, fields(user_id = %record.user_id), err(Display))]
    pub async fn save_user(&self, record: &mut UserMfaRecord) -> Result<(), StoreError> {
        let expected = record.version;
        record.version = expected + 1;
        let result = self.put_versioned(&*record, keys::user(&record.user_id), expected).await;
        if result.is_err() {
            record.version = expected;
        }
        result
    }

    /// Writes the record (conditional on its version) and `extra` in one transaction.
    /// `Conflict` when the record changed meanwhile, `Spent` when one of `extra`'s
    /// conditions failed.
    #[tracing::instrument(skip_all, fields(user_id = %record.user_id), err(Display))]
    pub async fn save_user_with(&self, record: &mut UserMfaRecord, extra: Vec<Write>) -> Result<(), StoreError> {
        let keys = keys::user(&record.user_id);
        let expected = record.version;
        record.version = expected + 1;
        let result = self.put_versioned_with(&*record, keys, expected, extra).await;
        if result.is_err() {
            record.version = expected;
        }
        result
    }

    /// Writes an organization policy, conditional on its version like the user record.
    #[tracing::instrument(skip_all, fields(org_id = %policy.org_id), err(Display))]
    pub async fn save_policy(&self, policy: &mut OrgPolicy) -> Result<(), StoreError> {
        let expected = policy.version;
        policy.version = expected + 1;
        let result = self.put_versioned(&*policy, keys::policy(&policy.org_id), expected).await;
        if result.is_err() {
            policy.version = expected;
        }
        result
    }

    /// Puts an item whose stored `version` must still be `expected` (or which is new).
    async fn put_versioned<T: Serialize>(
        &self,
        value: &T,
        keys: (String, String),
        expected: u64,
    ) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(value, keys)?))
            .condition_expression("attribute_not_exists(pk) OR version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Writes an organization policy (conditional on its version) and `extra` (its audit
    /// event) in one transaction.
    pub async fn save_policy_with(&self, policy: &mut OrgPolicy, extra: Vec<Write>) -> Result<(), StoreError> {
        let keys = keys::policy(&policy.org_id);
        let expected = policy.version;
        policy.version = expected + 1;
        let result = self.put_versioned_with(&*policy, keys, expected, extra).await;
        if result.is_err() {
            policy.version = expected;
        }
        result
    }

    /// [`Store::put_versioned`] and `extra` in one transaction: `Conflict` when the item
    /// changed meanwhile, `Spent` when one of `extra`'s conditions failed.
    async fn put_versioned_with<T: Serialize>(
        &self,
        value: &T,
        keys: (String, String),
        expected: u64,
        extra: Vec<Write>,
    ) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(value, keys)?))
            .condition_expression("attribute_not_exists(pk) OR version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()));
        // The versioned item first: cancellation reasons come back in this order.
        let mut items = vec![TransactWriteItem::builder().put(built(put.build())?).build()];
        items.extend(extra);
        self.run(items, true).await
    }

    // Audit events ------------------------------------------------------------------------

    /// The write that stores an audit event (in the transaction of the change it records).
    pub fn put_event(&self, event: &Event) -> Result<Write, StoreError> {
        self.put_new(event, (keys::user(&event.user_id).0, audit::sort_key(event.at, &event.event_id)))
    }

    /// One page of a user's events, newest first, after the event whose sort key is
    /// `after` (from the start when `None`). From the start, the one Query also returns
    /// the user's record, which sorts just before the events; a later page reads the
    /// record beside it (at the same time). The next page's key comes back when there may
    /// be more.
    pub async fn events_page(
        &self,
        user_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(UserMfaRecord, Vec<Event>, Option<String>), StoreError> {
        let (pk, record_sk) = keys::user(user_id);
        let from = after.unwrap_or(&record_sk).to_string();
        let mut query = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":from", AttributeValue::S(from.clone()))
            .expression_attribute_values(":to", AttributeValue::S(format!("{}~", audit::SORT_PREFIX)))
            .consistent_read(true)
            .limit((limit + usize::from(after.is_none())) as i32);
        if after.is_some() {
            query = query.set_exclusive_start_key(Some(key((pk.clone(), from))));
        }
        let (out, loaded) = match after {
            None => (query.send().await.map_err(classify)?, None),
            Some(_) => {
                let (out, record) = tokio::try_join!(
                    async { query.send().await.map_err(classify) },
                    self.load_user_and_policy(user_id, None)
                )?;
                (out, Some(record.0))
            }
        };
        let mut record = loaded;
        let mut events = Vec::new();
        for item in out.items.unwrap_or_default() {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk == record_sk {
                record = Some(from_item(item)?);
            } else {
                events.push((sk, from_item::<Event>(item)?));
            }
        }
        let next = match out.last_evaluated_key {
            Some(_) if events.len() >= limit => events.last().map(|(sk, _)| sk.clone()),
            _ => None,
        };
        let record = record.unwrap_or_else(|| UserMfaRecord::new(user_id));
        Ok((record, events.into_iter().map(|(_, e)| e).collect(), next))
    }

    // Magic-link tokens -------------------------------------------------------------------

    /// The write that stores a new token (never overwriting one).
    pub fn put_token(&self, token_hash: &str, token: &LinkToken) -> Result<Write, StoreError> {
        self.put_new(token, keys::token(token_hash))
    }

    /// The write that consumes a token: once, only while it exists, has `purpose` and has
    /// not expired at `now`.
    pub fn consume_token(&self, token_hash: &str, purpose: Purpose, now: i64) -> Result<Write, StoreError> {
        self.consume(keys::token(token_hash), "purpose", purpose.as_str(), now)
    }

    /// Removes a token that was never delivered (its mail failed). A token already gone
    /// is fine.
    pub async fn delete_token(&self, token_hash: &str) -> Result<(), StoreError> {
        self.delete(keys::token(token_hash)).await
    }

    // Codes sent by mail or text ----------------------------------------------------------

    /// The write that stores a new code of `method` for `purpose`, replacing an earlier one.
    pub fn put_code(&self, method: MfaType, purpose: Purpose, code: &CodeItem) -> Result<Write, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(code, keys::code(&code.user_id, method, purpose))?));
        Ok(TransactWriteItem::builder().put(built(put.build())?).build())
    }

    /// The write that spends a code: once, while it is the one with `tag` and unexpired.
    pub fn consume_code(
        &self,
        user_id: &str,
        method: MfaType,
        purpose: Purpose,
        tag: &str,
        now: i64,
    ) -> Result<Write, StoreError> {
        self.consume(keys::code(user_id, method, purpose), "tag", tag, now)
    }

    /// Removes a code that was never delivered. A code already gone is fine.
    pub async fn delete_code(&self, user_id: &str, method: MfaType, purpose: Purpose) -> Result<(), StoreError> {
        self.delete(keys::code(user_id, method, purpose)).await
    }

    /// The write that updates the counter item at `keys` with `expression`, under
    /// `condition` (none: always), with whole-number `values`; `report` asks for the item
    /// as it stood when the condition fails.
    fn counter(
        &self,
        keys: (String, String),
        expression: &str,
        condition: Option<&str>,
        values: &[(&str, i64)],
        report: bool,
    ) -> Result<Write, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys)))
            .update_expression(expression)
            .set_condition_expression(condition.map(String::from));
        for (name, value) in values {
            update = update.expression_attribute_values(*name, AttributeValue::N(value.to_string()));
        }
        if report {
            update = update.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        Ok(TransactWriteItem::builder().update(built(update.build())?).build())
    }

    /// The write that takes one of a phone number's sends of this hour: at most `max`, and
    /// none within `interval` seconds of the last.
    pub fn take_number_slot(&self, number_tag: &str, now: i64, interval: i64, max: u32) -> Result<Write, StoreError> {
        let hour = now.div_euclid(3600);
        self.counter(
            keys::number_slot(number_tag, hour),
            "SET lastSent = :now, expiresAt = :expires ADD sent :one",
            Some("attribute_not_exists(sent) OR (sent < :max AND lastSent <= :cut)"),
            &[
                (":now", now),
                (":expires", (hour + 2) * 3600),
                (":one", 1),
                (":max", max.into()),
                (":cut", now - interval),
            ],
            false,
        )
    }

    /// The write that takes one of a number prefix's texts of `hour`: at most `per_hour`
    /// sent, and fewer than `unverified` sent and not entered. A failure gives the counter
    /// back as it stood, so the refusal can say which limit it met.
    pub fn take_prefix_slot(
        &self,
        prefix: &str,
        hour: i64,
        per_hour: u32,
        unverified: u32,
        expires_at: i64,
    ) -> Result<Write, StoreError> {
        self.counter(
            keys::sms_prefix(prefix, hour),
            "SET expiresAt = :expires ADD sent :one, unverified :one",
            Some(
                "(attribute_not_exists(sent) OR sent < :max) AND (attribute_not_exists(unverified) OR unverified < :unverified)",
            ),
            &[(":expires", expires_at), (":one", 1), (":max", per_hour.into()), (":unverified", unverified.into())],
            true,
        )
    }

    /// The check that a prefix's counter of an earlier `hour` did not reach `unverified`
    /// codes sent and not entered (which blocks the prefix for a while).
    pub fn prefix_not_blocked(&self, prefix: &str, hour: i64, unverified: u32) -> Result<Write, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::sms_prefix(prefix, hour))))
            .condition_expression("attribute_not_exists(unverified) OR unverified < :unverified")
            .expression_attribute_values(":unverified", AttributeValue::N(unverified.to_string()));
        Ok(TransactWriteItem::builder().condition_check(built(check.build())?).build())
    }

    /// The write that credits a prefix's counter of `hour` with a code that was entered.
    pub fn credit_prefix(&self, prefix: &str, hour: i64, expires_at: i64) -> Result<Write, StoreError> {
        self.counter(
            keys::sms_prefix(prefix, hour),
            "SET expiresAt = if_not_exists(expiresAt, :expires) ADD unverified :minus",
            None,
            &[(":expires", expires_at), (":minus", -1)],
            false,
        )
    }

    /// The write that takes one of the deployment's texts of `hour`: at most `budget`.
    pub fn take_budget_slot(&self, hour: i64, budget: u32) -> Result<Write, StoreError> {
        self.counter(
            keys::sms_budget(hour),
            "SET expiresAt = :expires ADD sent :one",
            Some("attribute_not_exists(sent) OR sent < :budget"),
            &[(":expires", (hour + 2) * 3600), (":one", 1), (":budget", budget.into())],
            false,
        )
    }

    /// A counter of the SMS defences as it stands (`sent`, `unverified`), for operators and
    /// tests.
    pub async fn sms_counter(&self, prefix: Option<&str>, hour: i64) -> Result<(i64, i64), StoreError> {
        let keys = match prefix {
            Some(p) => keys::sms_prefix(p, hour),
            None => keys::sms_budget(hour),
        };
        let item = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let number = |name: &str| match item.item().and_then(|i| i.get(name)) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        };
        Ok((number("sent"), number("unverified")))
    }

    // WebAuthn ceremonies -----------------------------------------------------------------

    /// The write that stores a ceremony under the hash of its challenge.
    pub fn put_ceremony(&self, challenge_hash: &str, ceremony: &Ceremony) -> Result<Write, StoreError> {
        self.put_new(ceremony, keys::ceremony(&ceremony.user_id, challenge_hash))
    }

    /// The write that finishes a ceremony: once, before it expires, for its kind only.
    pub fn consume_ceremony(
        &self,
        user_id: &str,
        challenge_hash: &str,
        kind: CeremonyKind,
        now: i64,
    ) -> Result<Write, StoreError> {
        self.consume(keys::ceremony(user_id, challenge_hash), "kind", kind.as_str(), now)
    }

    /// Removes a ceremony that failed verification, so its challenge is spent either way.
    pub async fn delete_ceremony(&self, user_id: &str, challenge_hash: &str) -> Result<(), StoreError> {
        self.delete(keys::ceremony(user_id, challenge_hash)).await
    }

    /// The write that removes a ceremony replaced by a newer one (gone already is fine).
    pub fn drop_ceremony(&self, user_id: &str, challenge_hash: &str) -> Result<Write, StoreError> {
        let delete =
            Delete::builder().table_name(&self.table).set_key(Some(key(keys::ceremony(user_id, challenge_hash))));
        Ok(TransactWriteItem::builder().delete(built(delete.build())?).build())
    }

    // Sessions ----------------------------------------------------------------------------

    /// The user's record and session `session_id`'s refresh chain, in one round trip.
    pub async fn load_user_and_chain(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<(UserMfaRecord, Option<RefreshChain>), StoreError> {
        let (user, chain, _) = self.load_user_and::<RefreshChain>(user_id, keys::refresh(session_id), None).await?;
        Ok((user, chain))
    }

    /// The write that starts a session's refresh chain (with the login's record update).
    pub fn put_refresh(&self, chain: &RefreshChain) -> Result<Write, StoreError> {
        self.put_new(chain, keys::refresh(&chain.session_id))
    }

    /// Rotates session `session_id`'s chain from `generation` (whose secret hashes to
    /// `presented`) to the next generation, whose secret hashes to `next`: one conditional
    /// update of one item, so each token rotates once. `Conflict` when the chain had moved
    /// on (a concurrent refresh spent the token first) or is gone.
    pub async fn rotate_refresh(
        &self,
        session_id: &str,
        generation: u64,
        presented: &str,
        next: &str,
    ) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::refresh(session_id))))
            .update_expression("SET #g = :next, #h = :new")
            .condition_expression("#g = :g AND #h = :h")
            .expression_attribute_names("#g", "generation")
            .expression_attribute_names("#h", "hash")
            .expression_attribute_values(":g", AttributeValue::N(generation.to_string()))
            .expression_attribute_values(":h", AttributeValue::S(presented.to_string()))
            .expression_attribute_values(":next", AttributeValue::N((generation + 1).to_string()))
            .expression_attribute_values(":new", AttributeValue::S(next.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Holds the user's record for a change that takes access away (`hold.by`) until
    /// `hold.until`: every other change is refused until then (`update::run`), and the
    /// version bump sends the writes racing now back to read it. Not conditional on the
    /// version, so it lands however many logins race it; the change's own write clears it.
    pub async fn hold_for_removal(&self, user_id: &str, hold: &crate::model::RemovalHold) -> Result<(), StoreError> {
        let value = AttributeValue::M(std::collections::HashMap::from([
            ("until".to_string(), AttributeValue::N(hold.until.to_string())),
            ("by".to_string(), AttributeValue::S(hold.by.clone())),
        ]));
        self.client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user(user_id))))
            .update_expression("SET removalHold = :hold, version = version + :one")
            .condition_expression("attribute_exists(version)")
            .expression_attribute_values(":hold", value)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// Takes session `session_id` off the user's record, bumping its version so a
    /// concurrent update of the record reads it again (already gone is fine). The one
    /// write of the record outside `update`: it changes nothing but the session list, so a
    /// refused refresh needs no read of the record.
    pub async fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        device_id: Option<&str>,
    ) -> Result<(), StoreError> {
        for attempt in 1..=3 {
            let mut update = self
                .client()
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::user(user_id))))
                .update_expression(match device_id {
                    Some(_) => "REMOVE #sessions.#id, #devices.#device SET version = version + :one",
                    None => "REMOVE #sessions.#id SET version = version + :one",
                })
                .condition_expression("attribute_exists(#sessions.#id)")
                .expression_attribute_names("#sessions", SESSIONS_ATTRIBUTE)
                .expression_attribute_names("#id", session_id)
                .expression_attribute_values(":one", AttributeValue::N("1".into()));
            if let Some(device) = device_id {
                update = update
                    .expression_attribute_names("#devices", DEVICES_ATTRIBUTE)
                    .expression_attribute_names("#device", device);
            }
            let result = update.send().await;
            let Err(err) = result else { return Ok(()) };
            match err.as_service_error().and_then(|e| e.code()) {
                // Not listed: the session has ended already.
                Some("ConditionalCheckFailedException") => return Ok(()),
                // A transaction holds the record right now: try again.
                Some("TransactionConflictException") if attempt < 3 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                _ => return Err(classify(err)),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    // Transactions ------------------------------------------------------------------------

    /// Runs writes as one transaction; `Spent` when any of their conditions fails.
    pub async fn transact(&self, items: Vec<Write>) -> Result<(), StoreError> {
        self.run(items, false).await
    }

    /// With `first_is_record`, a failed condition on the first item (the versioned user
    /// record) is a `Conflict` (run the step again), on any other a `Spent`.
    async fn run(&self, items: Vec<Write>, first_is_record: bool) -> Result<(), StoreError> {
        let err = match self.client().transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if let SdkError::ServiceError(se) = &err
            && let TransactWriteItemsError::TransactionCanceledException(tc) = se.err()
        {
            let reasons = tc.cancellation_reasons();
            let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
            let failed: Vec<bool> = codes.iter().map(|c| *c == "ConditionalCheckFailed").collect();
            let conflict = codes.contains(&"TransactionConflict");
            if first_is_record {
                // A stale record, or another transaction on the same items right now: run again.
                if failed.first() == Some(&true) || conflict {
                    return Err(StoreError::Conflict);
                }
            }
            if let Some(at) = failed.iter().position(|f| *f) {
                let old = reasons.get(at).and_then(|r| r.item().cloned());
                return Err(StoreError::Spent(Cancelled { at, old }));
            }
            if conflict {
                return Err(StoreError::Conflict);
            }
        }
        Err(classify(err))
    }
}
