//! Write transactions: all-or-nothing groups of puts and deletes, retried while contended.

use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use uuid::Uuid;

use super::DynamoDb;
use super::errors::{Cancelled, cancelled, sdk_error};
use super::items::{Item, string_value};
use crate::storage::StoreError;

/// Tries of a transaction that another transaction on the same items keeps cancelling.
const TRANSACTION_ATTEMPTS: u32 = 4;
const CONTENTION_BACKOFF: Duration = Duration::from_millis(25);

/// How a write transaction ended, short of an error.
pub(super) enum Outcome {
    Written,
    /// These items (by index) failed their conditions; nothing was written.
    ConditionsFailed(Vec<usize>),
}

impl DynamoDb {
    /// Runs a write transaction, trying again with jittered back-off while other transactions on the same items
    /// cancel it.
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        doing: &str,
    ) -> Result<Outcome, StoreError> {
        let mut backoff = CONTENTION_BACKOFF;
        for attempt in 1..=TRANSACTION_ATTEMPTS {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let error = match sent {
                Ok(_) => return Ok(Outcome::Written),
                Err(error) => error,
            };
            let reasons = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    cancelled(e.cancellation_reasons())?
                }
                _ => return Err(sdk_error(error, doing)),
            };
            match reasons {
                Cancelled::ConditionsFailed(failed) => {
                    return Ok(Outcome::ConditionsFailed(failed));
                }
                Cancelled::Contended if attempt < TRANSACTION_ATTEMPTS => {
                    let half = backoff.as_millis() as u64 / 2;
                    let jitter = Duration::from_millis(rand::random_range(0..=half));
                    tokio::time::sleep(backoff / 2 + jitter).await;
                    backoff *= 2;
                }
                Cancelled::Contended => {}
            }
        }
        Err(StoreError::Unavailable(anyhow!(
            "{doing}: still contended after {TRANSACTION_ATTEMPTS} attempts"
        )))
    }

    /// A put that only happens if no item has this key yet.
    pub(super) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Internal(e.into()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A delete that only happens if the item is held by `holder` (or, for the user item itself, exists).
    pub(super) fn delete_held(
        &self,
        key: Item,
        holder: Option<Uuid>,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key));
        let delete = match holder {
            Some(id) => delete
                .condition_expression("user_id = :id")
                .expression_attribute_values(":id", string_value(id.to_string())),
            None => delete.condition_expression("attribute_exists(pk)"),
        };
        let delete = delete.build().map_err(|e| StoreError::Internal(e.into()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}
