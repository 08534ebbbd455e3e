//! [`SessionStore`] on DynamoDB: a `SESSION#<id>` item per session, and on the user's item the set of its session
//! ids with a version, so that a global logout or the user's deletion finds every session with one strongly
//! consistent read and ends them all in one transaction conditioned on that version.

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::errors::{condition_failed, sdk_error};
use super::items::{
    EXPIRES_AT, GENERATION, IDLE_EXPIRES_AT, REFRESHED_AT, SESSIONS, SESSIONS_VERSION, USER_ID,
    attempt_key, number_value, read_session, read_user_sessions, session_item, session_key,
    string_value, ttl_epoch, user_key,
};
use super::transactions::Outcome;
use super::{DELETE_ATTEMPTS, DynamoDb, StoreError, bounded, malformed};
use crate::login_attempts::AttemptKey;
use crate::sessions::{MAX_SESSIONS_PER_USER, Session, SessionStore};
use crate::users::format_timestamp;

/// A user's sessions as its item lists them.
pub(super) struct UserSessions {
    pub ids: Vec<Uuid>,
    pub version: i64,
}

impl DynamoDb {
    /// The sessions the user's item lists, read strongly consistently; `None` when the user does not exist.
    pub(super) async fn user_sessions(
        &self,
        user_id: Uuid,
        doing: &str,
    ) -> Result<Option<UserSessions>, StoreError> {
        let Some(item) = self.get_item(user_key(user_id), doing).await? else {
            return Ok(None);
        };
        let (ids, version) = read_user_sessions(&item).map_err(malformed)?;
        Ok(Some(UserSessions { ids, version }))
    }

    /// A condition on the user item: it exists, and its session list is still at `version`; and the value it
    /// compares with, if any (DynamoDB refuses values an expression does not use).
    pub(super) fn sessions_unchanged(
        version: i64,
    ) -> (&'static str, Option<(&'static str, AttributeValue)>) {
        if version == 0 {
            (
                "attribute_exists(pk) AND attribute_not_exists(#version)",
                None,
            )
        } else {
            (
                "#version = :version",
                Some((":version", number_value(version))),
            )
        }
    }

    /// Deletes of the items of `ids`, for a transaction; a session TTL already deleted is no failure.
    pub(super) fn session_deletes(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        ids.iter()
            .map(|id| {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(session_key(*id)))
                    .build()
                    .map_err(|e| StoreError::Internal(e.into()))?;
                Ok(TransactWriteItem::builder().delete(delete).build())
            })
            .collect()
    }

    /// An update of the user item for a transaction: `expression` with the list's names bound, conditioned on
    /// `condition`.
    fn user_update(
        &self,
        user_id: Uuid,
        expression: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(user_key(user_id)))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_names("#sessions", SESSIONS)
            .expression_attribute_names("#version", SESSIONS_VERSION);
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        let update = update.build().map_err(|e| StoreError::Internal(e.into()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Deletes of login-attempt counters, for a transaction; a counter TTL already deleted is no failure.
    pub(super) fn attempt_deletes(
        &self,
        keys: &[AttemptKey],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        keys.iter()
            .map(|key| {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(attempt_key(key)))
                    .build()
                    .map_err(|e| StoreError::Internal(e.into()))?;
                Ok(TransactWriteItem::builder().delete(delete).build())
            })
            .collect()
    }

    /// The user item's delete, for the user's deletion: conditioned on its session list still being at `version`,
    /// so that a session begun after the list was read makes the deletion read again, and none outlives its user.
    pub(super) fn delete_user_item(
        &self,
        user_id: Uuid,
        version: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let (condition, compared) = Self::sessions_unchanged(version);
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(user_key(user_id)))
            .condition_expression(condition)
            .expression_attribute_names("#version", SESSIONS_VERSION);
        if let Some((name, value)) = compared {
            delete = delete.expression_attribute_values(name, value);
        }
        let delete = delete.build().map_err(|e| StoreError::Internal(e.into()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The items of a transaction that ends every session on the user's list as read: a Delete of each, and the
    /// list removed, conditioned on its version (so a session begun since the read cancels the transaction).
    pub(super) fn end_sessions_items(
        &self,
        user_id: Uuid,
        sessions: &UserSessions,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (condition, compared) = Self::sessions_unchanged(sessions.version);
        let mut values = vec![(":next", number_value(sessions.version + 1))];
        values.extend(compared);
        let mut items = self.session_deletes(&sessions.ids)?;
        items.push(self.user_update(
            user_id,
            "REMOVE #sessions SET #version = :next",
            condition,
            values,
        )?);
        Ok(items)
    }

    fn put_session(&self, session: &Session) -> Result<TransactWriteItem, StoreError> {
        self.put_new(session_item(session))
    }

    /// Ends the user's sessions beyond the limit (the oldest: ids are UUIDv7) and stores `session`, conditioned on
    /// the list read. Answers `None` when the list changed in between.
    async fn create_evicting(&self, session: &Session) -> Result<Option<bool>, StoreError> {
        const DOING: &str = "beginning a session";
        let Some(UserSessions { mut ids, version }) =
            self.user_sessions(session.user_id, DOING).await?
        else {
            return Ok(Some(false));
        };
        ids.sort();
        let evicted = ids
            .len()
            .saturating_sub(MAX_SESSIONS_PER_USER - 1)
            .min(ids.len());
        let (gone, kept) = ids.split_at(evicted);
        let mut list: Vec<String> = kept.iter().map(Uuid::to_string).collect();
        list.push(session.id.to_string());
        let (condition, compared) = Self::sessions_unchanged(version);
        let mut values = vec![
            (":list", AttributeValue::Ss(list)),
            (":next", number_value(version + 1)),
        ];
        values.extend(compared);
        let mut items = vec![
            self.put_session(session)?,
            self.user_update(
                session.user_id,
                "SET #sessions = :list, #version = :next",
                condition,
                values,
            )?,
        ];
        items.extend(self.session_deletes(gone)?);
        match self.transact(items, DOING).await? {
            Outcome::Written => Ok(Some(true)),
            Outcome::ConditionsFailed(_) => Ok(None),
        }
    }
}

#[async_trait]
impl SessionStore for DynamoDb {
    /// One transaction: the session's item, and its id added to the user's list while the list has room (which
    /// also makes sure the user still exists). A full list is read and rewritten without its oldest sessions.
    async fn create(&self, session: &Session) -> Result<bool, StoreError> {
        const DOING: &str = "beginning a session";
        bounded(async {
            let max = i64::try_from(MAX_SESSIONS_PER_USER).unwrap_or(i64::MAX);
            let items = vec![
                self.put_session(session)?,
                self.user_update(
                    session.user_id,
                    "ADD #sessions :id, #version :one",
                    "attribute_exists(pk) AND (attribute_not_exists(#sessions) OR size(#sessions) < :max)",
                    vec![
                        (":id", AttributeValue::Ss(vec![session.id.to_string()])),
                        (":one", number_value(1)),
                        (":max", number_value(max)),
                    ],
                )?,
            ];
            if let Outcome::Written = self.transact(items, DOING).await? {
                return Ok(true);
            }
            for _ in 0..DELETE_ATTEMPTS {
                if let Some(created) = self.create_evicting(session).await? {
                    return Ok(created);
                }
            }
            Err(StoreError::Unavailable(anyhow!(
                "{DOING}: the user's sessions kept changing over {DELETE_ATTEMPTS} tries"
            )))
        })
        .await
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        bounded(async {
            self.get_item(session_key(id), "reading a session")
                .await?
                .map(|item| read_session(&item).map_err(malformed))
                .transpose()
        })
        .await
    }

    async fn rotate(
        &self,
        id: Uuid,
        from: u64,
        at: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        bounded(async {
            let rotated = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(session_key(id)))
                .update_expression(
                    "SET #generation = :to, #refreshed = :at, #idle = :idle, #expires = :expires",
                )
                .condition_expression("#generation = :from")
                .expression_attribute_names("#generation", GENERATION)
                .expression_attribute_names("#refreshed", REFRESHED_AT)
                .expression_attribute_names("#idle", IDLE_EXPIRES_AT)
                .expression_attribute_names("#expires", EXPIRES_AT)
                .expression_attribute_values(":from", AttributeValue::N(from.to_string()))
                .expression_attribute_values(":to", AttributeValue::N((from + 1).to_string()))
                .expression_attribute_values(":at", string_value(format_timestamp(&at)))
                .expression_attribute_values(
                    ":idle",
                    string_value(format_timestamp(&idle_expires_at)),
                )
                .expression_attribute_values(":expires", number_value(ttl_epoch(&idle_expires_at)))
                .send()
                .await;
            match rotated {
                Ok(_) => Ok(true),
                Err(error) if condition_failed(&error) => Ok(false),
                Err(error) => Err(sdk_error(error, "refreshing a session")),
            }
        })
        .await
    }

    /// One transaction: the session's item and its id in the user's list. Without the user (a race with its
    /// deletion, which ends its sessions anyway), the item alone. Either way only a session of `user_id`: as on
    /// SQLite, another user's id ends nothing (and leaves no listed id without its item).
    async fn end(&self, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        const DOING: &str = "ending a session";
        bounded(async {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(session_key(id)))
                .condition_expression("attribute_not_exists(pk) OR #user = :user")
                .expression_attribute_names("#user", USER_ID)
                .expression_attribute_values(":user", string_value(user_id.to_string()))
                .build()
                .map_err(|e| StoreError::Internal(e.into()))?;
            let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
            items.push(self.user_update(
                user_id,
                "DELETE #sessions :id ADD #version :one",
                "attribute_exists(pk)",
                vec![
                    (":id", AttributeValue::Ss(vec![id.to_string()])),
                    (":one", number_value(1)),
                ],
            )?);
            if let Outcome::Written = self.transact(items, DOING).await? {
                return Ok(());
            }
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(session_key(id)))
                .condition_expression("#user = :user")
                .expression_attribute_names("#user", USER_ID)
                .expression_attribute_values(":user", string_value(user_id.to_string()))
                .send()
                .await;
            match deleted {
                // Gone already, or another user's: nothing of `user_id`'s to end.
                Err(error) if condition_failed(&error) => Ok(()),
                Err(error) => Err(sdk_error(error, DOING)),
                Ok(_) => Ok(()),
            }
        })
        .await
    }

    /// Reads the user's list, then deletes every session on it and empties it in one transaction conditioned on the
    /// list's version: a session begun in between makes it read again, so none survives.
    async fn end_all(&self, user_id: Uuid) -> Result<usize, StoreError> {
        const DOING: &str = "ending sessions";
        bounded(async {
            for _ in 0..DELETE_ATTEMPTS {
                let Some(UserSessions { ids, version }) =
                    self.user_sessions(user_id, DOING).await?
                else {
                    return Ok(0);
                };
                if ids.is_empty() {
                    return Ok(0);
                }
                let items = self.end_sessions_items(
                    user_id,
                    &UserSessions {
                        ids: ids.clone(),
                        version,
                    },
                )?;
                if let Outcome::Written = self.transact(items, DOING).await? {
                    return Ok(ids.len());
                }
            }
            Err(StoreError::Unavailable(anyhow!(
                "{DOING}: the user's sessions kept changing over {DELETE_ATTEMPTS} tries"
            )))
        })
        .await
    }

    /// The sessions on the user's list, one strongly consistent read each (at most [`MAX_SESSIONS_PER_USER`]); ids
    /// whose item TTL has already deleted are left out.
    async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<Session>, StoreError> {
        bounded(async {
            let Some(UserSessions { mut ids, .. }) =
                self.user_sessions(user_id, "listing sessions").await?
            else {
                return Ok(Vec::new());
            };
            ids.sort();
            let mut sessions = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(item) = self.get_item(session_key(id), "listing sessions").await? {
                    sessions.push(read_session(&item).map_err(malformed)?);
                }
            }
            Ok(sessions)
        })
        .await
    }
}
