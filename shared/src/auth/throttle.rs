//! Login throttling: after a few consecutive failures an account's logins are refused for a while, doubling with
//! each further failure, up to a cap.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::users::LoginFailures;

/// Failures allowed before the first lock.
pub const FREE_FAILURES: u32 = 5;
/// The first lock; each further failure doubles it.
pub const FIRST_LOCK: Duration = Duration::from_secs(1);
/// No lock lasts longer, so an attacker can never lock a victim out for more than this after their last try.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

/// How long logins stay refused after the last of `failures` consecutive failures.
pub fn lock_after(failures: u32) -> Option<Duration> {
    let doublings = failures.checked_sub(FREE_FAILURES)?;
    // 2^10 s already passes the cap; stopping there also keeps the shift in range.
    let lock = FIRST_LOCK.saturating_mul(1 << doublings.min(10));
    Some(lock.min(MAX_LOCK))
}

/// How long to wait before trying again, in whole seconds rounded up, when `failures` lock the account at `now`.
pub fn retry_after(failures: &LoginFailures, now: DateTime<Utc>) -> Option<u64> {
    let lock = lock_after(failures.count)?;
    let last = failures.last_at?;
    let until = last + chrono::TimeDelta::from_std(lock).ok()?;
    let remaining = (until - now).num_milliseconds();
    (remaining > 0).then(|| (remaining as u64).div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(count: u32, seconds_ago: i64, now: DateTime<Utc>) -> LoginFailures {
        LoginFailures {
            count,
            last_at: Some(now - chrono::TimeDelta::seconds(seconds_ago)),
        }
    }

    #[test]
    fn five_failures_are_free_then_locks_start_at_one_second_and_double() {
        assert_eq!(lock_after(0), None);
        assert_eq!(lock_after(4), None);
        assert_eq!(lock_after(5), Some(Duration::from_secs(1)));
        assert_eq!(lock_after(6), Some(Duration::from_secs(2)));
        assert_eq!(lock_after(7), Some(Duration::from_secs(4)));
        assert_eq!(lock_after(14), Some(Duration::from_secs(512)));
    }

    #[test]
    fn locks_stop_growing_at_fifteen_minutes() {
        assert_eq!(lock_after(15), Some(MAX_LOCK));
        assert_eq!(lock_after(40), Some(MAX_LOCK));
        assert_eq!(lock_after(u32::MAX), Some(MAX_LOCK));
    }

    #[test]
    fn the_wait_is_what_remains_of_the_lock_rounded_up() {
        let now = Utc::now();
        assert_eq!(retry_after(&failures(4, 0, now), now), None);
        assert_eq!(retry_after(&failures(5, 0, now), now), Some(1));
        assert_eq!(retry_after(&failures(5, 1, now), now), None);
        assert_eq!(retry_after(&failures(7, 1, now), now), Some(3));
        assert_eq!(retry_after(&failures(30, 60, now), now), Some(840));
        assert_eq!(retry_after(&failures(30, 900, now), now), None);
        let almost = LoginFailures {
            count: 6,
            last_at: Some(now - chrono::TimeDelta::milliseconds(1500)),
        };
        assert_eq!(retry_after(&almost, now), Some(1));
    }

    #[test]
    fn no_recorded_failures_never_lock() {
        assert_eq!(retry_after(&LoginFailures::default(), Utc::now()), None);
    }
}
