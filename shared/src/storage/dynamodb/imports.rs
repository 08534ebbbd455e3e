//! [`ImportStore`] on DynamoDB: a registration's four items plus the record of the import, in one transaction.

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use uuid::Uuid;

use super::items::{IS_ADMIN, import_item, import_key, user_items};
use super::transactions::Outcome;
use super::users::taken;
use super::{DynamoDb, StoreError, bounded};
use crate::users::{Account, ImportStore, Imported, PasswordHash, Skeleton};

/// Where the record of the import sits among the transaction's items, after the user's four.
const RECORD: usize = 4;

#[async_trait]
impl ImportStore for DynamoDb {
    async fn import_with_skeleton(
        &self,
        account: &Account,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<Imported, StoreError> {
        bounded(async {
            let user = &account.user;
            let [mut user_item, username, email, skeleton_item] = user_items(user, hash, skeleton);
            if account.is_admin {
                user_item.insert(IS_ADMIN.to_owned(), AttributeValue::Bool(true));
            }
            // The order fixes the cancellation reasons' indexes read below.
            let items = [
                user_item,
                username,
                email,
                skeleton_item,
                import_item(user.id, &Utc::now()),
            ]
            .into_iter()
            .map(|item| self.put_new(item))
            .collect::<Result<Vec<_>, _>>()?;
            match self.transact(items, "importing a user").await? {
                Outcome::Written => Ok(Imported::New),
                Outcome::ConditionsFailed(failed) if failed.contains(&RECORD) => {
                    Ok(Imported::Before)
                }
                Outcome::ConditionsFailed(failed) if failed.contains(&0) => Err(
                    StoreError::Internal(anyhow!("user id {} is already stored", user.id)),
                ),
                Outcome::ConditionsFailed(failed) => Err(StoreError::Conflict(taken(&failed))),
            }
        })
        .await
    }

    async fn imported_before(&self, id: Uuid) -> Result<bool, StoreError> {
        bounded(async {
            Ok(self
                .get_item(import_key(id), "reading the import records")
                .await?
                .is_some())
        })
        .await
    }
}
