//! The user store: the port every storage backend implements for users.

use std::future::Future;

use async_trait::async_trait;
use uuid::Uuid;

use super::{Account, Cursor, Page, PageSize, PasswordHash, Skeleton, User, Username};
use crate::login_attempts::AttemptKey;
use crate::storage::StoreError;

/// Computes a username's skeleton, for a backend that must fill in skeletons of users stored before it kept them.
pub type SkeletonOf = fn(&Username) -> Skeleton;

/// Stores users. Backends (SQLite, DynamoDB) are adapters behind this trait; nothing above it sees SQL or
/// DynamoDB attribute values.
///
/// Callers use `insert` and `upgrade` ([`UserStoreExt`]), which compute skeletons and hand them to
/// `insert_with_skeleton` and `upgrade_with`. `insert` and `upgrade` are not methods of this trait on purpose: every
/// function links every method of it through the vtable, and the skeleton's confusables table belongs only in the
/// binaries that insert users (register, the admin command).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates or upgrades the storage (SQLite migrations, DynamoDB tables), filling in with `skeleton_of` the
    /// skeletons of users stored before there were any. Running it twice is harmless.
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), StoreError>;

    /// Stores a new user whose username has `skeleton`. Either the whole user is stored, or nothing is and the
    /// error says why; a taken username or email, or a taken skeleton (a look-alike of a taken username), gives
    /// [`StoreError::Conflict`] naming every taken field.
    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), StoreError>;

    /// What logging in needs: the user's id and password hash (`None` when no password was ever set).
    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, StoreError>;

    /// The user with this id, if it still exists.
    async fn by_id(&self, id: Uuid) -> Result<Option<User>, StoreError>;

    /// The user with this id and whether it is an administrator, if it still exists: one read, strongly
    /// consistent, on every authenticated request.
    async fn account(&self, id: Uuid) -> Result<Option<Account>, StoreError>;

    /// Makes the user an administrator, or not. Answers whether the user exists.
    async fn set_admin(&self, username: &Username, is_admin: bool) -> Result<bool, StoreError>;

    /// The ids of every administrator (an operator's listing; it may read the whole table).
    async fn admins(&self) -> Result<Vec<Uuid>, StoreError>;

    /// The user with this username, if any.
    async fn by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// Up to `size` users ordered by id (so by registration time), starting after `after`.
    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, StoreError>;

    /// Replaces a user's password hash (and clears [`Credentials::password_change_required`]). Answers whether the
    /// user exists.
    async fn set_password(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError>;

    /// Deletes a user and everything stored for it (its reservations and sessions), in one atomic step. Answers
    /// whether the user existed.
    async fn delete(&self, username: &Username) -> Result<bool, StoreError> {
        self.delete_with(username, &[]).await
    }

    /// Deletes a user as [`delete`](Self::delete) does, and in the same atomic step the login-attempt counters
    /// under `attempts` (its throttle records, which only the holder of the signing secret can name).
    async fn delete_with(
        &self,
        username: &Username,
        attempts: &[AttemptKey],
    ) -> Result<bool, StoreError>;

    /// Replaces a user's password hash only if it is still `current`, so that a hash upgraded at login never undoes
    /// a password set in between, and in the same write records whether the password must be changed (an imported
    /// password that today's rules refuse). Answers whether it replaced it.
    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
        change_required: bool,
    ) -> Result<bool, StoreError>;

    /// A password change: replaces `username`'s hash with `new` (only if it is still `current`, when given) and ends
    /// every session of the name's holder, in one atomic step, so that no failure leaves the new password with the
    /// old sessions. Answers how many sessions it ended, or `None` when it replaced nothing (the hash was no longer
    /// `current`, or there is no such user): then nothing is written. A hash is salted, so `current` still being
    /// there also means the name still belongs to the user who proved it. Without `current` (an operator's reset),
    /// any hash is replaced. Either way [`Credentials::password_change_required`] is cleared.
    async fn change_password(
        &self,
        username: &Username,
        current: Option<&PasswordHash>,
        new: &PasswordHash,
    ) -> Result<Option<usize>, StoreError>;
}

/// `insert` and `upgrade`, for every [`UserStore`] (a backend's own type or `dyn UserStore`). Generic rather than
/// methods of the trait, so that only the binaries that call them link the skeleton's confusables table.
pub trait UserStoreExt: UserStore {
    /// Stores a new user. Either the whole user is stored, or nothing is and the error says why; a taken username
    /// or email gives [`StoreError::Conflict`] naming every taken field, and so does a username that looks like a
    /// taken one (the same [`Skeleton`]).
    fn insert(
        &self,
        user: &User,
        hash: Option<&PasswordHash>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let skeleton = Skeleton::of(&user.username);
            self.insert_with_skeleton(user, &skeleton, hash).await
        }
    }

    /// Creates or upgrades the storage (SQLite migrations, DynamoDB tables and skeletons of users stored before).
    /// Running it twice is harmless.
    fn upgrade(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.upgrade_with(Skeleton::of)
    }
}

impl<T: UserStore + ?Sized> UserStoreExt for T {}

/// What the repository knows about a user's login.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: Uuid,
    pub hash: Option<PasswordHash>,
    /// The password works but fails today's rules (an imported one, found out at its first login): every login
    /// says so until a new password is set, which clears it.
    pub password_change_required: bool,
}
