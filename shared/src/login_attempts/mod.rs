//! Login attempts: the counters login throttling keeps, the port that stores them, and the policy over them
//! ([`throttle`]).
//!
//! The keys are keyed hashes made by [`throttle`]: the store never sees a name or an address, so a password typed
//! into the username field is never written down, not even for a day.

pub mod throttle;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use crate::storage::StoreError;

/// Stores login-attempt counters. Each backend implements it in its own module (`storage::sqlite::login_attempts`,
/// `storage::dynamodb::login_attempts`).
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Counts one more login attempt under `key` at `now` and answers the counter as it stood just before: atomic, so
    /// that concurrent calls each see a different count. A counter past its expiry reads as none and starts afresh;
    /// `expiry` sets when the new count expires.
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: DateTime<Utc>,
        expiry: Expiry,
    ) -> Result<Attempts, StoreError>;

    /// Takes one attempt back from `key`'s counter, for an attempt that turned out to be no failure. A counter at
    /// zero, or gone, stays so.
    async fn release(&self, key: &AttemptKey) -> Result<(), StoreError>;

    /// Forgets every attempt counted under `key`.
    async fn clear(&self, key: &AttemptKey) -> Result<(), StoreError>;
}

/// The opaque key of one attempt counter: lower-case hex, no longer than [`AttemptKey::MAX_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptKey(String);

impl AttemptKey {
    /// The longest key a backend must store.
    pub const MAX_LEN: usize = 64;

    /// Wraps a key made by the throttle. Anything but lower-case hex of at most [`Self::MAX_LEN`] characters is a bug.
    pub fn from_hex(hex: String) -> Self {
        debug_assert!(
            hex.len() <= Self::MAX_LEN
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "an attempt key is lower-case hex"
        );
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a counter expires, and so which attempts it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Every attempt pushes the expiry to this long after it: the counter lives while attempts keep coming.
    AfterLast(TimeDelta),
    /// The first attempt sets the expiry this long after it, and later ones leave it: a fixed window.
    AfterFirst(TimeDelta),
}

impl Expiry {
    /// When a counter whose first attempt was at `first` (and last at `now`) expires, in whole seconds: DynamoDB's
    /// TTL attribute holds no more, and both backends answer the same.
    pub fn expires_at(self, first: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let at = match self {
            Self::AfterLast(after) => now + after,
            Self::AfterFirst(after) => first + after,
        };
        at.trunc_subsecs(0)
    }
}

/// A live counter as it stood: how many attempts, the last one's time, and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub count: u32,
    /// `None` when there were none.
    pub last_at: Option<DateTime<Utc>>,
    /// `None` when there were none.
    pub expires_at: Option<DateTime<Utc>>,
}
