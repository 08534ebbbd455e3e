//! The port every storage backend implements, and the paging types it speaks.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AttemptKey, Attempts, Expiry, PasswordHash, Skeleton, UniqueField, User, Username};

/// Computes a username's skeleton, for a backend that must fill in skeletons of users stored before it kept them.
pub type SkeletonOf = fn(&Username) -> Skeleton;

/// Stores users. Backends (SQLite, DynamoDB) are adapters behind this trait; nothing above it sees SQL or
/// DynamoDB attribute values.
///
/// Callers use `insert` and `upgrade` (on `dyn UserRepository`, and on each backend's own type), which compute
/// skeletons and hand them to `insert_with_skeleton` and `upgrade_with`. `insert` and `upgrade` are not methods of
/// this trait on purpose: every function links every method of it through the vtable, and the skeleton's
/// confusables table belongs only in the binaries that insert users (register, the admin command).
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Creates or upgrades the storage (SQLite migrations, DynamoDB tables), filling in with `skeleton_of` the
    /// skeletons of users stored before there were any. Running it twice is harmless.
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), RepoError>;

    /// Stores a new user whose username has `skeleton`. Either the whole user is stored, or nothing is and the
    /// error says why; a taken username or email, or a taken skeleton (a look-alike of a taken username), gives
    /// [`RepoError::Conflict`] naming every taken field.
    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), RepoError>;

    /// What logging in needs: the user's id and password hash (`None` when no password was ever set).
    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, RepoError>;

    /// The user with this id, if it still exists.
    async fn get(&self, id: Uuid) -> Result<Option<User>, RepoError>;

    /// The user with this username, if any.
    async fn find(&self, username: &Username) -> Result<Option<User>, RepoError>;

    /// Up to `size` users ordered by id (so by registration time), starting after `after`.
    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, RepoError>;

    /// Replaces a user's password hash. Answers whether the user exists.
    async fn set_password(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<bool, RepoError>;

    /// Deletes a user and everything stored for it. Answers whether the user existed.
    async fn delete(&self, username: &Username) -> Result<bool, RepoError>;

    /// Replaces a user's password hash only if it is still `current`, so that a hash upgraded at login never undoes
    /// a password set in between. Answers whether it replaced it.
    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, RepoError>;

    /// Counts one more login attempt under `key` at `now` and answers the counter as it stood just before: atomic, so
    /// that concurrent calls each see a different count. A counter past its expiry reads as none and starts afresh;
    /// `expiry` sets when the new count expires.
    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, RepoError>;

    /// Takes one attempt back from `key`'s counter, for an attempt that turned out to be no failure. A counter at
    /// zero, or gone, stays so.
    async fn release_login_attempt(&self, key: &AttemptKey) -> Result<(), RepoError>;

    /// Forgets every attempt counted under `key`.
    async fn clear_login_attempts(&self, key: &AttemptKey) -> Result<(), RepoError>;
}

impl dyn UserRepository + '_ {
    /// Stores a new user. Either the whole user is stored, or nothing is and the error says why; a taken username
    /// or email gives [`RepoError::Conflict`] naming every taken field, and so does a username that looks like a
    /// taken one (the same [`Skeleton`]).
    pub async fn insert(&self, user: &User, hash: Option<&PasswordHash>) -> Result<(), RepoError> {
        let skeleton = Skeleton::of(&user.username);
        self.insert_with_skeleton(user, &skeleton, hash).await
    }

    /// Creates or upgrades the storage (SQLite migrations, DynamoDB tables and skeletons of users stored before).
    /// Running it twice is harmless.
    pub async fn upgrade(&self) -> Result<(), RepoError> {
        self.upgrade_with(Skeleton::of).await
    }
}

/// What the repository knows about a user's login.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: Uuid,
    pub hash: Option<PasswordHash>,
}

/// Why the repository could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The username or email (or both) belongs to another user, or the username looks like another user's (the
    /// same [`super::Skeleton`]). Listed in field order, without duplicates.
    #[error("already taken: {}", .0.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
    Conflict(Vec<UniqueField>),
    /// The storage did not answer in time or refused for load; the client may retry later.
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: a bug or a broken store.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// One page of users, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub users: Vec<User>,
    /// Set while more users may follow.
    pub next: Option<Cursor>,
}

impl Page {
    /// A page from the up to `size + 1` users a backend read: one more than asked means another page follows, and
    /// the cursor to it is the last user shown.
    pub fn from_overfetched(mut users: Vec<User>, size: PageSize) -> Self {
        let next = if users.len() > size.get() {
            users.truncate(size.get());
            users.last().map(|user| Cursor::after(user.id))
        } else {
            None
        };
        Self { users, next }
    }
}

/// An opaque position in the listing: the id of the last user of the previous page.
///
/// Both backends list in id order, so one cursor format serves both, and any cursor that decodes names a valid
/// position (a user deleted since simply means the next page starts at the following id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(Uuid);

impl Cursor {
    /// The position just after `user_id`.
    pub fn after(user_id: Uuid) -> Self {
        Self(user_id)
    }

    /// The id the next page starts after.
    pub fn user_id(self) -> Uuid {
        self.0
    }

    /// The cursor as clients see it: URL-safe base64 of the id's 16 bytes.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// Reads a cursor a client sent back; anything that [`Cursor::encode`] did not produce is refused.
    pub fn decode(raw: &str) -> Result<Self, String> {
        const INVALID: &str = "is not a cursor this API issued";
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| INVALID.to_owned())?;
        let id = Uuid::from_slice(&bytes).map_err(|_| INVALID.to_owned())?;
        if id.get_version_num() != 7 {
            return Err(INVALID.to_owned());
        }
        Ok(Self(id))
    }
}

/// How many users a page holds: 1 to 1,000, 100 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u16);

impl PageSize {
    pub const MAX: u16 = 1000;
    pub const DEFAULT: Self = Self(100);

    /// Reads a `limit` query value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "must be a whole number from 1 to {}, not {raw:?}",
                Self::MAX
            )
        };
        let size: u16 = raw.parse().map_err(|_| invalid())?;
        Self::new(size).ok_or_else(invalid)
    }

    /// A page size, if it is within bounds.
    pub fn new(size: u16) -> Option<Self> {
        (1..=Self::MAX).contains(&size).then_some(Self(size))
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip() {
        let cursor = Cursor::after(Uuid::now_v7());
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn a_tampered_or_foreign_cursor_is_refused() {
        let good = Cursor::after(Uuid::now_v7()).encode();
        for bad in [
            "",
            "not base64!",
            &good[..good.len() - 2],
            &format!("{good}AA"),
            &URL_SAFE_NO_PAD.encode(
                uuid::Builder::from_random_bytes([7; 16])
                    .into_uuid()
                    .as_bytes(),
            ),
            &URL_SAFE_NO_PAD.encode(br#"{"pk":{"S":"USER#1"}}"#),
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn page_sizes_run_from_1_to_1000() {
        assert_eq!(PageSize::parse("1").unwrap().get(), 1);
        assert_eq!(PageSize::parse("1000").unwrap().get(), 1000);
        assert_eq!(PageSize::default().get(), 100);
        for bad in ["0", "1001", "-1", "ten", "", "1.5", "65536"] {
            assert!(PageSize::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
