//! Sessions: what a login starts and a refresh token continues, until logout, reuse of a spent refresh token,
//! expiry or the user's deletion ends it.
//!
//! A session is one stored row or item: its id (the `sid` of every access token issued in it), its user, and the
//! generation of its current refresh token. A refresh token is an HMAC over (user, session, generation) under a key
//! only the functions hold ([`refresh_token`]), so what storage holds can neither mint nor replay one. Each refresh
//! moves the generation on with one conditional write; presenting an older generation than the current one is reuse
//! and ends the session, except just after a rotation ([`SessionPolicy::grace`]), when it is two tabs refreshing at
//! once and both get the current token.

pub mod refresh_token;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::storage::StoreError;

pub use refresh_token::{RefreshKey, RefreshToken};

/// Live sessions one user may hold; a login beyond this ends the user's oldest session. It bounds what a user's
/// deletion or global logout ends in one DynamoDB transaction (100 items at most, with the user's own).
pub const MAX_SESSIONS_PER_USER: usize = 25;

/// One session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// A UUIDv7: sessions sort by the time they began.
    pub id: Uuid,
    pub user_id: Uuid,
    /// The generation of the current refresh token; each refresh adds one.
    pub generation: u64,
    pub created_at: DateTime<Utc>,
    /// When the current refresh token was issued: the last time the session was used to log in or refresh.
    pub refreshed_at: DateTime<Utc>,
    /// When it ends unless refreshed first (idle timeout), never later than `expires_at`.
    pub idle_expires_at: DateTime<Utc>,
    /// When it ends whatever happens (absolute timeout).
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// A session of `user_id` beginning `now`, under `policy`'s timeouts.
    pub fn begin(user_id: Uuid, now: DateTime<Utc>, policy: &SessionPolicy) -> Self {
        let expires_at = now + delta(policy.absolute);
        Self {
            id: Uuid::now_v7(),
            user_id,
            generation: 0,
            created_at: now,
            refreshed_at: now,
            idle_expires_at: (now + delta(policy.idle)).min(expires_at),
            expires_at,
        }
    }

    /// Whether the session is still open at `now`. Storage may keep an expired session a while (DynamoDB's TTL
    /// deletes late); this is what decides.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.idle_expires_at
    }

    /// When a session refreshed at `now` would end unless refreshed again.
    pub fn idle_expiry_after(&self, now: DateTime<Utc>, policy: &SessionPolicy) -> DateTime<Utc> {
        (now + delta(policy.idle)).min(self.expires_at)
    }

    /// The refresh token of the current generation.
    pub fn current_token(&self) -> RefreshToken {
        RefreshToken {
            user_id: self.user_id,
            session_id: self.id,
            generation: self.generation,
        }
    }
}

/// How long sessions live, and how long a just-rotated refresh token still counts as current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused (not refreshed) this long ends.
    pub idle: Duration,
    /// A session ends this long after its login, however often it is refreshed.
    pub absolute: Duration,
    /// A refresh token replaced less than this long ago still refreshes (to the token that replaced it) instead
    /// of counting as reuse: two tabs refreshing the same token at once both succeed.
    pub grace: Duration,
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl SessionPolicy {
    /// Whether a token replaced at `replaced_at` is still inside the grace window at `now`.
    pub fn in_grace(&self, replaced_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - replaced_at <= delta(self.grace)
    }
}

/// Stores sessions. Backends (SQLite, DynamoDB) are adapters behind this trait.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session, ending the user's oldest ones beyond [`MAX_SESSIONS_PER_USER`] and, on SQLite,
    /// pruning expired sessions. Answers `false`, storing nothing, when the user no longer exists.
    async fn create(&self, session: &Session) -> Result<bool, StoreError>;

    /// The session with this id, if it is still stored (it may have expired: see [`Session::is_live`]).
    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError>;

    /// Moves the session from generation `from` to `from + 1`, refreshed at `at` and idle until
    /// `idle_expires_at`, only if it is still at `from`: one conditional write, so of two racing refreshes one
    /// wins. Answers whether it moved it.
    async fn rotate(
        &self,
        id: Uuid,
        from: u64,
        at: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Ends one session of `user_id`. Ending one that has already ended does nothing.
    async fn end(&self, user_id: Uuid, id: Uuid) -> Result<(), StoreError>;

    /// Ends every session of `user_id`, in one atomic step. Answers how many there were.
    async fn end_all(&self, user_id: Uuid) -> Result<usize, StoreError>;

    /// The user's stored sessions, oldest first (expired ones too, until they are cleaned up).
    async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<Session>, StoreError>;
}
