//! [`SessionStore`] on SQLite: one row per session, deleted with its user by the foreign key's cascade.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{Sqlite, StoreError, parse_id, storage_error};
use crate::sessions::{MAX_SESSIONS_PER_USER, Session, SessionStore};
use crate::users::{format_timestamp, parse_timestamp};

const SESSION_COLUMNS: &str =
    "id, user_id, generation, created_at, refreshed_at, idle_expires_at, expires_at";

fn read_session(row: &Row) -> rusqlite::Result<[String; 7]> {
    Ok([
        row.get(0)?,
        row.get(1)?,
        row.get::<_, i64>(2)?.to_string(),
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ])
}

fn session_of(columns: [String; 7]) -> Result<Session, StoreError> {
    let [
        id,
        user_id,
        generation,
        created_at,
        refreshed_at,
        idle_expires_at,
        expires_at,
    ] = columns;
    let time = |raw: &str| {
        parse_timestamp(raw).map_err(|e| {
            StoreError::Internal(anyhow::anyhow!(
                "stored session time {raw:?} is invalid: {e}"
            ))
        })
    };
    Ok(Session {
        id: parse_id(&id)?,
        user_id: parse_id(&user_id)?,
        generation: generation.parse().map_err(|_| {
            StoreError::Internal(anyhow::anyhow!("stored session generation is negative"))
        })?,
        created_at: time(&created_at)?,
        refreshed_at: time(&refreshed_at)?,
        idle_expires_at: time(&idle_expires_at)?,
        expires_at: time(&expires_at)?,
    })
}

/// A stored generation: SQLite integers are signed.
fn generation(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Internal(anyhow::anyhow!("session generation overflow")))
}

#[async_trait]
impl SessionStore for Sqlite {
    async fn create(&self, session: &Session) -> Result<bool, StoreError> {
        let session = session.clone();
        self.with_connection(move |connection| {
            const DOING: &str = "beginning a session";
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| storage_error(e, DOING))?;
            let user_id = session.user_id.to_string();
            let exists = transaction
                .query_row("SELECT 1 FROM users WHERE id = ?1", [&user_id], |_| Ok(()))
                .optional()
                .map_err(|e| storage_error(e, DOING))?
                .is_some();
            if !exists {
                return Ok(false);
            }
            // Expired sessions of anyone go first (an index range), then the user's oldest beyond the limit.
            transaction
                .execute(
                    "DELETE FROM sessions WHERE idle_expires_at <= ?1",
                    [format_timestamp(&session.created_at)],
                )
                .map_err(|e| storage_error(e, "pruning sessions"))?;
            let keep = i64::try_from(MAX_SESSIONS_PER_USER - 1).unwrap_or(i64::MAX);
            transaction
                .execute(
                    "DELETE FROM sessions WHERE user_id = ?1 AND id NOT IN
                         (SELECT id FROM sessions WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
                    params![user_id, keep],
                )
                .map_err(|e| storage_error(e, DOING))?;
            transaction
                .execute(
                    &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                    params![
                        session.id.to_string(),
                        user_id,
                        generation(session.generation)?,
                        format_timestamp(&session.created_at),
                        format_timestamp(&session.refreshed_at),
                        format_timestamp(&session.idle_expires_at),
                        format_timestamp(&session.expires_at),
                    ],
                )
                .map_err(|e| storage_error(e, DOING))?;
            transaction.commit().map_err(|e| storage_error(e, DOING))?;
            Ok(true)
        })
        .await
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        self.with_connection(move |connection| {
            connection
                .query_row(
                    &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"),
                    [id.to_string()],
                    read_session,
                )
                .optional()
                .map_err(|e| storage_error(e, "reading a session"))?
                .map(session_of)
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
        self.with_connection(move |connection| {
            let moved = connection
                .execute(
                    "UPDATE sessions SET generation = generation + 1, refreshed_at = ?3, idle_expires_at = ?4
                     WHERE id = ?1 AND generation = ?2",
                    params![
                        id.to_string(),
                        generation(from)?,
                        format_timestamp(&at),
                        format_timestamp(&idle_expires_at),
                    ],
                )
                .map_err(|e| storage_error(e, "refreshing a session"))?;
            Ok(moved == 1)
        })
        .await
    }

    async fn end(&self, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
                    [id.to_string(), user_id.to_string()],
                )
                .map_err(|e| storage_error(e, "ending a session"))?;
            Ok(())
        })
        .await
    }

    async fn end_all(&self, user_id: Uuid) -> Result<usize, StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "DELETE FROM sessions WHERE user_id = ?1",
                    [user_id.to_string()],
                )
                .map_err(|e| storage_error(e, "ending sessions"))
        })
        .await
    }

    async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<Session>, StoreError> {
        self.with_connection(move |connection| {
            connection
                .prepare(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1 ORDER BY id"
                ))
                .and_then(|mut statement| {
                    statement
                        .query_map([user_id.to_string()], read_session)?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|e| storage_error(e, "listing sessions"))?
                .into_iter()
                .map(session_of)
                .collect()
        })
        .await
    }
}
