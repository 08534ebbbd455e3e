//! Shared helpers for the API, repository and end-to-end tests.

use std::sync::Arc;

use vimcar::AppState;
use vimcar::config::{Config, StorageConfig, TokenConfig};
use vimcar::login_attempts::LoginAttempts;
use vimcar::storage::Storage;
use vimcar::users::{Email, User, UserStore, Username};

pub mod counting;
pub mod dynamodb;
pub mod faults;
pub mod requests;
pub mod server;

/// The signing secret every in-process test uses.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
/// A password that passes the strength rules.
pub const STRONG_PASSWORD: &str = "correct horse battery staple";

/// A storage backend seen through both its ports, as the tests hold one.
pub trait Backend: UserStore + LoginAttempts {}

impl<T: UserStore + LoginAttempts + ?Sized> Backend for T {}

/// A fresh, empty SQLite backend in memory.
pub async fn sqlite_users() -> Arc<dyn Backend> {
    Arc::new(vimcar::storage::sqlite::Sqlite::in_memory().expect("in-memory SQLite opens"))
}

/// A fresh, empty DynamoDB backend: a new table on the test server. Panics when there is no test server.
pub async fn dynamodb_users() -> Arc<dyn Backend> {
    Arc::new(
        dynamodb::TestTable::create(&dynamodb::endpoint())
            .await
            .users,
    )
}

/// The configuration of in-process tests: the test secret and the default token lifetime.
pub fn config() -> Config {
    Config {
        storage: StorageConfig::Sqlite {
            path: ":memory:".into(),
        },
        tokens: TokenConfig {
            secret: SECRET.to_owned().into(),
            ttl: vimcar::config::DEFAULT_TOKEN_TTL,
        },
    }
}

/// An application over `backend`, as a function builds it at start-up.
pub fn app(backend: Arc<dyn Backend>) -> AppState {
    app_with(&config(), backend)
}

/// An application over `backend` with this configuration.
pub fn app_with(config: &Config, backend: Arc<dyn Backend>) -> AppState {
    let storage = Storage {
        users: backend.clone(),
        attempts: backend,
    };
    AppState::with_storage(config, storage).expect("the state builds")
}

/// A user named `name`, with the email `name@example.com`.
pub fn user(name: &str) -> User {
    User::new(
        Username::parse(name).expect("a valid username"),
        Email::parse(&format!("{name}@example.com")).expect("a valid email"),
    )
}
