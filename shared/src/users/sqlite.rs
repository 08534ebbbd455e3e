//! The SQLite backend: one embedded file, for local runs and tests.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Row, Transaction, TransactionBehavior, params,
};
use rusqlite_migration::{HookResult, M, Migrations};
use uuid::Uuid;

use chrono::{DateTime, Utc};

use super::{
    AttemptKey, Attempts, Credentials, Cursor, Email, Expiry, Page, PageSize, PasswordHash,
    RepoError, Skeleton, SkeletonOf, UniqueField, User, UserRepository, Username, format_timestamp,
    parse_timestamp,
};

/// The schema's versions, oldest first. Append; never edit one that has shipped. `skeleton_of` fills in the
/// skeletons of users stored before 0003.
fn migrations(skeleton_of: SkeletonOf) -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!(
            "../../migrations/sqlite/0001_create_users.sql"
        )),
        M::up(include_str!(
            "../../migrations/sqlite/0002_create_login_failures.sql"
        )),
        M::up_with_hook(
            include_str!("../../migrations/sqlite/0003_username_skeletons.sql"),
            move |transaction: &Transaction| fill_skeletons(transaction, skeleton_of),
        ),
        M::up(include_str!(
            "../../migrations/sqlite/0004_login_attempts.sql"
        )),
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
pub struct SqliteUsers {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteUsers {
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
        // SQLite is local only (the Lambda builds leave it out), so linking the skeleton table here costs nothing.
        migrations(Skeleton::of)
            .to_latest(&mut connection)
            .context("applying SQLite migrations")?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// [`UserRepository`]'s `insert` on `dyn UserRepository`, for a caller that holds this type.
    pub async fn insert(&self, user: &User, hash: Option<&PasswordHash>) -> Result<(), RepoError> {
        (self as &dyn UserRepository).insert(user, hash).await
    }

    /// [`UserRepository`]'s `upgrade` on `dyn UserRepository`, for a caller that holds this type.
    pub async fn upgrade(&self) -> Result<(), RepoError> {
        (self as &dyn UserRepository).upgrade().await
    }

    /// Runs `work` on the connection in a blocking thread, so SQLite's I/O never stalls the async runtime.
    async fn with_connection<T, F>(&self, work: F) -> Result<T, RepoError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, RepoError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| RepoError::Internal(anyhow!("SQLite connection lock poisoned")))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| RepoError::Internal(anyhow!(e).context("SQLite task failed")))?
    }
}

#[async_trait]
impl UserRepository for SqliteUsers {
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), RepoError> {
        self.with_connection(move |connection| {
            migrations(skeleton_of)
                .to_latest(connection)
                .context("applying SQLite migrations")
                .map_err(RepoError::Internal)
        })
        .await
    }

    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), RepoError> {
        let user = user.clone();
        let skeleton = skeleton.clone();
        let hash = hash.map(|h| h.as_str().to_owned());
        self.with_connection(move |connection| {
            let inserted = connection.execute(
                "INSERT INTO users (id, username, username_skeleton, email, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.id.to_string(),
                    user.username.as_str(),
                    skeleton.as_str(),
                    user.email.as_str(),
                    hash,
                    format_timestamp(&user.created_at),
                ],
            );
            match inserted {
                Ok(_) => Ok(()),
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => Err(
                    RepoError::Conflict(taken_fields(connection, &user, &skeleton)?),
                ),
                Err(e) => Err(storage_error(e, "inserting a user")),
            }
        })
        .await
    }

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, RepoError> {
        let username = username.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .query_row(
                    "SELECT id, password_hash FROM users WHERE username = ?1",
                    [&username],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)),
                )
                .optional()
                .map_err(|e| storage_error(e, "reading credentials"))?
                .map(|(id, hash)| {
                    Ok(Credentials {
                        user_id: parse_id(&id)?,
                        hash: hash.map(PasswordHash::new),
                    })
                })
                .transpose()
        })
        .await
    }

    async fn get(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        self.find_one("id", id.to_string()).await
    }

    async fn find(&self, username: &Username) -> Result<Option<User>, RepoError> {
        self.find_one("username", username.as_str().to_owned())
            .await
    }

    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, RepoError> {
        let after = after.map(|c| c.user_id().to_string()).unwrap_or_default();
        self.with_connection(move |connection| {
            // One row more than asked tells whether another page follows.
            let mut statement = connection
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
                ))
                .map_err(|e| storage_error(e, "listing users"))?;
            let users = statement
                .query_map(params![after, (size.get() + 1) as i64], |row| {
                    Ok(read_user(row))
                })
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| storage_error(e, "listing users"))?
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetched(users, size))
        })
        .await
    }

    async fn set_password(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<bool, RepoError> {
        let username = username.as_str().to_owned();
        let hash = hash.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE users SET password_hash = ?1 WHERE username = ?2",
                    params![hash, username],
                )
                .map(|changed| changed > 0)
                .map_err(|e| storage_error(e, "setting a password"))
        })
        .await
    }

    async fn delete(&self, username: &Username) -> Result<bool, RepoError> {
        let username = username.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute("DELETE FROM users WHERE username = ?1", [username])
                .map(|changed| changed > 0)
                .map_err(|e| storage_error(e, "deleting a user"))
        })
        .await
    }

    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, RepoError> {
        let username = username.as_str().to_owned();
        let current = current.as_str().to_owned();
        let new = new.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE users SET password_hash = ?1 WHERE username = ?2 AND password_hash = ?3",
                    params![new, username, current],
                )
                .map(|changed| changed > 0)
                .map_err(|e| storage_error(e, "replacing a password hash"))
        })
        .await
    }

    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, RepoError> {
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

    async fn release_login_attempt(&self, key: &AttemptKey) -> Result<(), RepoError> {
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

    async fn clear_login_attempts(&self, key: &AttemptKey) -> Result<(), RepoError> {
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
) -> Result<Attempts, RepoError> {
    let timestamp = |raw: &str, name: &str| {
        parse_timestamp(raw)
            .map_err(|e| RepoError::Internal(anyhow!("stored {name} is invalid: {e}")))
    };
    Ok(Attempts {
        count,
        last_at: Some(timestamp(&last_at, "last_attempt_at")?),
        expires_at: Some(timestamp(&expires_at, "expires_at")?),
    })
}

impl SqliteUsers {
    async fn find_one(
        &self,
        column: &'static str,
        value: String,
    ) -> Result<Option<User>, RepoError> {
        self.with_connection(move |connection| {
            connection
                .query_row(
                    &format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"),
                    [value],
                    |row| Ok(read_user(row)),
                )
                .optional()
                .map_err(|e| storage_error(e, "reading a user"))?
                .transpose()
        })
        .await
    }
}

/// Which of the user's unique fields another user already holds; a taken skeleton is a taken username.
fn taken_fields(
    connection: &Connection,
    user: &User,
    skeleton: &Skeleton,
) -> Result<Vec<UniqueField>, RepoError> {
    let (username_taken, email_taken) = connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1 OR username_skeleton = ?2),
                    EXISTS (SELECT 1 FROM users WHERE email = ?3)",
            params![
                user.username.as_str(),
                skeleton.as_str(),
                user.email.as_str()
            ],
            |row| Ok((row.get::<_, bool>(0)?, row.get::<_, bool>(1)?)),
        )
        .map_err(|e| storage_error(e, "finding the conflicting field"))?;
    let fields: Vec<UniqueField> = [
        (username_taken, UniqueField::Username),
        (email_taken, UniqueField::Email),
    ]
    .into_iter()
    .filter_map(|(taken, field)| taken.then_some(field))
    .collect();
    if fields.is_empty() {
        // The id collided, which a UUIDv7 never should.
        return Err(RepoError::Internal(anyhow!(
            "constraint violation on a user id"
        )));
    }
    Ok(fields)
}

fn read_user(row: &Row<'_>) -> Result<User, RepoError> {
    let column = |index: usize| {
        row.get::<_, String>(index)
            .map_err(|e| storage_error(e, "reading a user row"))
    };
    Ok(User {
        id: parse_id(&column(0)?)?,
        username: Username::from_stored(column(1)?),
        email: Email::from_stored(column(2)?),
        created_at: parse_timestamp(&column(3)?)
            .map_err(|e| RepoError::Internal(anyhow!("stored created_at is invalid: {e}")))?,
    })
}

fn parse_id(raw: &str) -> Result<Uuid, RepoError> {
    Uuid::parse_str(raw)
        .map_err(|e| RepoError::Internal(anyhow!("stored user id {raw:?} is invalid: {e}")))
}

/// A locked database is worth retrying; anything else is a fault.
fn storage_error(error: rusqlite::Error, doing: &str) -> RepoError {
    let busy = matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    let error = anyhow!(error).context(format!("SQLite failed while {doing}"));
    if busy {
        RepoError::Unavailable(error)
    } else {
        RepoError::Internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> AttemptKey {
        AttemptKey::from_hex(format!("{n:032x}"))
    }

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

        let users = SqliteUsers::from_connection(connection).unwrap();
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
        assert!(users.find(&look_alike.username).await.unwrap().is_some());
        let newcomer = User::new(
            Username::parse("b\u{43e}b").unwrap(),
            Email::parse("newcomer@example.com").unwrap(),
        );
        assert!(matches!(
            users.insert(&newcomer, None).await,
            Err(RepoError::Conflict(fields)) if fields == [UniqueField::Username]
        ));
        // Upgrading again changes nothing.
        users.upgrade().await.unwrap();
        assert!(users.delete(&look_alike.username).await.unwrap());
    }

    #[tokio::test]
    async fn counting_an_attempt_prunes_expired_counters() {
        let users = SqliteUsers::in_memory().unwrap();
        let now = Utc::now();
        let long_ago = now - chrono::TimeDelta::hours(25);
        let day = Expiry::AfterLast(chrono::TimeDelta::hours(24));
        for i in 0..50 {
            users
                .reserve_login_attempt(&key(i), long_ago, day)
                .await
                .unwrap();
        }
        users
            .reserve_login_attempt(&key(200), now, day)
            .await
            .unwrap();
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
