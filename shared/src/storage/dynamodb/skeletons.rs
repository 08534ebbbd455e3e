//! Skeletons for users stored before the table kept them: `upgrade` (`vimcar-admin db upgrade`) fills them in.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::errors::sdk_error;
use super::items::{
    CREATED_AT, EMAIL, ID, Item, PK, SKELETON, USER_PREFIX, USERNAME, read_user, skeleton_item,
    string_value, user_key,
};
use super::transactions::Outcome;
use super::{DynamoDb, malformed};
use crate::storage::StoreError;
use crate::users::{SkeletonOf, User, Username};

/// Gives every user item without a skeleton its `SKELETON#` item and attribute, oldest user first, one transaction
/// each. A user whose skeleton another holds (look-alikes registered before skeletons existed) is left as it is,
/// with a warning: the older keeps the name's look, neither account changes. Running it again changes nothing.
///
/// This is the one Scan in the backend: it reads the whole table once, and only the admin command runs it.
pub(super) async fn fill_in(users: &DynamoDb, skeleton_of: SkeletonOf) -> Result<(), StoreError> {
    let mut missing = without_skeleton(users).await?;
    // UUIDv7 ids sort by registration time.
    missing.sort_by_key(|user| user.id);
    for user in missing {
        let skeleton = skeleton_of(&Username::renormalised(user.username.as_str().to_owned()));
        let items = vec![
            users.put_new(skeleton_item(&skeleton, user.id))?,
            set_skeleton(users, &user, skeleton.as_str())?,
        ];
        match users.transact(items, "filling in a skeleton").await? {
            Outcome::Written => {}
            Outcome::ConditionsFailed(failed) if failed == [0] => tracing::warn!(
                user_id = %user.id,
                "username looks like an older user's; left without a skeleton"
            ),
            // Deleted or filled in by another upgrade since the Scan.
            Outcome::ConditionsFailed(_) => {}
        }
    }
    Ok(())
}

/// The user items that carry no skeleton.
async fn without_skeleton(users: &DynamoDb) -> Result<Vec<User>, StoreError> {
    let mut found = Vec::new();
    let mut start_key: Option<Item> = None;
    loop {
        let output = users
            .client
            .scan()
            .table_name(&users.table)
            .filter_expression("begins_with(#pk, :user) AND attribute_not_exists(#skeleton)")
            .projection_expression("#pk, #id, #username, #email, #created_at")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#skeleton", SKELETON)
            .expression_attribute_names("#id", ID)
            .expression_attribute_names("#username", USERNAME)
            .expression_attribute_names("#email", EMAIL)
            .expression_attribute_names("#created_at", CREATED_AT)
            .expression_attribute_values(":user", string_value(USER_PREFIX))
            .consistent_read(true)
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(|e| sdk_error(e, "finding users without a skeleton"))?;
        for item in output.items() {
            found.push(read_user(item).map_err(malformed)?);
        }
        start_key = output.last_evaluated_key;
        if start_key.is_none() {
            return Ok(found);
        }
    }
}

/// Records on the user item the skeleton it now holds, if the user still exists and holds none yet.
fn set_skeleton(
    users: &DynamoDb,
    user: &User,
    skeleton: &str,
) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(&users.table)
        .set_key(Some(user_key(user.id)))
        .update_expression("SET #skeleton = :skeleton")
        .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#skeleton)")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#skeleton", SKELETON)
        .expression_attribute_values(":skeleton", string_value(skeleton))
        .build()
        .map_err(|e| StoreError::Internal(e.into()))?;
    Ok(TransactWriteItem::builder().update(update).build())
}
