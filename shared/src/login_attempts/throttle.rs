//! Login throttling, decided before any password is checked.
//!
//! Every attempt is counted twice, each time atomically, before its Argon2 verification runs:
//!
//! - **per (account, source)**: after [`FREE_FAILURES`] attempts from one source address, logins for that account
//!   from there are refused for [`FIRST_LOCK`], doubling with each further attempt, up to [`MAX_LOCK`]. Attempts made
//!   during a lock count too, so polling only lengthens the poller's own lock. A success clears the counter.
//! - **per account**, a much looser ceiling: [`ACCOUNT_ATTEMPTS_PER_WINDOW`] attempts that passed their source's check
//!   within [`ACCOUNT_WINDOW`] of the first lock the account for the rest of that window, from everywhere. One source
//!   cannot reach it (its own back-off lets through about 15 attempts in the first hour and 4 an hour after), so
//!   guesses from one place never lock the owner out from another. A success takes its own attempt back.
//!
//! Because the count is taken before the check and decided from, N guesses sent at once get N different counts, and
//! at most [`FREE_FAILURES`] of them reach a password check.
//!
//! The counters are stored under keyed hashes (HMAC-SHA256 with a key derived from the signing secret) of the
//! normalised username and of the source's network, never in clear. Names that cannot be usernames all count under
//! one key of their own, so they are throttled without anything of theirs being stored. IPv6 sources count per /64,
//! the smallest block a client is usually given.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{AttemptKey, Attempts, Expiry, LoginAttempts};
use crate::storage::StoreError;
use crate::users::Username;

/// Attempts allowed from one source before its first lock.
pub const FREE_FAILURES: u32 = 5;
/// The first lock; each further attempt doubles it.
pub const FIRST_LOCK: Duration = Duration::from_secs(1);
/// No source lock lasts longer after that source's last attempt.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// How long a source's counter outlives its last attempt. Longer than any lock, so expiry never shortens one.
pub const SOURCE_RECORD_EXPIRES_AFTER: TimeDelta = TimeDelta::hours(24);
/// Attempts per account, from all sources together, that one window allows.
pub const ACCOUNT_ATTEMPTS_PER_WINDOW: u32 = 100;
/// The account-wide window, counted from its first attempt; also the longest account-wide lock.
pub const ACCOUNT_WINDOW: TimeDelta = TimeDelta::hours(1);

/// How long logins from one source stay refused after the last of `attempts` counted attempts.
pub fn lock_after(attempts: u32) -> Option<Duration> {
    let doublings = attempts.checked_sub(FREE_FAILURES)?;
    // 2^10 s already passes the cap; stopping there also keeps the shift in range.
    let lock = FIRST_LOCK.saturating_mul(1 << doublings.min(10));
    Some(lock.min(MAX_LOCK))
}

/// Whole seconds until `until`, rounded up, if it is still ahead of `now`.
fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    let remaining = (until - now).num_milliseconds();
    (remaining > 0).then(|| (remaining as u64).div_ceil(1000))
}

/// The seconds a source must wait when its counter stood at `before` as this attempt arrived at `now`; `None` lets
/// the attempt through.
pub fn source_retry_after(before: &Attempts, now: DateTime<Utc>) -> Option<u64> {
    let lock = lock_after(before.count)?;
    let until = before.last_at? + TimeDelta::from_std(lock).ok()?;
    seconds_until(until, now)?;
    // This attempt was counted too: the wait is the lock that follows it.
    let next = lock_after(before.count.saturating_add(1))?;
    Some(next.as_secs().max(1))
}

/// The seconds until the account's window ends when its counter stood at `before`; `None` lets the attempt through.
pub fn account_retry_after(before: &Attempts, now: DateTime<Utc>) -> Option<u64> {
    if before.count < ACCOUNT_ATTEMPTS_PER_WINDOW {
        return None;
    }
    seconds_until(before.expires_at?, now)
}

/// Where a login attempt came from, as API Gateway saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Address(IpAddr),
    /// No address in the request (local tests, a misconfigured integration): every such attempt shares one source.
    Unknown,
}

impl Source {
    /// Reads the `sourceIp` API Gateway puts in the request context; anything that is not an address is unknown.
    pub fn parse(raw: Option<&str>) -> Self {
        raw.and_then(|raw| raw.parse().ok())
            .map_or(Self::Unknown, Self::Address)
    }

    /// The network the source is counted under: the address itself for IPv4 (and IPv4-mapped IPv6), its /64 for
    /// IPv6.
    fn network(self) -> String {
        match self {
            Self::Unknown => "unknown".to_owned(),
            Self::Address(IpAddr::V4(v4)) => v4.to_string(),
            Self::Address(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }
}

/// The two counters one attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKeys {
    pub account: AttemptKey,
    pub source: AttemptKey,
}

/// Whether an attempt may go on to its password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Refused without a check; retry after this many seconds.
    Refused(u64),
}

/// Keys the counters and applies the policy above. Build it once per process.
#[derive(Clone)]
pub struct LoginThrottle {
    key: Hmac<Sha256>,
}

impl LoginThrottle {
    /// A throttle whose counter keys are derived from `secret` (the signing secret): changing the secret starts
    /// every counter afresh, which costs nothing but a few free attempts.
    pub fn new(secret: &SecretString) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        derive.update(b"vimcar login attempt keys v1");
        let key = derive.finalize().into_bytes();
        Self {
            key: Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length"),
        }
    }

    /// The counters an attempt to log in as `raw_username` from `source` counts under. The name is normalised as at
    /// registration, so `ALICE` and `alice` share counters; a name that cannot be a username shares the one key of
    /// all such names.
    pub fn keys(&self, raw_username: &str, source: Source) -> AttemptKeys {
        let account = match Username::parse(raw_username) {
            Ok(username) => format!("user\0{username}"),
            Err(_) => "invalid\0".to_owned(),
        };
        AttemptKeys {
            source: self.hash(&format!("source\0{account}\0{}", source.network())),
            account: self.hash(&format!("account\0{account}")),
        }
    }

    fn hash(&self, input: &str) -> AttemptKey {
        let mut mac = self.key.clone();
        mac.update(input.as_bytes());
        let digest = mac.finalize().into_bytes();
        // 128 bits: no two live counters collide.
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        AttemptKey::from_hex(hex)
    }

    /// Counts the attempt (source first, then, if its source may go on, the account) and decides from the counts.
    pub async fn admit(
        &self,
        store: &dyn LoginAttempts,
        keys: &AttemptKeys,
        now: DateTime<Utc>,
    ) -> Result<Admission, StoreError> {
        let source = store
            .reserve(
                &keys.source,
                now,
                Expiry::AfterLast(SOURCE_RECORD_EXPIRES_AFTER),
            )
            .await?;
        if let Some(seconds) = source_retry_after(&source, now) {
            return Ok(Admission::Refused(seconds));
        }
        let account = store
            .reserve(&keys.account, now, Expiry::AfterFirst(ACCOUNT_WINDOW))
            .await?;
        if let Some(seconds) = account_retry_after(&account, now) {
            return Ok(Admission::Refused(seconds));
        }
        Ok(Admission::Admitted)
    }

    /// After a successful login: the source starts afresh, and the account-wide count takes this attempt back.
    pub async fn succeeded(
        &self,
        store: &dyn LoginAttempts,
        keys: &AttemptKeys,
    ) -> Result<(), StoreError> {
        store.clear(&keys.source).await?;
        store.release(&keys.account).await
    }
}

#[cfg(test)]
mod tests;
