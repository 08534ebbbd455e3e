//! The time as the application sees it: the system clock in the functions, a clock the test moves by hand in tests,
//! so that locks and expiries are tested without sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

/// Where "now" comes from. Cheap to clone; clones of a manual clock move together.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `start` (to the millisecond, as storage keeps times) until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(start.trunc_subsecs(3)))))
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a manual clock forward by `by`; the system clock cannot be moved, and this does nothing to it.
    pub fn advance(&self, by: TimeDelta) {
        if let Some(at) = &self.0 {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_move_with_it() {
        let start = Utc::now();
        let clock = Clock::manual(start);
        let clone = clock.clone();
        assert_eq!(clock.now(), start.trunc_subsecs(3));
        clone.advance(TimeDelta::seconds(5));
        assert_eq!(clock.now(), start.trunc_subsecs(3) + TimeDelta::seconds(5));
    }

    #[test]
    fn the_system_clock_follows_the_time() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now());
    }
}
