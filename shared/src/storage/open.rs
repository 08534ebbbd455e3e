//! Opening the configured backend, and holding it as the ports the application uses.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use super::dynamodb;
#[cfg(feature = "sqlite")]
use super::sqlite;
use crate::config::StorageConfig;
use crate::login_attempts::{AttemptKey, Attempts, Expiry, LoginAttempts};
use crate::sessions::{Session, SessionStore};
use crate::users::UserStore;

/// Opens the storage a function uses: [`Storage::open`] (every port) or [`Storage::open_users_only`]; each
/// function's entry in the registry (`crate::routes`) names one.
pub type OpenStorage =
    for<'a> fn(
        &'a StorageConfig,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Storage>> + Send + 'a>>;

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

    /// One backend's user store alone, for a function that neither logs in nor checks a session (register): the
    /// other ports answer an internal error if called. Every port held is a vtable whose every method the binary
    /// links, so leaving out the ones a function never calls keeps their code out of its bootstrap.
    pub fn users_only<B: UserStore + 'static>(backend: Arc<B>) -> Self {
        Self {
            users: backend,
            attempts: Arc::new(NotHere),
            sessions: Arc::new(NotHere),
        }
    }

    /// Opens the configured backend with only its user store (see [`Storage::users_only`]).
    pub async fn open_users_only(config: &StorageConfig) -> anyhow::Result<Self> {
        match config {
            #[cfg(feature = "sqlite")]
            StorageConfig::Sqlite { path } => {
                Ok(Self::users_only(Arc::new(sqlite::Sqlite::open(path)?)))
            }
            #[cfg(not(feature = "sqlite"))]
            StorageConfig::Sqlite { .. } => Err(no_sqlite()),
            StorageConfig::DynamoDb { table, endpoint } => Ok(Self::users_only(Arc::new(
                dynamodb::DynamoDb::connect(table.as_str(), endpoint.as_deref())
                    .await
                    .context("USERS_BACKEND=dynamodb")?,
            ))),
        }
    }

    /// Opens the configured backend.
    pub async fn open(config: &StorageConfig) -> anyhow::Result<Self> {
        match config {
            #[cfg(feature = "sqlite")]
            StorageConfig::Sqlite { path } => Ok(Self::of(Arc::new(sqlite::Sqlite::open(path)?))),
            #[cfg(not(feature = "sqlite"))]
            StorageConfig::Sqlite { .. } => Err(no_sqlite()),
            StorageConfig::DynamoDb { table, endpoint } => Ok(Self::of(Arc::new(
                dynamodb::DynamoDb::connect(table.as_str(), endpoint.as_deref())
                    .await
                    .context("USERS_BACKEND=dynamodb")?,
            ))),
        }
    }
}

#[cfg(not(feature = "sqlite"))]
fn no_sqlite() -> anyhow::Error {
    anyhow::anyhow!("USERS_BACKEND=sqlite, but this build has no SQLite support (feature `sqlite`)")
}

/// The port a function was built without: any call is a bug in the registry (shared/src/routes.rs).
struct NotHere;

fn not_here<T>(port: &str) -> Result<T, StoreError> {
    Err(StoreError::Internal(anyhow::anyhow!(
        "this function was built without the {port} port (see Function::storage in shared/src/routes.rs)"
    )))
}

#[async_trait]
impl LoginAttempts for NotHere {
    async fn reserve(
        &self,
        _: &AttemptKey,
        _: DateTime<Utc>,
        _: Expiry,
    ) -> Result<Attempts, StoreError> {
        not_here("login attempts")
    }

    async fn release(&self, _: &AttemptKey) -> Result<(), StoreError> {
        not_here("login attempts")
    }

    async fn clear(&self, _: &AttemptKey) -> Result<(), StoreError> {
        not_here("login attempts")
    }
}

#[async_trait]
impl SessionStore for NotHere {
    async fn create(&self, _: &Session) -> Result<bool, StoreError> {
        not_here("sessions")
    }

    async fn session(&self, _: Uuid) -> Result<Option<Session>, StoreError> {
        not_here("sessions")
    }

    async fn rotate(
        &self,
        _: Uuid,
        _: u64,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        not_here("sessions")
    }

    async fn end(&self, _: Uuid, _: Uuid) -> Result<(), StoreError> {
        not_here("sessions")
    }

    async fn end_all(&self, _: Uuid) -> Result<usize, StoreError> {
        not_here("sessions")
    }

    async fn sessions_of(&self, _: Uuid) -> Result<Vec<Session>, StoreError> {
        not_here("sessions")
    }
}
