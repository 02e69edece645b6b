//! The DynamoDB table: every key shape and every read and write of it (docs/architecture.md's
//! "Data model"). One table with string keys `pk`/`sk` and the TTL attribute `expiresAt`. The
//! store answers in [`StoreError`]s; what they mean to a caller is decided in the envelope.
//!
//! A user's record is stored as two items of the user's partition: its settings (`MFA`: the
//! factors, the recovery codes, the organization binding) and its login state (`MFA#LOGIN`:
//! the soft lock, the last time step, the sessions with their refresh chains, the
//! remembered devices, the sends, when each factor was last used, and the version every
//! write is conditional on). A login changes the login state alone, so it writes that
//! small item alone (one write unit where the whole record took four); a change of the
//! settings writes both in one transaction, and both carry a tag it sets (`pair`), so a read
//! that caught one from before it and one from after it is noticed and made again. Both are
//! read by one `Query` (one read unit up to 4 KB together), or inside a transactional read.

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
use crate::model::{Ceremony, CeremonyKind, CodeItem, LinkToken, MfaType, OrgPolicy, Purpose, StoredAs, UserMfaRecord};

pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// One write of a transaction, built by the store and carried out with the user's record.
pub type Write = TransactWriteItem;

/// Every item's keys: `(pk, sk)`.
mod keys {
    /// The user's record: its settings.
    pub fn user(user_id: &str) -> (String, String) {
        (format!("USER#{user_id}"), "MFA".into())
    }
    /// The user's record: its login state.
    pub fn login(user_id: &str) -> (String, String) {
        (format!("USER#{user_id}"), super::LOGIN_STATE_SORT_KEY.into())
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
/// The login state's attribute naming the change that holds the record, and until when.
const HOLD_ATTRIBUTE: &str = "removalHold";
/// The record's attributes kept in its login state (the rest are its settings): what a
/// login changes (a login with a remembered device marks it used; one that remembers its
/// device adds one), and the login state's own: when each factor was last used (taken out
/// of the settings' factor entries), and the tag of the settings it goes with.
const LOGIN_ATTRIBUTES: [&str; 8] = [
    "failedAttempts",
    "lockedUntil",
    "totpLastStep",
    SESSIONS_ATTRIBUTE,
    DEVICES_ATTRIBUTE,
    "sends",
    HOLD_ATTRIBUTE,
    "version",
];
const FACTOR_USE: &str = "factorUse";
const LAST_USED: &str = "lastUsedAt";
const PAIR: &str = "pair";
/// The login state's attribute that carries the audit events of the write that wrote it:
/// the audit writer (`outbox`) stores each as an item of its own from the table's stream.
pub const PENDING_EVENTS: &str = "pendingEvents";
/// The login state's attribute that carries the change notices of the write that wrote it
/// (`notify::Outgoing`): the audit writer mails them once it stored the events. Every
/// other write of the login state removes both, so no notice is carried twice.
pub const PENDING_NOTICES: &str = "pendingNotices";
/// The sort key of a user's login state (the audit writer reads only its stream records).
pub const LOGIN_STATE_SORT_KEY: &str = "MFA#LOGIN";

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

/// An audit event as its item (keys included).
fn event_item(event: &Event) -> Result<Item, StoreError> {
    to_item(event, (keys::user(&event.user_id).0, audit::sort_key(event.at, &event.event_id)))
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

/// A record as its two items' attributes (without keys): its login state and its settings.
fn split(record: &UserMfaRecord) -> Result<(Item, Item), StoreError> {
    let mut settings: Item = serde_dynamo::to_item(record).map_err(|e| StoreError::Malformed(e.to_string()))?;
    let mut login = Item::new();
    for name in LOGIN_ATTRIBUTES {
        if let Some(value) = settings.remove(name) {
            login.insert(name.to_string(), value);
        }
    }
    let mut factor_use = Item::new();
    if let Some(AttributeValue::L(factors)) = settings.get_mut("factors") {
        for factor in factors {
            if let AttributeValue::M(factor) = factor
                && let Some(AttributeValue::S(id)) = factor.get("id").cloned()
                && let Some(at) = factor.remove(LAST_USED)
            {
                factor_use.insert(id, at);
            }
        }
    }
    login.insert(FACTOR_USE.into(), AttributeValue::M(factor_use));
    login.entry(SESSIONS_ATTRIBUTE.into()).or_insert_with(|| AttributeValue::M(Item::new()));
    Ok((login, settings))
}

/// A digest of a record's settings as [`split`] lays them out: equal digests, equal
/// settings (maps hashed in key order).
fn digest(settings: &Item) -> String {
    fn feed(out: &mut Vec<u8>, value: &AttributeValue) {
        let text = |tag: u8, bytes: &[u8], out: &mut Vec<u8>| {
            out.push(tag);
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        match value {
            AttributeValue::S(v) => text(b's', v.as_bytes(), out),
            AttributeValue::N(v) => text(b'n', v.as_bytes(), out),
            AttributeValue::B(v) => text(b'b', v.as_ref(), out),
            AttributeValue::Bool(v) => text(b't', &[u8::from(*v)], out),
            AttributeValue::Null(_) => text(b'0', &[], out),
            AttributeValue::L(list) => {
                text(b'l', &(list.len() as u64).to_be_bytes(), out);
                list.iter().for_each(|v| feed(out, v));
            }
            AttributeValue::M(map) => feed_map(out, map),
            AttributeValue::Ss(set) | AttributeValue::Ns(set) => {
                let mut set: Vec<&String> = set.iter().collect();
                set.sort();
                text(b'S', &(set.len() as u64).to_be_bytes(), out);
                set.iter().for_each(|v| text(b's', v.as_bytes(), out));
            }
            AttributeValue::Bs(set) => {
                let mut set: Vec<&[u8]> = set.iter().map(|b| b.as_ref()).collect();
                set.sort();
                text(b'B', &(set.len() as u64).to_be_bytes(), out);
                set.iter().for_each(|v| text(b'b', v, out));
            }
            _ => text(b'?', format!("{value:?}").as_bytes(), out),
        }
    }
    fn feed_map(out: &mut Vec<u8>, map: &Item) {
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        out.push(b'm');
        out.extend_from_slice(&(names.len() as u64).to_be_bytes());
        for name in names {
            out.extend_from_slice(&(name.len() as u64).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
            feed(out, &map[name]);
        }
    }
    let mut out = Vec::new();
    feed_map(&mut out, settings);
    crate::crypto::sha256_hex(&out)
}

/// A record read back from its items: the settings (or, before the split, the whole
/// record) and the login state. `None` when the two are of different writes (a read that
/// fell between a transaction's items): read again.
fn record_from(
    user_id: &str,
    settings: Option<Item>,
    login: Option<Item>,
) -> Result<Option<UserMfaRecord>, StoreError> {
    let Some(settings) = settings.or_else(|| login.as_ref().map(|_| Item::new())) else {
        return Ok(Some(UserMfaRecord::new(user_id)));
    };
    let is_split = login.is_some();
    let pair = login.as_ref().and_then(|l| l.get(PAIR)).and_then(|v| v.as_s().ok()).cloned();
    if is_split && settings.get(PAIR).and_then(|v| v.as_s().ok()) != pair.as_ref() {
        return Ok(None);
    }
    let mut merged = settings;
    for name in ["pk", "sk", PAIR] {
        merged.remove(name);
    }
    if let Some(mut login) = login {
        let factor_use = login.remove(FACTOR_USE);
        for name in LOGIN_ATTRIBUTES {
            match login.remove(name) {
                Some(value) => merged.insert(name.to_string(), value),
                None => merged.remove(name),
            };
        }
        if let (Some(AttributeValue::M(used)), Some(AttributeValue::L(factors))) =
            (factor_use, merged.get_mut("factors"))
        {
            for factor in factors {
                if let AttributeValue::M(factor) = factor
                    && let Some(at) = factor.get("id").and_then(|id| id.as_s().ok()).and_then(|id| used.get(id))
                {
                    factor.insert(LAST_USED.into(), at.clone());
                }
            }
        }
    }
    merged.insert("userId".into(), AttributeValue::S(user_id.to_string()));
    let mut record: UserMfaRecord = from_item(merged)?;
    let (_, settings) = split(&record)?;
    record.stored = StoredAs { split: is_split, pair, settings_digest: Some(digest(&settings)) };
    Ok(Some(record))
}

/// A read of a record that fell between a transaction's two items, again and again.
fn torn() -> StoreError {
    StoreError::Unavailable("the user's record was being written throughout the read".into())
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

    /// The read of one item in a transactional read.
    fn get(&self, keys: (String, String)) -> Result<TransactGetItem, StoreError> {
        let get = built(Get::builder().table_name(&self.table).set_key(Some(key(keys))).build())?;
        Ok(TransactGetItem::builder().get(get).build())
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
        let Some(org_id) = org_id else {
            return Ok((self.load_user(user_id).await?, None));
        };
        let (user, _, policy) = self.load_user_and::<OrgPolicy>(user_id, None, Some(org_id)).await?;
        Ok((user, policy))
    }

    /// The user's record alone: its two items by one `Query`, made again (three times at
    /// most) when it fell between the items of a transaction.
    async fn load_user(&self, user_id: &str) -> Result<UserMfaRecord, StoreError> {
        let (pk, sk) = keys::user(user_id);
        for _ in 0..3 {
            let out = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":from", AttributeValue::S(sk.clone()))
                .expression_attribute_values(":to", AttributeValue::S(LOGIN_STATE_SORT_KEY.into()))
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            let (mut settings, mut login) = (None, None);
            for item in out.items.unwrap_or_default() {
                match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
                    Some(LOGIN_STATE_SORT_KEY) => login = Some(item),
                    _ => settings = Some(item),
                }
            }
            if let Some(record) = record_from(user_id, settings, login)? {
                return Ok(record);
            }
        }
        Err(torn())
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
    /// one-time item a request presents), with the policy of `org_id` when one is named: one
    /// transactional read, which never falls between a transaction's items.
    async fn load_user_and<T: DeserializeOwned>(
        &self,
        user_id: &str,
        other: Option<(String, String)>,
        org_id: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<T>, Option<OrgPolicy>), StoreError> {
        let mut request = self
            .client()
            .transact_get_items()
            .transact_items(self.get(keys::user(user_id))?)
            .transact_items(self.get(keys::login(user_id))?);
        if let Some(other) = other.clone() {
            request = request.transact_items(self.get(other)?);
        }
        if let Some(org_id) = org_id {
            request = request.transact_items(self.get(keys::policy(org_id))?);
        }
        let out = request.send().await.map_err(classify)?;
        let mut responses = out.responses.unwrap_or_default().into_iter().map(|r| r.item);
        let (settings, login) = (responses.next().flatten(), responses.next().flatten());
        let user = record_from(user_id, settings, login)?.ok_or_else(torn)?;
        let other = match other {
            Some(_) => responses.next().flatten().map(from_item::<T>).transpose()?,
            None => None,
        };
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
        let (user, other, policy) = self.load_user_and(user_id, Some(other), named).await?;
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
        let mut request = self.client().transact_get_items();
        for id in [user_id, actor_id] {
            request = request.transact_items(self.get(keys::user(id))?).transact_items(self.get(keys::login(id))?);
        }
        let out = request.send().await.map_err(classify)?;
        let mut responses = out.responses.unwrap_or_default().into_iter().map(|r| r.item);
        let mut next = |id: &str| {
            let (settings, login) = (responses.next().flatten(), responses.next().flatten());
            record_from(id, settings, login)?.ok_or_else(torn)
        };
        let user = next(user_id)?;
        Ok((user, next(actor_id)?))
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
        self.save_user_with_events(record, Vec::new(), &[], &[]).await
    }

    /// Writes the record (conditional on its version) and `extra` in one write: `Conflict`
    /// when the record changed meanwhile, `Spent` when one of `extra`'s conditions failed
    /// (its place among `extra`). The change's audit `events` ride in the same write, in
    /// the login state (`PENDING_EVENTS`): a change and its events are stored together or
    /// not at all, and the audit writer stores each event as an item of its own from the
    /// table's stream, which keeps every version of the login state in order. Its `notices`
    /// ride beside them (`PENDING_NOTICES`), for the audit writer to mail.
    ///
    /// A record whose settings are as they were read writes its login state alone; one
    /// whose settings changed (or that was stored in one item, or not at all) writes both
    /// items, tagged alike. Only the login state carries the version: every write of the
    /// record writes it, so its condition orders them all.
    #[tracing::instrument(skip_all, fields(user_id = %record.user_id), err(Display))]
    pub async fn save_user_with_events(
        &self,
        record: &mut UserMfaRecord,
        extra: Vec<Write>,
        events: &[Event],
        notices: &[crate::notify::Outgoing],
    ) -> Result<(), StoreError> {
        let expected = record.version;
        record.version = expected + 1;
        let result = self.write_record(record, expected, extra, events, notices).await;
        match result {
            Ok(stored) => {
                record.stored = stored;
                Ok(())
            }
            Err(e) => {
                record.version = expected;
                Err(e)
            }
        }
    }

    async fn write_record(
        &self,
        record: &UserMfaRecord,
        expected: u64,
        extra: Vec<Write>,
        events: &[Event],
        notices: &[crate::notify::Outgoing],
    ) -> Result<StoredAs, StoreError> {
        let (mut login, mut settings) = split(record)?;
        if !events.is_empty() {
            let events = events.iter().map(|e| Ok(AttributeValue::M(event_item(e)?))).collect::<Result<_, _>>()?;
            login.insert(PENDING_EVENTS.into(), AttributeValue::L(events));
        }
        if !notices.is_empty() {
            let notices =
                serde_dynamo::to_attribute_value(notices).map_err(|e| StoreError::Malformed(e.to_string()))?;
            login.insert(PENDING_NOTICES.into(), notices);
        }
        let settings_digest = digest(&settings);
        let versioned = |login: Item, condition: &str| -> Result<Put, StoreError> {
            let mut item = login;
            let (pk, sk) = keys::login(&record.user_id);
            item.insert("pk".into(), AttributeValue::S(pk));
            item.insert("sk".into(), AttributeValue::S(sk));
            built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(condition)
                    .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
                    .build(),
            )
        };
        let stored = &record.stored;
        if stored.split && stored.settings_digest.as_deref() == Some(settings_digest.as_str()) {
            // The settings are as read: the login state alone.
            if let Some(pair) = &stored.pair {
                login.insert(PAIR.into(), AttributeValue::S(pair.clone()));
            }
            let put = versioned(login, "version = :expected")?;
            if extra.is_empty() {
                let (item, condition, values) = (put.item, put.condition_expression, put.expression_attribute_values);
                self.client()
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .set_condition_expression(condition)
                    .set_expression_attribute_values(values)
                    .send()
                    .await
                    .map_err(classify)?;
            } else {
                let mut items = vec![TransactWriteItem::builder().put(put).build()];
                items.extend(extra);
                self.run(items, 1).await?;
            }
            return Ok(StoredAs { split: true, pair: stored.pair.clone(), settings_digest: Some(settings_digest) });
        }
        // Both items, in one transaction, with a new tag. The login state's condition
        // orders this write with every other; a record read from one item (written before
        // the split) is also conditional on that item's version.
        let pair = crate::crypto::random_id();
        login.insert(PAIR.into(), AttributeValue::S(pair.clone()));
        let put_login = versioned(login, "attribute_not_exists(pk) OR version = :expected")?;
        settings.insert(PAIR.into(), AttributeValue::S(pair.clone()));
        let (pk, sk) = keys::user(&record.user_id);
        settings.insert("pk".into(), AttributeValue::S(pk));
        settings.insert("sk".into(), AttributeValue::S(sk));
        let mut put_settings = Put::builder().table_name(&self.table).set_item(Some(settings));
        if !stored.split {
            put_settings = put_settings
                .condition_expression("attribute_not_exists(pk) OR version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()));
        }
        let mut items = vec![
            TransactWriteItem::builder().put(put_login).build(),
            TransactWriteItem::builder().put(built(put_settings.build())?).build(),
        ];
        items.extend(extra);
        self.run(items, 2).await?;
        Ok(StoredAs { split: true, pair: Some(pair), settings_digest: Some(settings_digest) })
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
        self.run(items, 1).await
    }

    // Audit events ------------------------------------------------------------------------

    /// The write that stores an audit event (in the transaction of the change it records).
    pub fn put_event(&self, event: &Event) -> Result<Write, StoreError> {
        self.put_new(event, (keys::user(&event.user_id).0, audit::sort_key(event.at, &event.event_id)))
    }

    /// Stores audit events the login state carried (`PENDING_EVENTS`), each as it was
    /// carried (keys included): a plain put, so an event delivered twice is stored once.
    /// `BatchWriteItem`, 25 at a time; what DynamoDB leaves unprocessed is sent again, with
    /// a pause, and still unprocessed after a few tries is an error (the stream delivers
    /// the batch again).
    pub async fn put_event_items(&self, items: Vec<Item>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in items.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|item| {
                    let put = built(PutRequest::builder().set_item(Some(item.clone())).build())?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for attempt in 0..5 {
                let out = self
                    .client()
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(classify)?;
                requests = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt == 4 {
                    return Err(StoreError::Unavailable(format!("{} audit events left unprocessed", requests.len())));
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
        Ok(())
    }

    /// One page of a user's events, newest first, after the event whose sort key is
    /// `after` (from the start when `None`). From the start, the one Query also returns
    /// the user's record (its two items sort just before the events); a later page reads
    /// the record beside it (at the same time). The next page's key comes back when there
    /// may be more.
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
            .limit((limit + if after.is_none() { 2 } else { 0 }) as i32);
        if after.is_some() {
            query = query.set_exclusive_start_key(Some(key((pk.clone(), from))));
        }
        let (out, loaded) = match after {
            None => (query.send().await.map_err(classify)?, None),
            Some(_) => {
                let (out, record) =
                    tokio::try_join!(async { query.send().await.map_err(classify) }, self.load_user(user_id))?;
                (out, Some(record))
            }
        };
        let (mut settings, mut login) = (None, None);
        let mut events = Vec::new();
        for item in out.items.unwrap_or_default() {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk == record_sk {
                settings = Some(item);
            } else if sk == LOGIN_STATE_SORT_KEY {
                login = Some(item);
            } else {
                events.push((sk, from_item::<Event>(item)?));
            }
        }
        let stored = events.len();
        // The events of the record's latest write, which the audit writer may not have
        // stored yet: the first page shows them in their place (the newest).
        if let Some(AttributeValue::L(pending)) = login.as_ref().and_then(|l| l.get(PENDING_EVENTS)) {
            for item in pending {
                let AttributeValue::M(item) = item else { continue };
                let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                if !events.iter().any(|(s, _)| *s == sk) {
                    events.push((sk, from_item::<Event>(item.clone())?));
                }
            }
            events.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let more = events.len() > limit || (out.last_evaluated_key.is_some() && stored >= limit);
        events.truncate(limit);
        let next = if more { events.last().map(|(sk, _)| sk.clone()) } else { None };
        let record = match loaded {
            Some(record) => record,
            None => match record_from(user_id, settings, login)? {
                Some(record) => record,
                // The page fell between a transaction's items: the record read again.
                None => self.load_user(user_id).await?,
            },
        };
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

    /// Rotates session `session_id`'s chain from `generation` (whose secret hashes to
    /// `presented`) to the next generation, whose secret hashes to `next`: one conditional
    /// update of the user's login state, so each token rotates once, bumping its version so
    /// a write racing it reads the chain again. `Conflict` when the chain had moved on (a
    /// concurrent refresh spent the token first) or the session is gone; a transaction that
    /// holds the item for a moment is waited out (three tries), never taken for a spent token,
    /// and an attempt that landed though its answer was lost (sent again by the SDK) is this
    /// rotation, not a spent token.
    ///
    /// While a change that takes access away holds the record (`removalHold`, until after
    /// `now`), it does not rotate and answers `false`: rotations move the version, so a
    /// storm of them (an attacker refreshing the sessions of a stolen device) would keep the
    /// removal from landing, as racing logins would without the hold.
    pub async fn rotate_refresh(
        &self,
        user_id: &str,
        session_id: &str,
        generation: u64,
        presented: &str,
        next: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        for attempt in 1..=3 {
            let result = self
                .client()
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::login(user_id))))
                .update_expression(
                    "SET #s.#id.#g = :next, #s.#id.#h = :new, version = version + :one REMOVE #pending, #notices",
                )
                .expression_attribute_names("#pending", PENDING_EVENTS)
                .expression_attribute_names("#notices", PENDING_NOTICES)
                .condition_expression(
                    "#s.#id.#g = :g AND #s.#id.#h = :h AND (attribute_not_exists(#hold) OR #hold.#until < :now)",
                )
                .expression_attribute_names("#hold", HOLD_ATTRIBUTE)
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .expression_attribute_names("#s", SESSIONS_ATTRIBUTE)
                .expression_attribute_names("#id", session_id)
                .expression_attribute_names("#g", "generation")
                .expression_attribute_names("#h", "hash")
                .expression_attribute_values(":g", AttributeValue::N(generation.to_string()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":h", AttributeValue::S(presented.to_string()))
                .expression_attribute_values(":next", AttributeValue::N((generation + 1).to_string()))
                .expression_attribute_values(":new", AttributeValue::S(next.to_string()))
                .send()
                .await;
            let Err(err) = result else { return Ok(true) };
            match err.as_service_error().and_then(|e| e.code()) {
                // Held, with the chain where the token says: not now. Otherwise the chain
                // moved on, or the session is gone: the token was spent.
                Some("ConditionalCheckFailedException") => {
                    let old = match err.as_service_error() {
                        Some(
                            aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                                e,
                            ),
                        ) => e.item().cloned(),
                        _ => None,
                    };
                    let chain_at = |at: u64, hash: &str| {
                        old.as_ref().is_some_and(|item| {
                            let entry = item
                                .get(SESSIONS_ATTRIBUTE)
                                .and_then(|s| s.as_m().ok())
                                .and_then(|s| s.get(session_id));
                            let entry = entry.and_then(|e| e.as_m().ok());
                            let field = |name: &str| entry.and_then(|e| e.get(name)).cloned();
                            field("generation") == Some(AttributeValue::N(at.to_string()))
                                && field("hash") == Some(AttributeValue::S(hash.to_string()))
                        })
                    };
                    // This very rotation landed already: an attempt whose answer was lost
                    // (timed out after DynamoDB applied it) and that the SDK sent again. Only
                    // this request knows `next`'s secret, so no other refresh leaves it there.
                    if chain_at(generation + 1, next) {
                        return Ok(true);
                    }
                    let chain_is_current = chain_at(generation, presented);
                    let held =
                        old.as_ref().and_then(|item| item.get(HOLD_ATTRIBUTE)).and_then(|h| h.as_m().ok()).and_then(
                            |h| h.get("until").and_then(|u| u.as_n().ok()).and_then(|u| u.parse::<i64>().ok()),
                        );
                    if chain_is_current && held.is_some_and(|until| until >= now) {
                        return Ok(false);
                    }
                    return Err(StoreError::Conflict);
                }
                // A transaction of the record (a login, a change) holds the item right now:
                // that says nothing of the token; try again.
                Some("TransactionConflictException") if attempt < 3 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Some("TransactionConflictException") => {
                    return Err(StoreError::Unavailable("the record stayed held by transactions".into()));
                }
                _ => return Err(classify(err)),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Holds the user's record for a change that takes access away (`hold.by`) until
    /// `hold.until`: every other change is refused until then (`update::run`), and the
    /// version bump sends the writes racing now back to read it. Not conditional on the
    /// version, so it lands however many logins race it; only on the record holding no
    /// other change's hold that lasts past `now` (`Conflict` then: that change goes first).
    /// The change's own write clears it.
    pub async fn hold_for_removal(
        &self,
        user_id: &str,
        hold: &crate::model::RemovalHold,
        now: i64,
    ) -> Result<(), StoreError> {
        let value = AttributeValue::M(std::collections::HashMap::from([
            ("until".to_string(), AttributeValue::N(hold.until.to_string())),
            ("by".to_string(), AttributeValue::S(hold.by.clone())),
        ]));
        self.client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::login(user_id))))
            .update_expression("SET #hold = :hold, version = version + :one REMOVE #pending, #notices")
            .expression_attribute_names("#pending", PENDING_EVENTS)
            .expression_attribute_names("#notices", PENDING_NOTICES)
            .condition_expression(
                "attribute_exists(version) AND (attribute_not_exists(#hold) OR #hold.#until < :now OR #hold.#by = :by)",
            )
            .expression_attribute_names("#hold", HOLD_ATTRIBUTE)
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#by", "by")
            .expression_attribute_values(":hold", value)
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":by", AttributeValue::S(hold.by.clone()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// Lets go of the hold `by` set ([`Store::hold_for_removal`]) when its change did not
    /// land; a hold of another change stays. Like every write of the login state it carries
    /// no earlier write's events or notices (the audit writer would take them again), and
    /// it moves the version, so a write that read the record held (a read's settling) reads
    /// it again rather than put the hold back.
    pub async fn release_hold(&self, user_id: &str, by: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::login(user_id))))
            .update_expression("REMOVE #hold, #pending, #notices SET version = version + :one")
            .condition_expression("#hold.#by = :by")
            .expression_attribute_names("#hold", HOLD_ATTRIBUTE)
            .expression_attribute_names("#by", "by")
            .expression_attribute_names("#pending", PENDING_EVENTS)
            .expression_attribute_names("#notices", PENDING_NOTICES)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":by", AttributeValue::S(by.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(classify);
        match result {
            // Already gone: dropped by a later write, or never landed.
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }

    /// Takes session `session_id` off the user's record, bumping its version so a
    /// concurrent update of the record reads it again (already gone is fine), and forgets
    /// `device_id` with it: one update of the login state. The one write of the record
    /// outside `update`: it changes nothing but the session and device lists, so a refused
    /// refresh needs no read of the record.
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
                .set_key(Some(key(keys::login(user_id))))
                .update_expression(match device_id {
                    Some(_) => {
                        "REMOVE #sessions.#id, #devices.#device, #pending, #notices SET version = version + :one"
                    }
                    None => "REMOVE #sessions.#id, #pending, #notices SET version = version + :one",
                })
                .condition_expression("attribute_exists(#sessions.#id)")
                .expression_attribute_names("#sessions", SESSIONS_ATTRIBUTE)
                .expression_attribute_names("#id", session_id)
                .expression_attribute_names("#pending", PENDING_EVENTS)
                .expression_attribute_names("#notices", PENDING_NOTICES)
                .expression_attribute_values(":one", AttributeValue::N("1".into()));
            if let Some(device) = device_id {
                update = update
                    .expression_attribute_names("#devices", DEVICES_ATTRIBUTE)
                    .expression_attribute_names("#device", device);
            }
            let Err(err) = update.send().await else { return Ok(()) };
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
        self.run(items, 0).await
    }

    /// The first `versioned` items are the record's (or a policy's): a failed condition on
    /// one of them is a `Conflict` (run the step again), on any other a `Spent`, with its
    /// place among the items after them.
    async fn run(&self, items: Vec<Write>, versioned: usize) -> Result<(), StoreError> {
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
            if versioned > 0 {
                // A stale record, or another transaction on the same items right now: run again.
                if failed.iter().take(versioned).any(|f| *f) || conflict {
                    return Err(StoreError::Conflict);
                }
            }
            if let Some(at) = failed.iter().position(|f| *f) {
                let old = reasons.get(at).and_then(|r| r.item().cloned());
                return Err(StoreError::Spent(Cancelled { at: at - versioned, old }));
            }
            if conflict {
                return Err(StoreError::Conflict);
            }
        }
        Err(classify(err))
    }
}
