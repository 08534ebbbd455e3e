//! [`UserStore`] on DynamoDB: the user item and the reservations of its username, email and skeleton, written and
//! deleted together in transactions (a deletion takes the user's sessions with it).

use anyhow::anyhow;
use async_trait::async_trait;
use uuid::Uuid;

use super::errors::{condition_failed, sdk_error};
use super::items::{
    ID, IS_ADMIN, LISTING, LISTING_ALL, PASSWORD_CHANGE_REQUIRED, PASSWORD_HASH, email_key,
    read_is_admin, read_user, read_user_sessions, read_user_skeleton, read_username, skeleton_key,
    string_value, user_items, user_key, username_key,
};
use super::transactions::Outcome;
use super::{DELETE_ATTEMPTS, DynamoDb, LISTING_INDEX, StoreError, bounded, malformed};
use super::{skeletons, table};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use crate::login_attempts::AttemptKey;
use crate::users::{
    Account, Credentials, Cursor, Page, PageSize, PasswordHash, Skeleton, SkeletonOf, UniqueField,
    User, UserStore, Username,
};

impl DynamoDb {
    /// One UpdateItem of the hash on `username`'s item, and of whether the password must be changed: while the
    /// hash is still `current`, or, without one, whenever the user exists. Answers whether it wrote.
    async fn update_hash(
        &self,
        username: &Username,
        hash: &PasswordHash,
        current: Option<&PasswordHash>,
        change_required: bool,
        doing: &str,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(username_key(username)))
            .expression_attribute_names("#hash", PASSWORD_HASH)
            .expression_attribute_names("#change", PASSWORD_CHANGE_REQUIRED)
            .expression_attribute_values(":hash", string_value(hash.as_str()));
        let update = if change_required {
            update
                .update_expression("SET #hash = :hash, #change = :change")
                .expression_attribute_values(":change", AttributeValue::Bool(true))
        } else {
            update.update_expression("SET #hash = :hash REMOVE #change")
        };
        let update = match current {
            None => update.condition_expression("attribute_exists(pk)"),
            Some(current) => update
                .condition_expression("#hash = :current")
                .expression_attribute_values(":current", string_value(current.as_str())),
        };
        match update.send().await {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(error, doing)),
        }
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.get_item(user_key(id), "reading a user")
            .await?
            .map(|item| read_user(&item).map_err(malformed))
            .transpose()
    }
}

/// The fields another user holds, from the failed conditions of a transaction that put [`user_items`]' four items in
/// their order. A taken skeleton is a taken username: a look-alike of another user's name.
pub(super) fn taken(failed: &[usize]) -> Vec<UniqueField> {
    [
        (1, UniqueField::Username),
        (2, UniqueField::Email),
        (3, UniqueField::Username),
    ]
    .into_iter()
    .filter_map(|(index, field)| failed.contains(&index).then_some(field))
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect()
}

#[async_trait]
impl UserStore for DynamoDb {
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), StoreError> {
        table::create_if_missing(&self.client, &self.table).await?;
        skeletons::fill_in(self, skeleton_of).await
    }

    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), StoreError> {
        bounded(async {
            // The order fixes the cancellation reasons' indexes read below.
            let items = user_items(user, hash, skeleton)
                .into_iter()
                .map(|item| self.put_new(item))
                .collect::<Result<Vec<_>, _>>()?;
            match self.transact(items, "inserting a user").await? {
                Outcome::Written => Ok(()),
                Outcome::ConditionsFailed(failed) if failed.contains(&0) => Err(
                    StoreError::Internal(anyhow!("user id {} is already stored", user.id)),
                ),
                Outcome::ConditionsFailed(failed) => Err(StoreError::Conflict(taken(&failed))),
            }
        })
        .await
    }

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, StoreError> {
        bounded(async {
            self.get_item(username_key(username), "reading credentials")
                .await?
                .map(|item| read_username(&item).map_err(malformed))
                .transpose()
        })
        .await
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        bounded(self.get_user(id)).await
    }

    async fn by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        bounded(async {
            match self
                .get_item(username_key(username), "finding a user")
                .await?
            {
                None => Ok(None),
                Some(item) => {
                    let holder = read_username(&item).map_err(malformed)?.user_id;
                    // None when the user was deleted between the two reads.
                    self.get_user(holder).await
                }
            }
        })
        .await
    }

    /// Reads the sparse listing index, so a page of N users reads about N items. The index is eventually
    /// consistent: a user registered a moment ago may be missing from a listing for a moment, which a listing can
    /// afford (every read that a login or a registration depends on is strongly consistent).
    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, StoreError> {
        bounded(async {
            // One user more than asked tells whether another page follows.
            let wanted = size.get() + 1;
            let mut users = Vec::with_capacity(wanted);
            let mut start_key = None;
            loop {
                let query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(LISTING_INDEX)
                    .expression_attribute_names("#listing", LISTING)
                    .expression_attribute_values(":listing", string_value(LISTING_ALL))
                    .limit(i32::try_from(wanted - users.len()).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start_key);
                let query = match after {
                    None => query.key_condition_expression("#listing = :listing"),
                    Some(cursor) => query
                        .key_condition_expression("#listing = :listing AND #id > :after")
                        .expression_attribute_names("#id", ID)
                        .expression_attribute_values(
                            ":after",
                            string_value(cursor.user_id().to_string()),
                        ),
                };
                let output = query
                    .send()
                    .await
                    .map_err(|e| sdk_error(e, "listing users"))?;
                for item in output.items() {
                    users.push(read_user(item).map_err(malformed)?);
                }
                // A response can stop short of the limit (at 1 MB); the next one resumes where it stopped.
                start_key = output.last_evaluated_key;
                if users.len() >= wanted || start_key.is_none() {
                    break;
                }
            }
            Ok(Page::from_overfetched(users, size))
        })
        .await
    }

    /// The hash lives on the username item alone, so one conditional update changes every copy there is.
    async fn set_password(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        bounded(self.update_hash(username, hash, None, false, "setting a password")).await
    }

    /// Reads who holds the name (and that its hash is still `current`) and that user's session list, then one
    /// transaction: the username item's hash, conditioned on the one proved; a Delete of every session on the list;
    /// and the list emptied, conditioned on its version. A session begun in between makes it read again; a hash
    /// changed in between writes nothing and answers `false`.
    async fn change_password(
        &self,
        username: &Username,
        current: Option<&PasswordHash>,
        new: &PasswordHash,
    ) -> Result<Option<usize>, StoreError> {
        const DOING: &str = "changing a password";
        bounded(async {
            for _ in 0..DELETE_ATTEMPTS {
                let Some(item) = self.get_item(username_key(username), DOING).await? else {
                    return Ok(None);
                };
                let credentials = read_username(&item).map_err(malformed)?;
                if current.is_some_and(|current| credentials.hash.as_ref() != Some(current)) {
                    return Ok(None);
                }
                let Some(sessions) = self.user_sessions(credentials.user_id, DOING).await? else {
                    return Ok(None);
                };
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(username_key(username)))
                    .update_expression("SET #hash = :new REMOVE #change")
                    .expression_attribute_names("#hash", PASSWORD_HASH)
                    .expression_attribute_names("#change", PASSWORD_CHANGE_REQUIRED)
                    .expression_attribute_values(":new", string_value(new.as_str()));
                // With the hash proved, that condition alone (change-password's role writes and names nothing else of
                // the item); an operator's reset keeps to the holder it read.
                let update = match current {
                    Some(current) => update
                        .condition_expression("#hash = :current")
                        .expression_attribute_values(":current", string_value(current.as_str())),
                    None => update
                        .condition_expression("user_id = :holder")
                        .expression_attribute_values(
                            ":holder",
                            string_value(credentials.user_id.to_string()),
                        ),
                };
                let update = update.build().map_err(|e| StoreError::Internal(e.into()))?;
                let mut items = vec![TransactWriteItem::builder().update(update).build()];
                items.extend(self.end_sessions_items(credentials.user_id, &sessions)?);
                match self.transact(items, DOING).await? {
                    Outcome::Written => return Ok(Some(sessions.ids.len())),
                    Outcome::ConditionsFailed(failed) if failed.contains(&0) => return Ok(None),
                    Outcome::ConditionsFailed(_) => continue,
                }
            }
            Err(StoreError::Unavailable(anyhow!(
                "{DOING}: the user's sessions kept changing over {DELETE_ATTEMPTS} tries"
            )))
        })
        .await
    }

    async fn account(&self, id: Uuid) -> Result<Option<Account>, StoreError> {
        bounded(async {
            let Some(item) = self.get_item(user_key(id), "reading an account").await? else {
                return Ok(None);
            };
            Ok(Some(Account {
                user: read_user(&item).map_err(malformed)?,
                is_admin: read_is_admin(&item).map_err(malformed)?,
            }))
        })
        .await
    }

    /// Reads who holds the name, then one conditional UpdateItem of that user's item.
    async fn set_admin(&self, username: &Username, is_admin: bool) -> Result<bool, StoreError> {
        const DOING: &str = "setting the admin flag";
        bounded(async {
            let Some(item) = self.get_item(username_key(username), DOING).await? else {
                return Ok(false);
            };
            let holder = read_username(&item).map_err(malformed)?.user_id;
            let updated = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(user_key(holder)))
                .update_expression("SET #admin = :admin")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#admin", IS_ADMIN)
                .expression_attribute_values(":admin", AttributeValue::Bool(is_admin))
                .send()
                .await;
            match updated {
                Ok(_) => Ok(true),
                Err(error) if condition_failed(&error) => Ok(false),
                Err(error) => Err(sdk_error(error, DOING)),
            }
        })
        .await
    }

    /// A Scan for user items with the flag: an operator's listing, which reads the whole table as `users list` does.
    async fn admins(&self) -> Result<Vec<Uuid>, StoreError> {
        let mut admins = Vec::new();
        let mut start_key = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("#admin = :admin")
                .projection_expression("#id")
                .expression_attribute_names("#admin", IS_ADMIN)
                .expression_attribute_names("#id", ID)
                .expression_attribute_values(":admin", AttributeValue::Bool(true))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| sdk_error(e, "listing administrators"))?;
            for item in output.items() {
                match item.get(ID) {
                    Some(AttributeValue::S(id)) => {
                        admins.push(Uuid::parse_str(id).map_err(|_| {
                            StoreError::Internal(anyhow!(
                                "an administrator's user item has an invalid id"
                            ))
                        })?)
                    }
                    _ => {
                        return Err(StoreError::Internal(anyhow!(
                            "an administrator's user item has no id"
                        )));
                    }
                }
            }
            start_key = output.last_evaluated_key;
            if start_key.is_none() {
                break;
            }
        }
        admins.sort();
        Ok(admins)
    }

    /// Reads which items belong to the user, then deletes them all in one transaction conditioned on what was read:
    /// if anything changed in between, nothing is deleted and the user is read again. The counters under
    /// `attempts` go in the same transaction, unconditionally.
    async fn delete_with(
        &self,
        username: &Username,
        attempts: &[AttemptKey],
    ) -> Result<bool, StoreError> {
        bounded(async {
            for _ in 0..DELETE_ATTEMPTS {
                let Some(item) = self
                    .get_item(username_key(username), "deleting a user")
                    .await?
                else {
                    return Ok(false);
                };
                let holder = read_username(&item).map_err(malformed)?.user_id;
                let Some(user_item) = self.get_item(user_key(holder), "deleting a user").await?
                else {
                    continue;
                };
                let user = read_user(&user_item).map_err(malformed)?;
                let (sessions, version) = read_user_sessions(&user_item).map_err(malformed)?;
                let mut items = vec![
                    self.delete_held(username_key(username), Some(holder))?,
                    self.delete_user_item(holder, version)?,
                    self.delete_held(email_key(&user.email), Some(holder))?,
                ];
                // The skeleton the user item records; none on a look-alike stored before skeletons.
                if let Some(skeleton) = read_user_skeleton(&user_item).map_err(malformed)? {
                    items.push(self.delete_held(skeleton_key(&skeleton), Some(holder))?);
                }
                // Its sessions, at most MAX_SESSIONS_PER_USER, and its counters: the transaction stays far under
                // DynamoDB's 100 items.
                items.extend(self.session_deletes(&sessions)?);
                items.extend(self.attempt_deletes(attempts)?);
                match self.transact(items, "deleting a user").await? {
                    Outcome::Written => return Ok(true),
                    Outcome::ConditionsFailed(_) => continue,
                }
            }
            Err(StoreError::Internal(anyhow!(
                "the items of user {username} did not match after {DELETE_ATTEMPTS} attempts"
            )))
        })
        .await
    }

    /// One conditional update of the username item, which alone holds the hash.
    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
        change_required: bool,
    ) -> Result<bool, StoreError> {
        bounded(self.update_hash(
            username,
            new,
            Some(current),
            change_required,
            "replacing a password hash",
        ))
        .await
    }
}
