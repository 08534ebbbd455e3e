//! What a function builds once at start-up and shares across every request it serves.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{Config, ListingPolicy};
use crate::login_attempts::LoginAttempts;
use crate::login_attempts::throttle::LoginThrottle;
use crate::passwords::PasswordHasher;
use crate::sessions::{RefreshKey, SessionPolicy, SessionStore};
use crate::storage::Storage;
use crate::tokens::Tokens;
use crate::users::UserStore;

/// The application's long-lived parts: the storage ports (and their connections or SDK client), the hasher, the
/// token keys, the refresh-token key and session timeouts, the login throttle's keys and the clock.
#[derive(Clone)]
pub struct AppState {
    pub users: Arc<dyn UserStore>,
    pub attempts: Arc<dyn LoginAttempts>,
    pub sessions: Arc<dyn SessionStore>,
    pub hasher: PasswordHasher,
    pub tokens: Tokens,
    pub refresh_key: RefreshKey,
    pub session_policy: SessionPolicy,
    /// Who may list whom.
    pub listing: ListingPolicy,
    pub throttle: LoginThrottle,
    pub clock: Clock,
}

impl AppState {
    /// Reads the configuration from the environment and builds everything from it.
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        Self::new(&config).await
    }

    /// Reads the configuration from the environment and builds the state around the storage `open` makes of it.
    pub async fn from_env_with(open: crate::storage::OpenStorage) -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        Self::with_storage(&config, open(&config.storage).await?)
    }

    /// Builds the state for `config`.
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        Self::with_storage(config, Storage::open(&config.storage).await?)
    }

    /// Builds the state around existing storage (tests share one between states).
    pub fn with_storage(config: &Config, storage: Storage) -> anyhow::Result<Self> {
        Ok(Self {
            users: storage.users,
            attempts: storage.attempts,
            sessions: storage.sessions,
            hasher: PasswordHasher::new()?,
            tokens: Tokens::new(&config.tokens),
            refresh_key: RefreshKey::derive(&config.tokens.secret),
            session_policy: config.sessions,
            listing: config.listing,
            throttle: LoginThrottle::new(&config.tokens.secret),
            clock: Clock::system(),
        })
    }
}
