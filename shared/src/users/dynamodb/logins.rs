//! Failed-login records: `LOGIN#<account>` items, counted with an atomic `ADD` and deleted by the table's TTL.

use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::errors::sdk_error;
use super::items::{
    EXPIRES_AT, FAILURES, LAST_FAILURE_AT, login_item, login_key, n, read_login_failures, s,
};
use super::{DynamoUsers, malformed};
use crate::users::{
    LOGIN_FAILURES_EXPIRE_AFTER, LoginAccount, LoginFailures, RepoError, format_timestamp,
};

/// The live failures of `account` at `now`.
pub(super) async fn read(
    users: &DynamoUsers,
    account: &LoginAccount,
    now: DateTime<Utc>,
) -> Result<LoginFailures, RepoError> {
    match users
        .get_item(login_key(account), "reading failed logins")
        .await?
    {
        None => Ok(LoginFailures::default()),
        Some(item) => read_login_failures(&item, now).map_err(malformed),
    }
}

/// One atomic `ADD` while the record is live; a record past its expiry (which TTL deletes only eventually) is
/// replaced by a fresh count of one instead.
pub(super) async fn record_failure(
    users: &DynamoUsers,
    account: &LoginAccount,
    now: DateTime<Utc>,
) -> Result<LoginFailures, RepoError> {
    let expires = (now + LOGIN_FAILURES_EXPIRE_AFTER).timestamp();
    let counted = users
        .client
        .update_item()
        .table_name(&users.table)
        .set_key(Some(login_key(account)))
        .update_expression("ADD #failures :one SET #last = :now, #expires = :expires")
        .condition_expression("attribute_not_exists(pk) OR #expires > :now_epoch")
        .expression_attribute_names("#failures", FAILURES)
        .expression_attribute_names("#last", LAST_FAILURE_AT)
        .expression_attribute_names("#expires", EXPIRES_AT)
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":now", s(format_timestamp(&now)))
        .expression_attribute_values(":expires", n(expires))
        .expression_attribute_values(":now_epoch", n(now.timestamp()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    let item = match counted {
        Ok(output) => output.attributes.unwrap_or_default(),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            let item = login_item(account, 1, now, expires);
            users
                .client
                .put_item()
                .table_name(&users.table)
                .set_item(Some(item.clone()))
                .send()
                .await
                .map_err(|e| sdk_error(e, "recording a failed login"))?;
            item
        }
        Err(error) => return Err(sdk_error(error, "recording a failed login")),
    };
    read_login_failures(&item, now).map_err(malformed)
}

/// Forgets the failures of `account`.
pub(super) async fn clear(users: &DynamoUsers, account: &LoginAccount) -> Result<(), RepoError> {
    users
        .client
        .delete_item()
        .table_name(&users.table)
        .set_key(Some(login_key(account)))
        .send()
        .await
        .map(drop)
        .map_err(|e| sdk_error(e, "clearing failed logins"))
}
