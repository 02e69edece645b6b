//! The DynamoDB table layout and every read and write of it (`../DESIGN.md`, Data model).
//! One table with string keys `pk`/`sk` and the TTL attribute `expiresAt`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Get, TransactGetItem};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Principal;
use crate::envelope::ApiError;
use crate::model::{OrgPolicy, UserMfaRecord};

pub const TTL_ATTRIBUTE: &str = "expiresAt";

pub fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

pub fn org_pk(org_id: &str) -> String {
    format!("ORG#{org_id}")
}

pub const USER_SK: &str = "MFA";
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
    /// `org_id` is given), lets `apply` change it and decide the outcome, and writes it
    /// back, conditional on its version, if `apply` changed anything — also when the
    /// outcome is an error (a failed code still counts toward the lockout). When another
    /// request wrote first, the whole step runs again on the fresh record, so a one-time
    /// value checked in `apply` is accepted by at most one of them.
    ///
    /// `owner` is the user acting on their own record: their organization and email are
    /// kept with it.
    pub async fn update_user<T>(
        &self,
        user_id: &str,
        org_id: Option<&str>,
        owner: Option<&Principal>,
        mut apply: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let (mut record, policy) = self.load_user_and_policy(user_id, org_id).await?;
            let before = record.clone();
            let outcome = apply(&mut record, policy.as_ref());
            if record == before {
                return outcome;
            }
            if let Some(p) = owner {
                record.org_id = p.org_id.clone();
                if p.email.is_some() {
                    record.email = p.email.clone();
                }
            }
            match self.save_user(&mut record).await {
                Ok(()) => return outcome,
                Err(StoreError::Conflict) if attempt < ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Writes `record` if nobody changed it since it was read (optimistic locking on
    /// `version`), and bumps its version.
    #[tracing::instrument(skip_all, fields(user_id = %record.user_id), err(Display))]
    pub async fn save_user(&self, record: &mut UserMfaRecord) -> Result<(), StoreError> {
        let expected = record.version;
        record.version = expected + 1;
        let item = to_item(record, user_pk(&record.user_id), USER_SK)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .send()
            .await;
        if let Err(e) = result {
            record.version = expected;
            return Err(classify(e));
        }
        Ok(())
    }

    /// Writes an organization policy, conditional on its version like the user record.
    #[tracing::instrument(skip_all, fields(org_id = %policy.org_id), err(Display))]
    pub async fn save_policy(&self, policy: &mut OrgPolicy) -> Result<(), StoreError> {
        let expected = policy.version;
        policy.version = expected + 1;
        let item = to_item(policy, org_pk(&policy.org_id), POLICY_SK)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .send()
            .await;
        if let Err(e) = result {
            policy.version = expected;
            return Err(classify(e));
        }
        Ok(())
    }
}
