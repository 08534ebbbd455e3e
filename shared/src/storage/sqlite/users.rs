//! [`UserStore`] on SQLite: users, their unique names, emails and skeletons, in one table.

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{Sqlite, StoreError, USER_COLUMNS, migrations, parse_id, storage_error};
use crate::login_attempts::AttemptKey;
use crate::users::{
    Account, Credentials, Cursor, Email, Page, PageSize, PasswordHash, Skeleton, SkeletonOf,
    UniqueField, User, UserStore, Username, format_timestamp, parse_timestamp,
};

#[async_trait]
impl UserStore for Sqlite {
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            migrations(skeleton_of)
                .to_latest(connection)
                .context("applying SQLite migrations")
                .map_err(StoreError::Internal)
        })
        .await
    }

    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), StoreError> {
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
                    StoreError::Conflict(taken_fields(connection, &user, &skeleton)?),
                ),
                Err(e) => Err(storage_error(e, "inserting a user")),
            }
        })
        .await
    }

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, StoreError> {
        let username = username.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .query_row(
                    "SELECT id, password_hash, password_change_required FROM users WHERE username = ?1",
                    [&username],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<String>>(1)?,
                            row.get::<_, bool>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(|e| storage_error(e, "reading credentials"))?
                .map(|(id, hash, password_change_required)| {
                    Ok(Credentials {
                        user_id: parse_id(&id)?,
                        hash: hash.map(PasswordHash::new),
                        password_change_required,
                    })
                })
                .transpose()
        })
        .await
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.find_one("id", id.to_string()).await
    }

    async fn by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.find_one("username", username.as_str().to_owned())
            .await
    }

    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, StoreError> {
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
    ) -> Result<bool, StoreError> {
        let username = username.as_str().to_owned();
        let hash = hash.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE users SET password_hash = ?1, password_change_required = 0 WHERE username = ?2",
                    params![hash, username],
                )
                .map(|changed| changed > 0)
                .map_err(|e| storage_error(e, "setting a password"))
        })
        .await
    }

    /// One transaction: the row (its sessions go with it, by the foreign key's cascade) and the counters.
    async fn delete_with(
        &self,
        username: &Username,
        attempts: &[AttemptKey],
    ) -> Result<bool, StoreError> {
        const DOING: &str = "deleting a user";
        let username = username.as_str().to_owned();
        let attempts: Vec<String> = attempts.iter().map(|key| key.as_str().to_owned()).collect();
        self.with_connection(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| storage_error(e, DOING))?;
            let deleted = transaction
                .execute("DELETE FROM users WHERE username = ?1", [username])
                .map_err(|e| storage_error(e, DOING))?;
            if deleted == 0 {
                return Ok(false);
            }
            for key in attempts {
                transaction
                    .execute("DELETE FROM login_attempts WHERE key = ?1", [key])
                    .map_err(|e| storage_error(e, DOING))?;
            }
            transaction.commit().map_err(|e| storage_error(e, DOING))?;
            Ok(true)
        })
        .await
    }

    async fn change_password(
        &self,
        username: &Username,
        current: Option<&PasswordHash>,
        new: &PasswordHash,
    ) -> Result<Option<usize>, StoreError> {
        const DOING: &str = "changing a password";
        let username = username.as_str().to_owned();
        let current = current.map(|hash| hash.as_str().to_owned());
        let new = new.as_str().to_owned();
        self.with_connection(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| storage_error(e, DOING))?;
            let replaced = transaction
                .execute(
                    "UPDATE users SET password_hash = ?1, password_change_required = 0
                     WHERE username = ?2 AND (?3 IS NULL OR password_hash = ?3)",
                    params![new, username, current],
                )
                .map_err(|e| storage_error(e, DOING))?;
            if replaced == 0 {
                return Ok(None);
            }
            let ended = transaction
                .execute(
                    "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)",
                    [&username],
                )
                .map_err(|e| storage_error(e, DOING))?;
            transaction.commit().map_err(|e| storage_error(e, DOING))?;
            Ok(Some(ended))
        })
        .await
    }

    async fn account(&self, id: Uuid) -> Result<Option<Account>, StoreError> {
        self.with_connection(move |connection| {
            connection
                .query_row(
                    &format!("SELECT {USER_COLUMNS}, is_admin FROM users WHERE id = ?1"),
                    [id.to_string()],
                    |row| Ok((read_user(row), row.get::<_, bool>(4)?)),
                )
                .optional()
                .map_err(|e| storage_error(e, "reading an account"))?
                .map(|(user, is_admin)| {
                    Ok(Account {
                        user: user?,
                        is_admin,
                    })
                })
                .transpose()
        })
        .await
    }

    async fn set_admin(&self, username: &Username, is_admin: bool) -> Result<bool, StoreError> {
        let username = username.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE users SET is_admin = ?1 WHERE username = ?2",
                    params![is_admin, username],
                )
                .map(|changed| changed > 0)
                .map_err(|e| storage_error(e, "setting the admin flag"))
        })
        .await
    }

    async fn admins(&self) -> Result<Vec<Uuid>, StoreError> {
        self.with_connection(move |connection| {
            connection
                .prepare("SELECT id FROM users WHERE is_admin = 1 ORDER BY id")
                .and_then(|mut statement| {
                    statement
                        .query_map([], |row| row.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|e| storage_error(e, "listing administrators"))?
                .iter()
                .map(|id| parse_id(id))
                .collect()
        })
        .await
    }

    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
        change_required: bool,
    ) -> Result<bool, StoreError> {
        let username = username.as_str().to_owned();
        let current = current.as_str().to_owned();
        let new = new.as_str().to_owned();
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE users SET password_hash = ?1, password_change_required = ?4
                     WHERE username = ?2 AND password_hash = ?3",
                    params![new, username, current, change_required],
                )
                .map(|changed| changed > 0)
                .map_err(|e| storage_error(e, "replacing a password hash"))
        })
        .await
    }
}

impl Sqlite {
    async fn find_one(
        &self,
        column: &'static str,
        value: String,
    ) -> Result<Option<User>, StoreError> {
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
pub(super) fn taken_fields(
    connection: &Connection,
    user: &User,
    skeleton: &Skeleton,
) -> Result<Vec<UniqueField>, StoreError> {
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
        return Err(StoreError::Internal(anyhow!(
            "constraint violation on a user id"
        )));
    }
    Ok(fields)
}

fn read_user(row: &Row<'_>) -> Result<User, StoreError> {
    let column = |index: usize| {
        row.get::<_, String>(index)
            .map_err(|e| storage_error(e, "reading a user row"))
    };
    Ok(User {
        id: parse_id(&column(0)?)?,
        username: Username::from_stored(column(1)?),
        email: Email::from_stored(column(2)?),
        created_at: parse_timestamp(&column(3)?)
            .map_err(|e| StoreError::Internal(anyhow!("stored created_at is invalid: {e}")))?,
    })
}
