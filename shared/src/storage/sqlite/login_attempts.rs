//! [`LoginAttempts`] on SQLite: one row per live counter.

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Sqlite, StoreError, storage_error};
use crate::login_attempts::{AttemptKey, Attempts, Expiry, LoginAttempts};
use crate::users::{format_timestamp, parse_timestamp};

#[async_trait]
impl LoginAttempts for Sqlite {
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, StoreError> {
        let key = key.as_str().to_owned();
        self.with_connection(move |connection| {
            let now_text = format_timestamp(&now);
            // IMMEDIATE: the write lock is taken before the read, so another process cannot count in between.
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| storage_error(e, "counting a login attempt"))?;
            // Expired rows go first, so that the table holds only live counters and what is read below is live.
            transaction
                .execute(
                    "DELETE FROM login_attempts WHERE expires_at <= ?1",
                    [&now_text],
                )
                .map_err(|e| storage_error(e, "pruning login attempts"))?;
            let before = transaction
                .query_row(
                    "SELECT attempts, last_attempt_at, expires_at FROM login_attempts WHERE key = ?1",
                    [&key],
                    |row| {
                        Ok((
                            row.get::<_, u32>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(|e| storage_error(e, "counting a login attempt"))?
                .map(read_attempts)
                .transpose()?
                .unwrap_or_default();
            // A live counter keeps its first attempt's expiry under `AfterFirst`; only a new one starts the window.
            let expires = match (expiry, before.expires_at) {
                (Expiry::AfterFirst(_), Some(expires)) => expires,
                _ => expiry.expires_at(now, now),
            };
            transaction
                .execute(
                    "INSERT INTO login_attempts (key, attempts, last_attempt_at, expires_at) VALUES (?1, 1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET attempts = attempts + 1,
                         last_attempt_at = excluded.last_attempt_at, expires_at = excluded.expires_at",
                    params![key, now_text, format_timestamp(&expires)],
                )
                .map_err(|e| storage_error(e, "counting a login attempt"))?;
            transaction
                .commit()
                .map_err(|e| storage_error(e, "counting a login attempt"))?;
            Ok(before)
        })
        .await
    }

    async fn release(&self, key: &AttemptKey) -> Result<(), StoreError> {
        let key = key.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE login_attempts SET attempts = attempts - 1 WHERE key = ?1 AND attempts > 0",
                    [key],
                )
                .map(drop)
                .map_err(|e| storage_error(e, "releasing a login attempt"))
        })
        .await
    }

    async fn clear(&self, key: &AttemptKey) -> Result<(), StoreError> {
        let key = key.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute("DELETE FROM login_attempts WHERE key = ?1", [key])
                .map(drop)
                .map_err(|e| storage_error(e, "clearing login attempts"))
        })
        .await
    }
}

fn read_attempts(
    (count, last_at, expires_at): (u32, String, String),
) -> Result<Attempts, StoreError> {
    let timestamp = |raw: &str, name: &str| {
        parse_timestamp(raw)
            .map_err(|e| StoreError::Internal(anyhow!("stored {name} is invalid: {e}")))
    };
    Ok(Attempts {
        count,
        last_at: Some(timestamp(&last_at, "last_attempt_at")?),
        expires_at: Some(timestamp(&expires_at, "expires_at")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> AttemptKey {
        AttemptKey::from_hex(format!("{n:032x}"))
    }

    #[tokio::test]
    async fn counting_an_attempt_prunes_expired_counters() {
        let users = Sqlite::in_memory().unwrap();
        let now = Utc::now();
        let long_ago = now - chrono::TimeDelta::hours(25);
        let day = Expiry::AfterLast(chrono::TimeDelta::hours(24));
        for i in 0..50 {
            users.reserve(&key(i), long_ago, day).await.unwrap();
        }
        users.reserve(&key(200), now, day).await.unwrap();
        let rows: i64 = users
            .with_connection(|connection| {
                connection
                    .query_row("SELECT COUNT(*) FROM login_attempts", [], |row| row.get(0))
                    .map_err(|e| storage_error(e, "counting"))
            })
            .await
            .unwrap();
        assert_eq!(rows, 1, "only the live counter is left");
    }
}
