//! Unit tests of `throttle`.

use super::*;

fn attempts(count: u32, seconds_ago: i64, now: DateTime<Utc>) -> Attempts {
    Attempts {
        count,
        last_at: Some(now - TimeDelta::seconds(seconds_ago)),
        expires_at: Some(now + TimeDelta::hours(1)),
    }
}

fn throttle() -> LoginThrottle {
    LoginThrottle::new(&SecretString::from("0123456789abcdef0123456789abcdef"))
}

#[test]
fn five_attempts_are_free_then_locks_start_at_one_second_and_double() {
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
fn an_attempt_during_a_lock_is_refused_and_told_the_lock_it_caused() {
    let now = Utc::now();
    assert_eq!(source_retry_after(&attempts(4, 0, now), now), None);
    // The sixth attempt, at once: the fifth's 1 s lock holds, and this one brings the 2 s lock.
    assert_eq!(source_retry_after(&attempts(5, 0, now), now), Some(2));
    assert_eq!(source_retry_after(&attempts(5, 1, now), now), None);
    assert_eq!(source_retry_after(&attempts(7, 1, now), now), Some(8));
    assert_eq!(source_retry_after(&attempts(30, 60, now), now), Some(900));
    assert_eq!(source_retry_after(&attempts(30, 900, now), now), None);
}

#[test]
fn nothing_counted_never_locks() {
    let now = Utc::now();
    assert_eq!(source_retry_after(&Attempts::default(), now), None);
    assert_eq!(account_retry_after(&Attempts::default(), now), None);
}

#[test]
fn the_account_locks_at_its_ceiling_until_the_window_ends() {
    let now = Utc::now();
    let mut account = attempts(ACCOUNT_ATTEMPTS_PER_WINDOW - 1, 0, now);
    assert_eq!(account_retry_after(&account, now), None);
    account.count = ACCOUNT_ATTEMPTS_PER_WINDOW;
    account.expires_at = Some(now + TimeDelta::seconds(90));
    assert_eq!(account_retry_after(&account, now), Some(90));
    account.expires_at = Some(now);
    assert_eq!(account_retry_after(&account, now), None);
}

#[test]
fn keys_follow_the_normalised_name_and_hide_it() {
    let throttle = throttle();
    let here = Source::parse(Some("192.0.2.1"));
    let keys = throttle.keys("ALICE", here);
    assert_eq!(keys, throttle.keys("alice", here));
    assert_ne!(keys.account, keys.source);
    assert!(!keys.account.as_str().contains("alice"));
    assert_eq!(keys.account.as_str().len(), 32);
    assert_ne!(keys, throttle.keys("bob", here));
}

#[test]
fn one_account_from_two_sources_shares_only_the_account_counter() {
    let throttle = throttle();
    let a = throttle.keys("alice", Source::parse(Some("192.0.2.1")));
    let b = throttle.keys("alice", Source::parse(Some("198.51.100.7")));
    assert_eq!(a.account, b.account);
    assert_ne!(a.source, b.source);
}

#[test]
fn names_that_cannot_be_usernames_share_one_key() {
    let throttle = throttle();
    let here = Source::Unknown;
    assert_eq!(
        throttle.keys("my secret password!", here),
        throttle.keys("no such user?", here)
    );
    assert_ne!(
        throttle.keys("no such user?", here),
        throttle.keys("nosuchuser", here)
    );
}

#[test]
fn ipv6_sources_count_per_64_and_mapped_ipv4_as_ipv4() {
    let throttle = throttle();
    let keys = |ip: &str| throttle.keys("alice", Source::parse(Some(ip))).source;
    assert_eq!(keys("2001:db8:1:2::1"), keys("2001:db8:1:2:ffff::9"));
    assert_ne!(keys("2001:db8:1:2::1"), keys("2001:db8:1:3::1"));
    assert_eq!(keys("::ffff:192.0.2.1"), keys("192.0.2.1"));
    assert_eq!(
        keys("not an address"),
        throttle.keys("alice", Source::Unknown).source
    );
}

#[test]
fn another_secret_gives_other_keys() {
    let other = LoginThrottle::new(&SecretString::from("another secret that is 32 bytes long"));
    assert_ne!(
        throttle().keys("alice", Source::Unknown),
        other.keys("alice", Source::Unknown)
    );
}
