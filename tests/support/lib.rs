//! Shared helpers for the API, repository and end-to-end tests.

use std::sync::Arc;

use vimcar::AppState;
use vimcar::config::{Config, StorageConfig, TokenConfig};
use vimcar::users::{Email, User, UserRepository, Username};

pub mod counting;
pub mod dynamodb;
pub mod faults;
pub mod requests;
pub mod server;

/// The signing secret every in-process test uses.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
/// A password that passes the strength rules.
pub const STRONG_PASSWORD: &str = "correct horse battery staple";

/// A fresh, empty SQLite repository in memory.
pub async fn sqlite_users() -> Arc<dyn UserRepository> {
    Arc::new(vimcar::users::sqlite::SqliteUsers::in_memory().expect("in-memory SQLite opens"))
}

/// A fresh, empty DynamoDB repository: a new table on the test server. Panics when there is no test server.
pub async fn dynamodb_users() -> Arc<dyn UserRepository> {
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

/// An application over `users`, as a function builds it at start-up.
pub fn app(users: Arc<dyn UserRepository>) -> AppState {
    AppState::with_repository(&config(), users).expect("the state builds")
}

/// A user named `name`, with the email `name@example.com`.
pub fn user(name: &str) -> User {
    User::new(
        Username::parse(name).expect("a valid username"),
        Email::parse(&format!("{name}@example.com")).expect("a valid email"),
    )
}
