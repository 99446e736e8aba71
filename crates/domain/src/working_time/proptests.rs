//! Property tests: the algebra that escalation scheduling relies on.

use super::*;
use proptest::prelude::*;

/// Any instant from 2015 to mid-2035 (inside the shipped holidays), to the second.
fn instant() -> impl Strategy<Value = Timestamp> {
    // 2015-01-01T00:00Z .. 2035-07-01T00:00Z
    (1_420_070_400_i64..2_066_860_800_i64).prop_map(|s| Timestamp::from_second(s).expect("in range"))
}

/// A working duration of 1 minute to 60 working days, in whole minutes.
fn working_minutes() -> impl Strategy<Value = SignedDuration> {
    (1_i64..=60 * 8 * 60).prop_map(SignedDuration::from_mins)
}

/// A working duration that also exercises sub-minute precision.
fn working_duration() -> impl Strategy<Value = SignedDuration> {
    (0_i64..=60 * 8 * 3600).prop_map(SignedDuration::from_secs)
}

fn is_closing_on_working_day(cal: &Calendar, t: Timestamp) -> bool {
    let dt = cal.local_datetime(t);
    dt.time() == CLOSING && cal.is_working_day(dt.date())
}

proptest! {
    #[test]
    fn hours_add_associatively(t in instant(), a in working_minutes(), b in working_minutes()) {
        let cal = Calendar::england_and_wales();
        prop_assert_eq!(
            cal.add_working_hours(cal.add_working_hours(t, a), b),
            cal.add_working_hours(t, a + b)
        );
    }

    #[test]
    fn days_add_associatively(t in instant(), a in 1_u32..=60, b in 1_u32..=60) {
        let cal = Calendar::england_and_wales();
        prop_assert_eq!(
            cal.add_working_days(cal.add_working_days(t, a), b),
            cal.add_working_days(t, a + b)
        );
    }

    #[test]
    fn results_are_in_working_time_or_at_closing(
        t in instant(),
        d in working_duration(),
        n in 0_u32..=60,
    ) {
        let cal = Calendar::england_and_wales();
        let r = cal.add_working_hours(t, d);
        prop_assert!(cal.is_working_time(r) || is_closing_on_working_day(&cal, r), "{r}");
        prop_assert!(r >= t);
        let r = cal.add_working_days(t, n);
        prop_assert!(cal.is_working_time(r), "{r}");
        prop_assert!(r >= t);
    }

    #[test]
    fn add_working_hours_is_monotonic(
        t1 in instant(),
        t2 in instant(),
        h1 in working_duration(),
        h2 in working_duration(),
    ) {
        let cal = Calendar::england_and_wales();
        let (lo_t, hi_t) = (t1.min(t2), t1.max(t2));
        let (lo_h, hi_h) = (h1.min(h2), h1.max(h2));
        prop_assert!(cal.add_working_hours(lo_t, h1) <= cal.add_working_hours(hi_t, h1));
        prop_assert!(cal.add_working_hours(t1, lo_h) <= cal.add_working_hours(t1, hi_h));
    }

    #[test]
    fn between_inverts_add(t in instant(), h in working_duration(), n in 0_u32..=60) {
        // Holds from any start, not only in working time: time before the next
        // opening contributes nothing.
        let cal = Calendar::england_and_wales();
        let r = cal.add_working_hours(t, h);
        prop_assert_eq!(cal.working_time_between(t, r), h);
        prop_assert_eq!(cal.working_time_between(r, t), -h);
        let r = cal.add_working_days(t, n);
        prop_assert_eq!(cal.working_days_between(t, r), i64::from(n));
        prop_assert_eq!(cal.working_time_between(t, r), WORKING_DAY * n as i32);
    }

    #[test]
    fn between_is_antisymmetric_and_additive(a in instant(), b in instant(), c in instant()) {
        let cal = Calendar::england_and_wales();
        prop_assert_eq!(cal.working_time_between(a, b), -cal.working_time_between(b, a));
        prop_assert_eq!(
            cal.working_time_between(a, b) + cal.working_time_between(b, c),
            cal.working_time_between(a, c)
        );
        prop_assert_eq!(cal.working_days_between(a, b), -cal.working_days_between(b, a));
    }

    #[test]
    fn next_opening_is_idempotent_and_not_earlier(t in instant()) {
        let cal = Calendar::england_and_wales();
        let o = cal.next_opening(t);
        prop_assert!(o >= t);
        prop_assert!(cal.is_working_time(o));
        prop_assert_eq!(cal.next_opening(o), o);
        // Nothing in between is working time: it really is the *next* opening.
        prop_assert_eq!(cal.working_time_between(t, o), SignedDuration::ZERO);
    }

    #[test]
    fn next_working_day_matches_stepping(
        days in 0_i64..7_700,
        n in 0_u64..=400,
    ) {
        // The week-jump fast path must agree with naive day-by-day stepping.
        let cal = Calendar::with_closures([
            jiff::civil::date(2026, 12, 24),
            jiff::civil::date(2027, 6, 15),
        ]);
        let start = jiff::civil::date(2015, 1, 1)
            .checked_add(Span::new().days(days))
            .expect("in range");
        let mut naive = start;
        let mut left = n;
        while left > 0 {
            naive = naive.tomorrow().expect("in range");
            if cal.is_working_day(naive) {
                left -= 1;
            }
        }
        prop_assert_eq!(cal.nth_working_day_after(start, n), Some(naive));
    }
}
