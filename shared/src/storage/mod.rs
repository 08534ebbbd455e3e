//! Where users, login attempts and sessions are kept: the one error every port answers with, and the backends
//! behind the ports ([`crate::users::UserStore`], [`crate::login_attempts::LoginAttempts`],
//! [`crate::sessions::SessionStore`]), one adapter module per port.

pub mod dynamodb;
mod open;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use open::{OpenStorage, Storage};

use crate::users::UniqueField;

/// Why a store could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The username or email (or both) belongs to another user, or the username looks like another user's (the
    /// same [`crate::users::Skeleton`]). Listed in field order, without duplicates.
    #[error("already taken: {}", .0.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
    Conflict(Vec<UniqueField>),
    /// The storage did not answer in time or refused for load; the client may retry later.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: a bug or a broken store.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
