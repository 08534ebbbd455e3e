//! A repository that notes every call it passes on, so that a test can compare the storage work of two requests.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use vimcar::users::{
    AttemptKey, Attempts, Credentials, Cursor, Expiry, Page, PageSize, PasswordHash, RepoError,
    Skeleton, SkeletonOf, User, UserRepository, Username,
};

/// Wraps a real repository; [`CountingUsers::take`] answers the names of the calls made since the last take.
pub struct CountingUsers {
    inner: crate::Users,
    calls: Mutex<Vec<&'static str>>,
}

impl CountingUsers {
    pub fn new(inner: crate::Users) -> Self {
        Self {
            inner,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The calls made since the last take, in order.
    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn note(&self, call: &'static str) {
        self.calls.lock().unwrap().push(call);
    }
}

#[async_trait]
impl UserRepository for CountingUsers {
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), RepoError> {
        self.note("upgrade");
        self.inner.upgrade_with(skeleton_of).await
    }

    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), RepoError> {
        self.note("insert");
        self.inner.insert_with_skeleton(user, skeleton, hash).await
    }

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, RepoError> {
        self.note("credentials");
        self.inner.credentials(username).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        self.note("get");
        self.inner.get(id).await
    }

    async fn find(&self, username: &Username) -> Result<Option<User>, RepoError> {
        self.note("find");
        self.inner.find(username).await
    }

    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, RepoError> {
        self.note("list");
        self.inner.list(after, size).await
    }

    async fn set_password(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<bool, RepoError> {
        self.note("set_password");
        self.inner.set_password(username, hash).await
    }

    async fn delete(&self, username: &Username) -> Result<bool, RepoError> {
        self.note("delete");
        self.inner.delete(username).await
    }

    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, RepoError> {
        self.note("replace_password_hash");
        self.inner
            .replace_password_hash(username, current, new)
            .await
    }

    async fn reserve_login_attempt(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, RepoError> {
        self.note("reserve_login_attempt");
        self.inner.reserve_login_attempt(key, now, expiry).await
    }

    async fn release_login_attempt(&self, key: &AttemptKey) -> Result<(), RepoError> {
        self.note("release_login_attempt");
        self.inner.release_login_attempt(key).await
    }

    async fn clear_login_attempts(&self, key: &AttemptKey) -> Result<(), RepoError> {
        self.note("clear_login_attempts");
        self.inner.clear_login_attempts(key).await
    }
}
