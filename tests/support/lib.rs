//! Shared helpers for the API, storage, deployment and end-to-end tests.

use chrono::{Duration, Utc};
use vimcar::config::{Config, JwtAlgorithm, KeysAt, StorageConfig, TokenConfig};
use vimcar::keys::{KeyRecord, KeySet};
use vimcar::users::{Email, User, Username};

pub mod app;
pub mod counting;
pub mod dynamodb;
pub mod faults;
pub mod imports;
pub mod requests;
pub mod server;
pub mod signing;

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
        metrics_namespace: vimcar::events::DEFAULT_NAMESPACE.to_owned(),
    }
}

/// The configuration of in-process tests in ES256 mode: tokens signed with `keys` (given whole, as
/// `KeysAt::Inline`), and with `accept_hs256` (`JWT_ACCEPT_HS256=true`) HS256 tokens under [`SECRET`] still
/// accepted. The HMAC secret stays [`SECRET`]: refresh tokens and the login counters' keys use it in either mode.
pub fn es256_config(keys: KeySet, accept_hs256: bool) -> Config {
    Config {
        tokens: TokenConfig {
            algorithm: JwtAlgorithm::Es256,
            accept_hs256,
            keys: Some(KeysAt::Inline(keys)),
            ..TokenConfig::hs256(SECRET)
        },
        ..config()
    }
}

/// A key set as rotations leave it, one key of each status now, oldest first: retired (an hour ago), previous
/// (superseded an hour ago, trusted for another hour), current (signing since an hour ago) and standby (signing in
/// an hour).
pub fn rotated_keys() -> KeySet {
    let now = Utc::now();
    let hours = Duration::hours;
    let key = |activates: i64, retires: Option<i64>| KeyRecord {
        retires_at: retires.map(|at| now + hours(at)),
        ..KeyRecord::generate(now + hours(activates.min(0)), now + hours(activates))
    };
    KeySet {
        keys: vec![
            key(-3, Some(-1)),
            key(-2, Some(1)),
            key(-1, None),
            key(1, None),
        ],
    }
}

/// A user named `name`, with the email `name@example.com`.
pub fn user(name: &str) -> User {
    User::new(
        Username::parse(name).expect("a valid username"),
        Email::parse(&format!("{name}@example.com")).expect("a valid email"),
    )
}
