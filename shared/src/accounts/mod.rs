//! The use cases: what a user (or an administrator) can do with an account, each a plain async function over the
//! ports it needs. The Lambda handlers and `vimcar-admin` are adapters that call them; a use case never sees a
//! request or a response.

mod authenticate;
mod log_in;
mod register;

pub use authenticate::authenticate;
pub use log_in::{LogIn, log_in};
pub use register::register;

use crate::storage::StoreError;
use crate::users::UniqueField;

/// Why a use case did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The username or email (or both) belongs to another user, or the username looks like another user's.
    #[error("already taken: {}", .0.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
    Taken(Vec<UniqueField>),
    /// A username and password that do not match. Says nothing about which part was wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts to log in to this account: retry after this many seconds.
    #[error("too many attempts; retry after {0} s")]
    Throttled(u64),
    /// The token is expired or invalid, or its user is gone.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Storage is down, slow or throttled; the caller may retry.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or a broken dependency.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(fields) => Self::Taken(fields),
            StoreError::Unavailable(cause) => Self::Unavailable(cause),
            StoreError::Internal(cause) => Self::Internal(cause),
        }
    }
}
