//! The use cases: what a user (or an administrator) can do with an account, each a plain async function over the
//! ports it needs. The Lambda handlers and `vimcar-admin` are adapters that call them; a use case never sees a
//! request or a response.

mod authenticate;
mod deletion;
mod directory;
mod log_in;
mod password_change;
mod register;
mod sessions;

pub use authenticate::{Caller, authenticate};
pub use deletion::delete_account;
pub use directory::{Sight, list_users, listing_sight, look_up};
pub use log_in::{LogIn, LoggedIn, log_in};
pub use password_change::{PasswordChange, change_password};
pub use register::register;
pub use sessions::{LogOut, Scope, TokenPair, log_out, refresh};

/// Why a session answers [`Error::SessionEnded`]; each tells the client to log in again.
const SESSION_ENDED: &str = "The session has ended; log in again";
const SESSION_EXPIRED: &str = "The session has expired; log in again";
pub(crate) const REFRESH_TOKEN_REUSED: &str = "The refresh token was used before, so the session has been ended for every holder; log in again";

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
    /// The token is expired or invalid.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// The token's session is over (logged out, expired, ended for reuse of a refresh token, or its user deleted):
    /// no refresh brings it back; the client must log in again.
    #[error("session ended: {0}")]
    SessionEnded(&'static str),
    /// A refresh token replaced before was used again (someone holds a copy): the session of this user has been
    /// ended for every holder. The client is told as for [`Error::SessionEnded`].
    #[error("session ended: a refresh token was reused")]
    RefreshTokenReused(uuid::Uuid),
    /// Fields that break their rules (a new password too weak, or the same as the current one).
    #[error("invalid fields")]
    Invalid(Vec<crate::users::Invalid>),
    /// No user has this id.
    #[error("not found")]
    NotFound,
    /// The caller may not do this (the listing policy says so).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
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
