//! Where the time comes from. Logic never reads the system time itself; it is handed a
//! [`Clock`], so tests and `safeguard simulate` run every timescale on simulated time.

use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;

/// A source of the current moment.
pub trait Clock: Send + Sync {
    /// The current moment.
    fn now(&self) -> Timestamp;
}

/// The real time, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to: for tests, seeding and simulations.
#[derive(Debug)]
pub struct SimulatedClock(Mutex<Timestamp>);

impl SimulatedClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at` (backwards too: callers that need monotonic time check).
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = t.checked_add(by).unwrap_or(*t);
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_clock_moves_only_when_told() {
        let start: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let clock = SimulatedClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_hours(2));
        assert_eq!(clock.now().to_string(), "2026-03-02T11:00:00Z");
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
