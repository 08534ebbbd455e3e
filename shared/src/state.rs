//! What a function builds once at start-up and shares across every request it serves.

use std::sync::Arc;

use anyhow::Context;

use crate::auth::throttle::LoginThrottle;
use crate::auth::{PasswordHasher, Tokens};
use crate::clock::Clock;
use crate::config::{Config, StorageConfig};
use crate::users::UserRepository;

/// The application's long-lived parts: the repository (and its connections or SDK client), the hasher, the token
/// keys, the login throttle's keys and the clock.
#[derive(Clone)]
pub struct AppState {
    pub users: Arc<dyn UserRepository>,
    pub hasher: PasswordHasher,
    pub tokens: Tokens,
    pub throttle: LoginThrottle,
    pub clock: Clock,
}

impl AppState {
    /// Reads the configuration from the environment and builds everything from it.
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        Self::new(&config).await
    }

    /// Builds the state for `config`.
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        Self::with_repository(config, open_repository(&config.storage).await?)
    }

    /// Builds the state around an existing repository (tests share one between states).
    pub fn with_repository(
        config: &Config,
        users: Arc<dyn UserRepository>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            users,
            hasher: PasswordHasher::new()?,
            tokens: Tokens::new(&config.tokens),
            throttle: LoginThrottle::new(&config.tokens.secret),
            clock: Clock::system(),
        })
    }
}

/// Opens the configured backend.
pub async fn open_repository(storage: &StorageConfig) -> anyhow::Result<Arc<dyn UserRepository>> {
    match storage {
        #[cfg(feature = "sqlite")]
        StorageConfig::Sqlite { path } => {
            Ok(Arc::new(crate::users::sqlite::SqliteUsers::open(path)?))
        }
        #[cfg(not(feature = "sqlite"))]
        StorageConfig::Sqlite { .. } => {
            anyhow::bail!(
                "USERS_BACKEND=sqlite, but this build has no SQLite support (feature `sqlite`)"
            )
        }
        StorageConfig::DynamoDb { table, endpoint } => Ok(Arc::new(
            crate::users::dynamodb::DynamoUsers::connect(table.as_str(), endpoint.as_deref())
                .await
                .context("USERS_BACKEND=dynamodb")?,
        )),
    }
}
