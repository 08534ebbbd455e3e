//! What the repository stores for login throttling: attempt counters under opaque keys.
//!
//! The keys are keyed hashes made by [`crate::auth::throttle`]: the store never sees a name or an address, so a
//! password typed into the username field is never written down, not even for a day.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

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
