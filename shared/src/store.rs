//! The DynamoDB table layout and every read and write of it (`../DESIGN.md`, Data model).
//! One table with string keys `pk`/`sk` and the TTL attribute `expiresAt`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Get, Put, TransactGetItem, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::envelope::ApiError;
use crate::methods::magic_link::{LinkToken, Purpose};
use crate::methods::passkey::Ceremony;
use crate::model::{OrgPolicy, UserMfaRecord};
use crate::policy::{self, Actor, Change};

pub const TTL_ATTRIBUTE: &str = "expiresAt";

pub fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

pub fn org_pk(org_id: &str) -> String {
    format!("ORG#{org_id}")
}

pub fn token_pk(token_hash: &str) -> String {
    format!("TOKEN#{token_hash}")
}

pub const USER_SK: &str = "MFA";
pub const TOKEN_SK: &str = "TOKEN";

pub fn ceremony_sk(challenge_hash: &str) -> String {
    format!("CEREMONY#{challenge_hash}")
}
pub const POLICY_SK: &str = "POLICY";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: someone else changed the item first.
    #[error("the item changed concurrently")]
    Conflict,
    /// DynamoDB could not be reached or is throttling.
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    #[error("DynamoDB request failed: {0}")]
    Failed(String),
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    /// A one-time item written with the record was already consumed (or never existed).
    #[error("a one-time value was already spent")]
    Spent,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::conflict(
                "CONCURRENT_UPDATE",
                "Your MFA settings changed while this request ran; reload them and try again.",
            ),
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "DynamoDB unavailable");
                ApiError::unavailable("The MFA store is temporarily unavailable; try again in a moment.", 2)
            }
            StoreError::Spent => ApiError::bad_request("ALREADY_USED", "This one-time value was already used."),
            StoreError::Failed(detail) | StoreError::Malformed(detail) => {
                tracing::error!(%detail, "DynamoDB request failed");
                ApiError::internal()
            }
        }
    }
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
                "ConditionalCheckFailedException" => StoreError::Conflict,
                "TransactionCanceledException" if format!("{:?}", se.err()).contains("ConditionalCheckFailed") => {
                    StoreError::Conflict
                }
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

fn to_item<T: Serialize>(value: &T, pk: String, sk: &str) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| StoreError::Malformed(e.to_string()))?;
    item.insert("pk".into(), AttributeValue::S(pk));
    item.insert("sk".into(), AttributeValue::S(sk.to_string()));
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed(e.to_string()))
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), AttributeValue::S(pk)), ("sk".to_string(), AttributeValue::S(sk.to_string()))])
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The user's record and, for a member of an organization, its policy, in one round trip.
    /// A user with no record yet gets a fresh one (version 0).
    #[tracing::instrument(skip(self), err(Display))]
    pub async fn load_user_and_policy(
        &self,
        user_id: &str,
        org_id: Option<&str>,
    ) -> Result<(UserMfaRecord, Option<OrgPolicy>), StoreError> {
        let Some(org_id) = org_id else {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(user_id), USER_SK)))
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            return Ok((self.user_or_new(user_id, out.item)?, None));
        };
        let get = |pk: String, sk: &str| {
            TransactGetItem::builder()
                .get(Get::builder().table_name(&self.table).set_key(Some(key(pk, sk))).build().expect("table and key are set"))
                .build()
        };
        let out = self
            .client
            .transact_get_items()
            .transact_items(get(user_pk(user_id), USER_SK))
            .transact_items(get(org_pk(org_id), POLICY_SK))
            .send()
            .await
            .map_err(classify)?;
        let mut responses = out.responses.unwrap_or_default().into_iter().map(|r| r.item);
        let user = self.user_or_new(user_id, responses.next().flatten())?;
        let policy = responses.next().flatten().map(from_item::<OrgPolicy>).transpose()?;
        Ok((user, policy))
    }

    fn user_or_new(&self, user_id: &str, item: Option<Item>) -> Result<UserMfaRecord, StoreError> {
        match item {
            Some(item) => from_item(item),
            None => Ok(UserMfaRecord::new(user_id)),
        }
    }

    /// Read-modify-write of a user's record: loads it (with the organization policy when
    /// `org_id` is given), asks the policy whether `change` may be made to it, lets `apply`
    /// change it and decide the outcome, and writes it back, conditional on its version,
    /// if `apply` changed anything — also when the outcome is an error (a failed code
    /// still counts toward the lockout). When another request wrote first, the whole step
    /// (the policy check included) runs again on the fresh record, so a one-time value
    /// checked in `apply` is accepted by at most one of them, and the decision is always
    /// taken on the state the write replaces.
    ///
    /// When the user acts themselves, their organization and email are kept with it.
    pub async fn update_user<T>(
        &self,
        user_id: &str,
        org_id: Option<&str>,
        change: &Change<'_>,
        mut apply: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.update_user_with(user_id, org_id, change, |r, p| apply(r, p).map(|t| (t, Vec::new())), ApiError::internal)
            .await
    }

    /// [`Store::update_user`] whose step may also write other items (consume a one-time
    /// value, store a new one) in the same transaction as the record. Each extra write
    /// carries its own condition; when one fails, the value was already spent and the
    /// answer is `spent()`, with nothing written.
    pub async fn update_user_with<T>(
        &self,
        user_id: &str,
        org_id: Option<&str>,
        change: &Change<'_>,
        mut apply: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<TransactWriteItem>), ApiError>,
        spent: impl Fn() -> ApiError,
    ) -> Result<T, ApiError> {
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                // Spread retries of racing requests apart.
                let jitter = crate::crypto::random_bytes::<1>()[0] as u64 % 20;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt as u64 + jitter)).await;
            }
            let (mut record, policy) = self.load_user_and_policy(user_id, org_id).await?;
            policy::check(change, &record)?;
            let before = record.clone();
            let (outcome, extra) = match apply(&mut record, policy.as_ref()) {
                Ok((t, extra)) => (Ok(t), extra),
                Err(e) => (Err(e), Vec::new()),
            };
            if record == before && extra.is_empty() {
                return outcome;
            }
            if let Actor::User(p) = change.actor {
                record.org_id = p.org_id.clone();
                if p.email.is_some() {
                    record.email = p.email.clone();
                }
            }
            let saved = if extra.is_empty() {
                self.save_user(&mut record).await
            } else {
                self.save_user_with(&mut record, extra).await
            };
            match saved {
                Ok(()) => return outcome,
                Err(StoreError::Conflict) if attempt < ATTEMPTS => continue,
                Err(StoreError::Spent) => return Err(spent()),
                Err(e) => return Err(e.into()),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Writes the record (conditional on its version) and `extra` in one transaction.
    async fn save_user_with(&self, record: &mut UserMfaRecord, extra: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let expected = record.version;
        record.version = expected + 1;
        let item = to_item(record, user_pk(&record.user_id), USER_SK)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        // The record first: cancellation reasons come back in this order.
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        items.extend(extra);
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        record.version = expected;
        if let SdkError::ServiceError(se) = &err
            && let TransactWriteItemsError::TransactionCanceledException(tc) = se.err()
        {
            let codes: Vec<&str> = tc.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
            let failed: Vec<bool> = codes.iter().map(|c| *c == "ConditionalCheckFailed").collect();
            // A stale record, or another transaction on the same items right now: run again.
            if failed.first() == Some(&true) || codes.contains(&"TransactionConflict") {
                return Err(StoreError::Conflict);
            }
            if failed.iter().skip(1).any(|f| *f) {
                return Err(StoreError::Spent);
            }
        }
        Err(classify(err))
    }

    /// Removes a token that was never delivered (its mail failed), so nothing usable is
    /// left behind. A token already gone is fine.
    pub async fn delete_token(&self, token_hash: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(token_hash), TOKEN_SK)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// A check, in a transaction, that the user's sessions of `epoch` have not been ended
    /// (by a reset or a method switched off) since.
    pub fn session_live(&self, user_id: &str, epoch: u64) -> Result<TransactWriteItem, StoreError> {
        // Records written before sessions had epochs lack the attribute: that is epoch 0.
        let condition = if epoch == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(sessionEpoch) OR sessionEpoch = :epoch)"
        } else {
            "attribute_exists(pk) AND sessionEpoch = :epoch"
        };
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), USER_SK)))
            .condition_expression(condition)
            .expression_attribute_values(":epoch", AttributeValue::N(epoch.to_string()))
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// A magic-link token by the hash of what was presented.
    pub async fn get_token(&self, token_hash: &str) -> Result<Option<LinkToken>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(token_hash), TOKEN_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// The write that stores a new token (never overwriting one).
    pub fn put_token(&self, token_hash: &str, token: &LinkToken) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(token, token_pk(token_hash), TOKEN_SK)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The write that consumes a token: it succeeds once, only while the token exists,
    /// has `purpose` and has not expired at `now`.
    pub fn consume_token(&self, token_hash: &str, purpose: Purpose, now: i64) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(token_hash), TOKEN_SK)))
            .condition_expression("attribute_exists(pk) AND purpose = :purpose AND expiresAt > :now")
            .expression_attribute_values(":purpose", AttributeValue::S(purpose.as_str().to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Stores a WebAuthn ceremony under the hash of its challenge, on its own.
    pub async fn create_ceremony(&self, challenge_hash: &str, ceremony: &Ceremony) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(ceremony, user_pk(&ceremony.user_id), &ceremony_sk(challenge_hash))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The write that stores a WebAuthn ceremony under the hash of its challenge.
    pub fn put_ceremony(&self, challenge_hash: &str, ceremony: &Ceremony) -> Result<TransactWriteItem, StoreError> {
        self.put_new(ceremony, user_pk(&ceremony.user_id), &ceremony_sk(challenge_hash))
    }

    pub async fn get_ceremony(&self, user_id: &str, challenge_hash: &str) -> Result<Option<Ceremony>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), &ceremony_sk(challenge_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// The write that finishes a ceremony: once, before it expires, for its kind only.
    pub fn consume_ceremony(
        &self,
        user_id: &str,
        challenge_hash: &str,
        kind: crate::methods::passkey::CeremonyKind,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), &ceremony_sk(challenge_hash))))
            .condition_expression("attribute_exists(pk) AND kind = :kind AND expiresAt > :now")
            .expression_attribute_values(":kind", AttributeValue::S(kind.as_str().to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Removes a ceremony that failed verification, so its challenge is spent either way.
    pub async fn delete_ceremony(&self, user_id: &str, challenge_hash: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), &ceremony_sk(challenge_hash))))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Any item by key, consistently read.
    pub async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// Puts an item unconditionally.
    pub async fn put<T: Serialize>(&self, value: &T, pk: String, sk: &str) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(to_item(value, pk, sk)?)).send().await.map_err(classify)?;
        Ok(())
    }

    /// The write that puts a new item (never overwriting one), for a transaction.
    pub fn put_new<T: Serialize>(&self, value: &T, pk: String, sk: &str) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(value, pk, sk)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The write that sets `attribute` to true on an item where it is still false.
    pub fn flip_once(&self, pk: String, sk: &str, attribute: &str) -> Result<TransactWriteItem, StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #a = :true")
            .condition_expression("attribute_exists(pk) AND #a = :false")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A check, in a transaction, that an item does not exist.
    pub fn absent(&self, pk: String, sk: &str) -> Result<TransactWriteItem, StoreError> {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Runs writes as one transaction; `Spent` when any of their conditions fails.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let SdkError::ServiceError(se) = &err
                    && let TransactWriteItemsError::TransactionCanceledException(tc) = se.err()
                {
                    let codes: Vec<&str> = tc.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
                    if codes.contains(&"ConditionalCheckFailed") {
                        return Err(StoreError::Spent);
                    }
                    if codes.contains(&"TransactionConflict") {
                        return Err(StoreError::Conflict);
                    }
                }
                Err(classify(err))
            }
        }
    }

    /// Every token item of a user (tests and tools; a scan).
    pub async fn tokens_of(&self, user_id: &str) -> Result<Vec<LinkToken>, StoreError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("sk = :sk AND userId = :user")
            .expression_attribute_values(":sk", AttributeValue::S(TOKEN_SK.into()))
            .expression_attribute_values(":user", AttributeValue::S(user_id.into()))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            found.push(from_item(item.map_err(classify)?)?);
        }
        Ok(found)
    }

    /// Writes `record` if nobody changed it since it was read (optimistic locking on
    /// `version`), and bumps its version.
    #[tracing::instrument(skip_all, fields(user_id = %record.user_id), err(Display))]
    pub async fn save_user(&self, record: &mut UserMfaRecord) -> Result<(), StoreError> {
        let (pk, expected) = (user_pk(&record.user_id), record.version);
        record.version = expected + 1;
        let result = self.put_versioned(&*record, pk, USER_SK, expected).await;
        if result.is_err() {
            record.version = expected;
        }
        result
    }

    /// Writes an organization policy, conditional on its version like the user record.
    #[tracing::instrument(skip_all, fields(org_id = %policy.org_id), err(Display))]
    pub async fn save_policy(&self, policy: &mut OrgPolicy) -> Result<(), StoreError> {
        let (pk, expected) = (org_pk(&policy.org_id), policy.version);
        policy.version = expected + 1;
        let result = self.put_versioned(&*policy, pk, POLICY_SK, expected).await;
        if result.is_err() {
            policy.version = expected;
        }
        result
    }

    /// Puts an item whose stored `version` must still be `expected` (or which is new).
    async fn put_versioned<T: Serialize>(&self, value: &T, pk: String, sk: &str, expected: u64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(value, pk, sk)?))
            .condition_expression("attribute_not_exists(pk) OR version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
