//! Opening the configured backend, and holding it as the ports the application uses.

use std::sync::Arc;

use anyhow::Context;

use super::dynamodb;
#[cfg(feature = "sqlite")]
use super::sqlite;
use crate::config::StorageConfig;
use crate::login_attempts::LoginAttempts;
use crate::sessions::SessionStore;
use crate::users::UserStore;

/// One backend, seen through each port it implements.
#[derive(Clone)]
pub struct Storage {
    pub users: Arc<dyn UserStore>,
    pub attempts: Arc<dyn LoginAttempts>,
    pub sessions: Arc<dyn SessionStore>,
}

impl Storage {
    /// Every port of one backend.
    pub fn of<B: UserStore + LoginAttempts + SessionStore + 'static>(backend: Arc<B>) -> Self {
        Self {
            users: backend.clone(),
            attempts: backend.clone(),
            sessions: backend,
        }
    }

    /// Opens the configured backend.
    pub async fn open(config: &StorageConfig) -> anyhow::Result<Self> {
        match config {
            #[cfg(feature = "sqlite")]
            StorageConfig::Sqlite { path } => Ok(Self::of(Arc::new(sqlite::Sqlite::open(path)?))),
            #[cfg(not(feature = "sqlite"))]
            StorageConfig::Sqlite { .. } => {
                anyhow::bail!(
                    "USERS_BACKEND=sqlite, but this build has no SQLite support (feature `sqlite`)"
                )
            }
            StorageConfig::DynamoDb { table, endpoint } => Ok(Self::of(Arc::new(
                dynamodb::DynamoDb::connect(table.as_str(), endpoint.as_deref())
                    .await
                    .context("USERS_BACKEND=dynamodb")?,
            ))),
        }
    }
}
