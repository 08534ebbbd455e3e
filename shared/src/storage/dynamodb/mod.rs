//! The DynamoDB backend: one table, with transactions keeping usernames, their skeletons and emails unique.
//!
//! See [`table_design`] for the items and keys. Every call is bounded in time: a slow, throttled or unreachable
//! DynamoDB gives [`StoreError::Unavailable`] within [`CALL_BUDGET`], never a hang.

mod client;
mod errors;
mod imports;
pub mod items;
mod login_attempts;
mod sessions;
mod skeletons;
mod table;
mod transactions;
mod users;

use std::future::Future;
use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

pub use self::client::{http_client, sdk_config};
use self::errors::sdk_error;
pub use self::items::{Item, user_items};
pub use self::table::{LISTING_INDEX, TableDesign, table_design};

use super::StoreError;

/// The most items one BatchWriteItem takes (DynamoDB's limit).
pub const BATCH_WRITE_ITEMS: usize = 25;
/// The longest any repository call may take, retries included (each request is capped at 5 s; a call may make a
/// few).
pub const CALL_BUDGET: Duration = Duration::from_secs(6);
/// Tries of a delete whose items change between reading and deleting them.
const DELETE_ATTEMPTS: u32 = 3;

/// Users in one DynamoDB table. Cheap to clone: clones share the SDK client and its connection pool.
#[derive(Clone, Debug)]
pub struct DynamoDb {
    client: Client,
    table: String,
}

impl DynamoDb {
    /// Builds the SDK client for `table`, once per process. `endpoint` points at a local DynamoDB-compatible server;
    /// `None` is real DynamoDB in the configured region. The table itself is made by `upgrade` (see [`crate::users::UserStore`]).
    pub async fn connect(table: impl Into<String>, endpoint: Option<&str>) -> anyhow::Result<Self> {
        Ok(Self {
            client: client::build(endpoint).await?,
            table: table.into(),
        })
    }

    /// The table this repository reads and writes.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The SDK client, with the timeouts and retries this repository runs under, for work beside it on the same
    /// table: the benchmarks seed it with BatchWriteItem, which no repository operation needs.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Writes up to [`BATCH_WRITE_ITEMS`] items with one BatchWriteItem, resending whatever DynamoDB leaves
    /// unprocessed: unconditional puts, for seeding a table (the benchmarks), never for users the API registers.
    pub async fn put_batch(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Internal(anyhow!(e)))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        while !requests.is_empty() {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| sdk_error(e, "writing a batch"))?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
        }
        Ok(())
    }

    async fn get_item(&self, key: Item, doing: &str) -> Result<Option<Item>, StoreError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(e, doing))?
            .item)
    }
}

/// Caps a repository call at [`CALL_BUDGET`], whatever its requests and retries add up to.
async fn bounded<T>(call: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    tokio::time::timeout(CALL_BUDGET, call)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(anyhow!(
                "DynamoDB did not answer within {CALL_BUDGET:?}"
            )))
        })
}

fn malformed(error: items::ItemError) -> StoreError {
    StoreError::Internal(anyhow!(error).context("a stored DynamoDB item is malformed"))
}
