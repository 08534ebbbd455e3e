//! A backend that notes every call it passes on, so that a test can compare the storage work of two requests.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use vimcar::login_attempts::{AttemptKey, Attempts, Expiry, LoginAttempts};
use vimcar::sessions::{Session, SessionStore};
use vimcar::storage::StoreError;
use vimcar::users::{
    Account, Credentials, Cursor, ImportStore, Imported, Page, PageSize, PasswordHash, Skeleton,
    SkeletonOf, User, UserStore, Username,
};

/// Wraps a real repository; [`CountingUsers::take`] answers the names of the calls made since the last take.
pub struct CountingUsers {
    inner: crate::Users,
    calls: Mutex<Vec<&'static str>>,
    /// A password reset to make right after the next `credentials` read, as an operator's reset landing while a
    /// login checks the old password.
    reset: Mutex<Option<(Username, PasswordHash)>>,
}

impl CountingUsers {
    pub fn new(inner: crate::Users) -> Self {
        Self {
            inner,
            calls: Mutex::new(Vec::new()),
            reset: Mutex::new(None),
        }
    }

    /// After the next `credentials` read, sets `username`'s hash to `hash` and ends its sessions, as
    /// `vimcar-admin users set-password` does.
    pub fn reset_after_next_read(&self, username: Username, hash: PasswordHash) {
        *self.reset.lock().unwrap() = Some((username, hash));
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
impl UserStore for CountingUsers {
    async fn upgrade_with(&self, skeleton_of: SkeletonOf) -> Result<(), StoreError> {
        self.note("upgrade");
        self.inner.upgrade_with(skeleton_of).await
    }

    async fn insert_with_skeleton(
        &self,
        user: &User,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<(), StoreError> {
        self.note("insert");
        self.inner.insert_with_skeleton(user, skeleton, hash).await
    }

    async fn credentials(&self, username: &Username) -> Result<Option<Credentials>, StoreError> {
        self.note("credentials");
        let read = self.inner.credentials(username).await;
        let reset = self.reset.lock().unwrap().take();
        if let Some((username, hash)) = reset {
            assert!(self.inner.set_password(&username, &hash).await.unwrap());
            let user = self.inner.by_username(&username).await.unwrap().unwrap();
            self.inner.end_all(user.id).await.unwrap();
        }
        read
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.note("by_id");
        self.inner.by_id(id).await
    }

    async fn by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.note("by_username");
        self.inner.by_username(username).await
    }

    async fn list(&self, after: Option<Cursor>, size: PageSize) -> Result<Page, StoreError> {
        self.note("list");
        self.inner.list(after, size).await
    }

    async fn set_password(
        &self,
        username: &Username,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        self.note("set_password");
        self.inner.set_password(username, hash).await
    }

    async fn delete_with(
        &self,
        username: &Username,
        attempts: &[AttemptKey],
    ) -> Result<bool, StoreError> {
        self.note("delete");
        self.inner.delete_with(username, attempts).await
    }

    async fn change_password(
        &self,
        username: &Username,
        current: Option<&PasswordHash>,
        new: &PasswordHash,
    ) -> Result<Option<usize>, StoreError> {
        self.note("change_password");
        self.inner.change_password(username, current, new).await
    }

    async fn account(&self, id: Uuid) -> Result<Option<Account>, StoreError> {
        self.note("account");
        self.inner.account(id).await
    }

    async fn set_admin(&self, username: &Username, is_admin: bool) -> Result<bool, StoreError> {
        self.note("set_admin");
        self.inner.set_admin(username, is_admin).await
    }

    async fn admins(&self) -> Result<Vec<Uuid>, StoreError> {
        self.note("admins");
        self.inner.admins().await
    }

    async fn replace_password_hash(
        &self,
        username: &Username,
        current: &PasswordHash,
        new: &PasswordHash,
        change_required: bool,
    ) -> Result<bool, StoreError> {
        self.note("replace_password_hash");
        self.inner
            .replace_password_hash(username, current, new, change_required)
            .await
    }
}

#[async_trait]
impl LoginAttempts for CountingUsers {
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, StoreError> {
        self.note("reserve");
        self.inner.reserve(key, now, expiry).await
    }

    async fn release(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.note("release");
        self.inner.release(key).await
    }

    async fn clear(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.note("clear");
        self.inner.clear(key).await
    }
}

#[async_trait]
impl SessionStore for CountingUsers {
    async fn create(&self, session: &Session) -> Result<bool, StoreError> {
        self.note("create_session");
        self.inner.create(session).await
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        self.note("session");
        self.inner.session(id).await
    }

    async fn rotate(
        &self,
        id: Uuid,
        from: u64,
        at: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.note("rotate");
        self.inner.rotate(id, from, at, idle_expires_at).await
    }

    async fn end(&self, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        self.note("end_session");
        self.inner.end(user_id, id).await
    }

    async fn end_all(&self, user_id: Uuid) -> Result<usize, StoreError> {
        self.note("end_all_sessions");
        self.inner.end_all(user_id).await
    }

    async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<Session>, StoreError> {
        self.note("sessions_of");
        self.inner.sessions_of(user_id).await
    }
}

#[async_trait]
impl ImportStore for CountingUsers {
    async fn import_with_skeleton(
        &self,
        account: &Account,
        skeleton: &Skeleton,
        hash: Option<&PasswordHash>,
    ) -> Result<Imported, StoreError> {
        self.note("import");
        self.inner
            .import_with_skeleton(account, skeleton, hash)
            .await
    }

    async fn imported_before(&self, id: Uuid) -> Result<bool, StoreError> {
        self.note("imported_before");
        self.inner.imported_before(id).await
    }
}
