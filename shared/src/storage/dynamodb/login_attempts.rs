//! Login-attempt counters: `LOGIN#<keyed hash>` items, counted with an atomic `ADD` and deleted by the table's TTL.

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::errors::{condition_failed, sdk_error};
use super::items::{
    ATTEMPTS, EXPIRES_AT, LAST_ATTEMPT_AT, attempt_item, attempt_key, number_value, read_attempts,
    string_value,
};
use super::{DynamoDb, StoreError, bounded, malformed};
use crate::login_attempts::{AttemptKey, Attempts, Expiry, LoginAttempts};
use crate::users::format_timestamp;

/// Tries of a count whose expired counter another attempt replaces at the same moment.
const RESERVE_TRIES: u32 = 3;

/// One atomic `ADD` on a live counter, answering the whole old item (`ALL_OLD`: `UPDATED_OLD` leaves out attributes
/// whose value did not change); a counter past its expiry (which TTL deletes only
/// eventually) is replaced by a fresh count of one instead, conditioned so that two attempts cannot both do it.
async fn reserve(
    users: &DynamoDb,
    key: &AttemptKey,
    now: DateTime<Utc>,
    expiry: Expiry,
) -> Result<Attempts, StoreError> {
    const DOING: &str = "counting a login attempt";
    let fresh_expires = expiry.expires_at(now, now).timestamp();
    // A fixed window keeps the expiry its first attempt set.
    let set_expiry = match expiry {
        Expiry::AfterLast(_) => "#expires = :expires",
        Expiry::AfterFirst(_) => "#expires = if_not_exists(#expires, :expires)",
    };
    for _ in 0..RESERVE_TRIES {
        let counted = users
            .client
            .update_item()
            .table_name(&users.table)
            .set_key(Some(attempt_key(key)))
            .update_expression(format!("ADD #attempts :one SET #last = :now, {set_expiry}"))
            .condition_expression("attribute_not_exists(pk) OR #expires > :now_epoch")
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_names("#last", LAST_ATTEMPT_AT)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", number_value(1))
            .expression_attribute_values(":now", string_value(format_timestamp(&now)))
            .expression_attribute_values(":expires", number_value(fresh_expires))
            .expression_attribute_values(":now_epoch", number_value(now.timestamp()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match counted {
            Ok(output) => {
                return read_attempts(&output.attributes.unwrap_or_default()).map_err(malformed);
            }
            Err(error) if condition_failed(&error) => {}
            Err(error) => return Err(sdk_error(error, DOING)),
        }
        let replaced = users
            .client
            .put_item()
            .table_name(&users.table)
            .set_item(Some(attempt_item(key, 1, now, fresh_expires)))
            .condition_expression("attribute_not_exists(pk) OR #expires <= :now_epoch")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":now_epoch", number_value(now.timestamp()))
            .send()
            .await;
        match replaced {
            Ok(_) => return Ok(Attempts::default()),
            // Another attempt made a fresh counter first: count on it.
            Err(error) if condition_failed(&error) => {}
            Err(error) => return Err(sdk_error(error, DOING)),
        }
    }
    Err(StoreError::Unavailable(anyhow!(
        "{DOING}: the counter kept changing over {RESERVE_TRIES} tries"
    )))
}

/// One atomic `ADD` of minus one, only while the counter is above zero; a missing counter stays missing.
async fn release(users: &DynamoDb, key: &AttemptKey) -> Result<(), StoreError> {
    let released = users
        .client
        .update_item()
        .table_name(&users.table)
        .set_key(Some(attempt_key(key)))
        .update_expression("ADD #attempts :minus_one")
        .condition_expression("#attempts > :zero")
        .expression_attribute_names("#attempts", ATTEMPTS)
        .expression_attribute_values(":minus_one", number_value(-1))
        .expression_attribute_values(":zero", number_value(0))
        .send()
        .await;
    match released {
        Ok(_) => Ok(()),
        Err(error) if condition_failed(&error) => Ok(()),
        Err(error) => Err(sdk_error(error, "releasing a login attempt")),
    }
}

/// Forgets the attempts under `key`.
async fn clear(users: &DynamoDb, key: &AttemptKey) -> Result<(), StoreError> {
    users
        .client
        .delete_item()
        .table_name(&users.table)
        .set_key(Some(attempt_key(key)))
        .send()
        .await
        .map(drop)
        .map_err(|e| sdk_error(e, "clearing login attempts"))
}

#[async_trait]
impl LoginAttempts for DynamoDb {
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, StoreError> {
        bounded(reserve(self, key, now, expiry)).await
    }

    async fn release(&self, key: &AttemptKey) -> Result<(), StoreError> {
        bounded(release(self, key)).await
    }

    async fn clear(&self, key: &AttemptKey) -> Result<(), StoreError> {
        bounded(clear(self, key)).await
    }
}
