//! What a function builds once at start-up and shares across every request it serves.

use std::sync::Arc;

use crate::clock::Clock;
use secrecy::SecretString;

use crate::config::{Config, ListingPolicy};
use crate::events::{Events, Stdout};
use crate::keys::{self, KeyUse, Material};
use crate::login_attempts::LoginAttempts;
use crate::login_attempts::throttle::LoginThrottle;
use crate::passwords::PasswordHasher;
use crate::sessions::{RefreshKey, SessionPolicy, SessionStore};
use crate::storage::Storage;
use crate::tokens::Tokens;
use crate::users::UserStore;

/// The application's long-lived parts: the storage ports (and their connections or SDK client), the hasher, the
/// token keys, the refresh-token key and session timeouts, the login throttle's keys, the clock, and where security
/// events go.
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
    /// Security events and their metrics: standard output, unless a test collects them (see [`crate::events`]).
    pub events: Events,
}

impl AppState {
    /// Reads the configuration from the environment and builds everything from it.
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        Self::new(&config).await
    }

    /// Reads the configuration from the environment and builds what `function` uses: the storage its `storage`
    /// opens, and the signing material its `keys` names, read from wherever the configuration says.
    pub async fn from_env_for(function: &crate::routes::Function) -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        let storage = (function.storage)(&config.storage).await?;
        Self::build(&config, storage, function.keys).await
    }

    /// Builds the state for `config`.
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        let storage = Storage::open(&config.storage).await?;
        Self::build(config, storage, KeyUse::ALL).await
    }

    /// Builds the state around existing storage (tests share one between states), with every key, which must be in
    /// the configuration itself (see [`keys::load_local`]).
    pub fn with_storage(config: &Config, storage: Storage) -> anyhow::Result<Self> {
        Self::assemble(
            config,
            storage,
            keys::load_local(&config.tokens, KeyUse::ALL)?,
        )
    }

    /// Builds the state around `storage`, with the signing material `uses` names, read from wherever the
    /// configuration says (Secrets Manager included).
    pub async fn build(config: &Config, storage: Storage, uses: KeyUse) -> anyhow::Result<Self> {
        Self::assemble(config, storage, keys::load(&config.tokens, uses).await?)
    }

    fn assemble(config: &Config, storage: Storage, material: Material) -> anyhow::Result<Self> {
        let Material { secret, tokens } = material;
        // A function that uses no HMAC secret never checks a refresh token or names a login counter; a random key
        // makes sure nothing it could make of them is valid anywhere.
        let secret = secret.unwrap_or_else(|| {
            SecretString::from(
                rand::random::<[u8; 32]>()
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect::<String>(),
            )
        });
        Ok(Self {
            users: storage.users,
            attempts: storage.attempts,
            sessions: storage.sessions,
            hasher: PasswordHasher::new()?,
            tokens,
            refresh_key: RefreshKey::derive(&secret),
            session_policy: config.sessions,
            listing: config.listing,
            throttle: LoginThrottle::new(&secret),
            clock: Clock::system(),
            events: Events::new(&config.metrics_namespace, Arc::new(Stdout)),
        })
    }
}
