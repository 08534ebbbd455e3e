//! Shared helpers for the API, storage, deployment and end-to-end tests.

use vimcar::config::{Config, StorageConfig, TokenConfig};
use vimcar::users::{Email, User, Username};

pub mod app;
pub mod counting;
pub mod dynamodb;
pub mod faults;
pub mod imports;
pub mod requests;
pub mod server;

pub use app::{Backend, TestApp, TestStore, TokenPair, Users};

/// The signing secret every in-process test uses.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
/// A password that passes the strength rules.
pub const STRONG_PASSWORD: &str = "correct horse battery staple";

/// The configuration of in-process tests: the test secret and the default token lifetime.
pub fn config() -> Config {
    Config {
        storage: StorageConfig::Sqlite {
            path: ":memory:".into(),
        },
        tokens: TokenConfig::hs256(SECRET),
        sessions: vimcar::config::DEFAULT_SESSION_POLICY,
        listing: vimcar::config::ListingPolicy::Everyone,
    }
}

/// A user named `name`, with the email `name@example.com`.
pub fn user(name: &str) -> User {
    User::new(
        Username::parse(name).expect("a valid username"),
        Email::parse(&format!("{name}@example.com")).expect("a valid email"),
    )
}
