//! [`ImportStore`] on SQLite: the user's row and the record of its import, in one transaction.

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{ErrorCode, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::users::taken_fields;
use super::{Sqlite, StoreError, storage_error};
use crate::users::{Account, ImportStore, Imported, PasswordHash, Skeleton, format_timestamp};

#[async_trait]
impl ImportStore for Sqlite {
    async fn import_with_skeleton(
        &self,
        account: &Account,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<Imported, StoreError> {
        const DOING: &str = "importing a user";
        let account = account.clone();
        let skeleton = skeleton.clone();
        let hash = hash.map(|h| h.as_str().to_owned());
        self.with_connection(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| storage_error(e, DOING))?;
            let user = &account.user;
            let id = user.id.to_string();
            if recorded(&transaction, &id).map_err(|e| storage_error(e, DOING))? {
                return Ok(Imported::Before);
            }
            let inserted = transaction.execute(
                "INSERT INTO users (id, username, username_skeleton, email, password_hash, created_at, is_admin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    user.username.as_str(),
                    skeleton.as_str(),
                    user.email.as_str(),
                    hash,
                    format_timestamp(&user.created_at),
                    account.is_admin,
                ],
            );
            match inserted {
                Ok(_) => {}
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                    return Err(StoreError::Conflict(taken_fields(
                        &transaction,
                        user,
                        &skeleton,
                    )?));
                }
                Err(e) => return Err(storage_error(e, DOING)),
            }
            transaction
                .execute(
                    "INSERT INTO imported_users (user_id, imported_at) VALUES (?1, ?2)",
                    params![id, format_timestamp(&Utc::now())],
                )
                .map_err(|e| storage_error(e, DOING))?;
            transaction.commit().map_err(|e| storage_error(e, DOING))?;
            Ok(Imported::New)
        })
        .await
    }

    async fn imported_before(&self, id: Uuid) -> Result<bool, StoreError> {
        self.with_connection(move |connection| {
            recorded(connection, &id.to_string())
                .map_err(|e| storage_error(e, "reading the import records"))
        })
        .await
    }
}

fn recorded(connection: &rusqlite::Connection, id: &str) -> rusqlite::Result<bool> {
    connection
        .query_row(
            "SELECT 1 FROM imported_users WHERE user_id = ?1",
            [id],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
}
