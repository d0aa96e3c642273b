//! The one clock: the only place allot reads the system time (clippy's `disallowed-methods` bans
//! `Utc::now` and `Local::now` everywhere else). Services are handed `now` and the council's
//! business date from here, so every rule in one request sees the same instant and tests can set
//! the time exactly.
//!
//! Councils are in England: the business date is the date in Europe/London, not the UTC date
//! (between midnight and 01:00 in summer the two differ).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::London;

/// The time source held in application state. Cheap to clone; clones share the same time.
#[derive(Clone, Debug)]
pub struct Clock {
    fixed: Arc<RwLock<Option<DateTime<Utc>>>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock {
            fixed: Arc::new(RwLock::new(None)),
        }
    }

    /// A clock stopped at `at` (tests; moved with [`Clock::set`] and [`Clock::advance`]).
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Clock {
            fixed: Arc::new(RwLock::new(Some(at))),
        }
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        let fixed = match self.fixed.read() {
            Ok(guard) => *guard,
            // A writer panicked mid-set: the value it guarded is a plain Copy, still whole.
            Err(poisoned) => *poisoned.into_inner(),
        };
        #[allow(clippy::disallowed_methods)] // the one place the system clock is read
        fixed.unwrap_or_else(Utc::now)
    }

    /// The council's business date now (Europe/London).
    pub fn today(&self) -> NaiveDate {
        london_date(self.now())
    }

    /// Stops the clock at `at` (tests).
    pub fn set(&self, at: DateTime<Utc>) {
        match self.fixed.write() {
            Ok(mut guard) => *guard = Some(at),
            Err(poisoned) => *poisoned.into_inner() = Some(at),
        }
    }

    /// Moves a stopped clock on (a running one is stopped at now + `by`).
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

/// The system clock's time, for the ledger's convenience functions called without a [`Clock`]
/// (tests and tools); services pass their `Clock`'s time instead.
pub fn system_now() -> DateTime<Utc> {
    Clock::system().now()
}

/// The date in England at this instant.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_business_date_is_london_not_utc() {
        // 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time.
        let summer_night = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap();
        assert_eq!(
            london_date(summer_night),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
        // In winter London is on UTC.
        let winter_night = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(
            london_date(winter_night),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let clock = Clock::fixed(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(Duration::hours(1));
        assert_eq!(clock.now(), start + Duration::hours(1));
        // 01:30 UTC on the last Sunday of March is 02:30 BST, still the same day.
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
    }
}
