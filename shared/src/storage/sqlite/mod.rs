//! The SQLite backend: one embedded file, for local runs and tests. This module holds the connection and the
//! schema; [`users`], [`login_attempts`], [`sessions`] and [`imports`] implement one port each.

mod imports;
mod login_attempts;
mod sessions;
mod users;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use rusqlite::{Connection, ErrorCode, Transaction, params};
use rusqlite_migration::{HookResult, M, Migrations};
use uuid::Uuid;

use super::StoreError;
use crate::users::{Skeleton, SkeletonOf, Username};

/// The schema's versions, oldest first. Append; never edit one that has shipped. `skeleton_of` fills in the
/// skeletons of users stored before 0003.
fn migrations(skeleton_of: SkeletonOf) -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!(
            "../../../migrations/sqlite/0001_create_users.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0002_create_login_failures.sql"
        )),
        M::up_with_hook(
            include_str!("../../../migrations/sqlite/0003_username_skeletons.sql"),
            move |transaction: &Transaction| fill_skeletons(transaction, skeleton_of),
        ),
        M::up(include_str!(
            "../../../migrations/sqlite/0004_login_attempts.sql"
        )),
        M::up(include_str!("../../../migrations/sqlite/0005_sessions.sql")),
        M::up(include_str!("../../../migrations/sqlite/0006_admins.sql")),
        M::up(include_str!("../../../migrations/sqlite/0007_imports.sql")),
    ])
}

/// Gives each user without a skeleton its skeleton, oldest first; a user whose skeleton an older one already
/// holds (look-alikes registered before skeletons existed) keeps none, as 0003_username_skeletons.sql explains.
fn fill_skeletons(transaction: &Transaction, skeleton_of: SkeletonOf) -> HookResult {
    let users: Vec<(String, String)> = transaction
        .prepare("SELECT id, username FROM users WHERE username_skeleton IS NULL ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, stored) in users {
        let skeleton = skeleton_of(&Username::renormalised(stored));
        let filled = transaction.execute(
            "UPDATE OR IGNORE users SET username_skeleton = ?1 WHERE id = ?2",
            params![skeleton.as_str(), id],
        )?;
        if filled == 0 {
            tracing::warn!(
                user_id = id,
                "username looks like an older user's; left without a skeleton"
            );
        }
    }
    Ok(())
}

/// How long a writer waits for another process's lock before the request fails as unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const USER_COLUMNS: &str = "id, username, email, created_at";

/// Users in one SQLite file. The connection is shared and used off the async runtime.
#[derive(Clone)]
pub struct Sqlite {
    connection: Arc<Mutex<Connection>>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path` and applies pending migrations, so a fresh checkout
    /// works with no set-up step.
    pub fn open(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let connection = Connection::open(path)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        Self::from_connection(connection)
    }

    /// A private database in memory, gone when the last clone is dropped.
    pub fn in_memory() -> anyhow::Result<Self> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut connection: Connection) -> anyhow::Result<Self> {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets the three functions and the admin command read while one of them writes.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        // A user's deletion takes its sessions with it (0005_sessions.sql).
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // SQLite is local only (the Lambda builds leave it out), so linking the skeleton table here costs nothing.
        migrations(Skeleton::of)
            .to_latest(&mut connection)
            .context("applying SQLite migrations")?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection in a blocking thread, so SQLite's I/O never stalls the async runtime.
    async fn with_connection<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| StoreError::Internal(anyhow!("SQLite connection lock poisoned")))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(anyhow!(e).context("SQLite task failed")))?
    }
}

fn parse_id(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw)
        .map_err(|e| StoreError::Internal(anyhow!("stored user id {raw:?} is invalid: {e}")))
}

/// A locked database is worth retrying; anything else is a fault.
fn storage_error(error: rusqlite::Error, doing: &str) -> StoreError {
    let busy = matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    let error = anyhow!(error).context(format!("SQLite failed while {doing}"));
    if busy {
        StoreError::Unavailable(error)
    } else {
        StoreError::Internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::{Email, UniqueField, User, UserStore, UserStoreExt, format_timestamp};

    /// A user row as schema version 2 (before skeletons) stored it.
    fn insert_version_2_row(connection: &Connection, user: &User) {
        connection
            .execute(
                "INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?1, ?2, ?3, NULL, ?4)",
                params![
                    user.id.to_string(),
                    user.username.as_str(),
                    user.email.as_str(),
                    format_timestamp(&user.created_at),
                ],
            )
            .unwrap();
    }

    fn user(name: &str) -> User {
        User::new(
            Username::parse(name).unwrap(),
            Email::parse(&format!("{name}@example.com")).unwrap(),
        )
    }

    #[tokio::test]
    async fn migrating_fills_in_skeletons_and_leaves_older_look_alikes_alone() {
        let mut connection = Connection::open_in_memory().unwrap();
        migrations(Skeleton::of)
            .to_version(&mut connection, 2)
            .unwrap();
        let admin = user("admin");
        let bob = user("bob");
        // `admin` with a Cyrillic `а`, registered after `admin` while nothing compared skeletons.
        let look_alike = User::new(
            Username::parse("\u{430}dmin").unwrap(),
            Email::parse("impostor@example.com").unwrap(),
        );
        for old in [&admin, &bob, &look_alike] {
            insert_version_2_row(&connection, old);
        }

        let users = Sqlite::from_connection(connection).unwrap();
        let skeletons: Vec<(String, Option<String>)> = users
            .with_connection(|connection| {
                connection
                    .prepare("SELECT username, username_skeleton FROM users ORDER BY id")
                    .and_then(|mut statement| {
                        statement
                            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                            .collect()
                    })
                    .map_err(|e| storage_error(e, "reading skeletons"))
            })
            .await
            .unwrap();
        assert_eq!(
            skeletons,
            [
                ("admin".to_owned(), Some("adrnin".to_owned())),
                ("bob".to_owned(), Some("bob".to_owned())),
                ("\u{430}dmin".to_owned(), None),
            ]
        );

        // Both old users keep working; new look-alikes of either are refused.
        assert!(
            users
                .by_username(&look_alike.username)
                .await
                .unwrap()
                .is_some()
        );
        let newcomer = User::new(
            Username::parse("b\u{43e}b").unwrap(),
            Email::parse("newcomer@example.com").unwrap(),
        );
        assert!(matches!(
            users.insert(&newcomer, None).await,
            Err(StoreError::Conflict(fields)) if fields == [UniqueField::Username]
        ));
        // Upgrading again changes nothing.
        users.upgrade().await.unwrap();
        assert!(users.delete(&look_alike.username).await.unwrap());
    }
}
