//! Table tests: every worked example from the contract, plus DST and Christmas edges.

use super::*;
use jiff::ToSpan;
use jiff::civil::date;

/// A UTC instant written as "2026-03-06T15:00Z".
fn utc(s: &str) -> Timestamp {
    s.parse().expect(s)
}

/// A London wall-clock time written as "2026-03-06T15:00".
fn local(s: &str) -> Timestamp {
    let dt: DateTime = s.parse().expect(s);
    cal().time_zone().to_timestamp(dt).expect(s)
}

fn cal() -> Calendar {
    Calendar::england_and_wales()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

#[test]
fn contract_examples_working_hours() {
    let c = cal();
    let cases = [
        // Friday 15:00 + 4wh = Monday 11:00.
        ("2026-03-06T15:00", hours(4), "2026-03-09T11:00"),
        // Ends exactly at closing: stays 17:00 that day.
        ("2026-03-06T13:00", hours(4), "2026-03-06T17:00"),
        ("2026-03-09T09:00", hours(8), "2026-03-09T17:00"),
        ("2026-03-09T09:00", hours(16), "2026-03-10T17:00"),
        ("2026-03-09T09:00", hours(16) + mins(1), "2026-03-11T09:01"),
        // Out of hours starts at the next opening.
        ("2026-03-06T17:00", hours(1), "2026-03-09T10:00"),
        ("2026-03-07T10:00", hours(4), "2026-03-09T13:00"),
        ("2026-03-09T07:30", mins(30), "2026-03-09T09:30"),
        // Bank-holiday Monday (4 May 2026) is skipped.
        ("2026-05-01T15:00", hours(4), "2026-05-05T11:00"),
        // Easter: Good Friday 3 April and Easter Monday 6 April 2026.
        ("2026-04-02T16:00", hours(2), "2026-04-07T10:00"),
        // Minute granularity.
        ("2026-03-10T16:59", mins(1), "2026-03-10T17:00"),
        ("2026-03-10T16:59", mins(2), "2026-03-11T09:01"),
        // Zero and negative durations normalise only.
        ("2026-03-10T12:00", SignedDuration::ZERO, "2026-03-10T12:00"),
        ("2026-03-07T12:00", SignedDuration::ZERO, "2026-03-09T09:00"),
        ("2026-03-10T12:00", hours(-3), "2026-03-10T12:00"),
        // 24 working hours = 3 working days' worth.
        ("2026-03-10T10:00", hours(24), "2026-03-13T10:00"),
    ];
    for (start, d, end) in cases {
        assert_eq!(c.add_working_hours(local(start), d), local(end), "{start} + {d:#}");
    }
}

#[test]
fn contract_examples_working_days() {
    let c = cal();
    let cases = [
        // Tuesday 15:00 + 1wd = Wednesday 15:00.
        ("2026-03-10T15:00", 1, "2026-03-11T15:00"),
        // Friday 15:00 before bank-holiday Monday 4 May 2026 = Tuesday 15:00.
        ("2026-05-01T15:00", 1, "2026-05-05T15:00"),
        // Saturday 10:00 + 1wd = Tuesday 09:00.
        ("2026-03-07T10:00", 1, "2026-03-10T09:00"),
        // Before opening on a working day: that day's 09:00, then on.
        ("2026-03-10T08:00", 1, "2026-03-11T09:00"),
        // At closing: next opening.
        ("2026-03-10T17:00", 1, "2026-03-12T09:00"),
        // Christmas 2026: 25 Fri, 28 Mon (Boxing Day substitute).
        ("2026-12-24T15:00", 1, "2026-12-29T15:00"),
        // New Year.
        ("2025-12-31T10:00", 1, "2026-01-02T10:00"),
        // 2021: 27 and 28 December substitutes.
        ("2021-12-24T10:00", 1, "2021-12-29T10:00"),
        // 2022: 3 January substitute.
        ("2021-12-31T10:00", 1, "2022-01-04T10:00"),
        // 2027: 27 and 28 December substitutes.
        ("2027-12-24T11:00", 1, "2027-12-29T11:00"),
        // Platinum Jubilee 2022: Thu 2 and Fri 3 June.
        ("2022-06-01T12:00", 1, "2022-06-06T12:00"),
        // Zero days normalises only.
        ("2026-03-07T10:00", 0, "2026-03-09T09:00"),
        // 45 working days from Monday 2 March 2026 (Good Friday/Easter Monday skipped).
        ("2026-03-02T10:00", 45, "2026-05-07T10:00"),
    ];
    for (start, n, end) in cases {
        assert_eq!(c.add_working_days(local(start), n), local(end), "{start} + {n}wd");
    }
}

#[test]
fn project_scenarios_in_utc() {
    let c = cal();
    // March before the 29th is GMT: local = UTC.
    assert_eq!(c.add_working_hours(utc("2026-03-06T15:00Z"), hours(4)), utc("2026-03-09T11:00Z"));
    // 16:30 on Monday 9 March is in working time: same time next working day.
    assert!(c.is_working_time(utc("2026-03-09T16:30Z")));
    assert_eq!(c.add_working_days(utc("2026-03-09T16:30Z"), 1), utc("2026-03-10T16:30Z"));
    // Friday 16:30 + 1wd = Monday 16:30.
    assert_eq!(c.add_working_days(utc("2026-03-06T16:30Z"), 1), utc("2026-03-09T16:30Z"));
}

#[test]
fn spring_dst_change() {
    let c = cal();
    // Friday 27 March 2026 is GMT; Monday 30 March is BST (UTC+1).
    assert_eq!(
        c.add_working_hours(utc("2026-03-27T15:00Z"), hours(4)),
        utc("2026-03-30T10:00Z") // 11:00 BST
    );
    // A day addition keeps 15:00 local.
    assert_eq!(c.add_working_days(utc("2026-03-27T15:00Z"), 1), utc("2026-03-30T14:00Z"));
    // Working hours in UTC shift an hour earlier after the change.
    assert!(!c.is_working_time(utc("2026-03-27T08:30Z")));
    assert!(c.is_working_time(utc("2026-03-27T16:30Z")));
    assert!(c.is_working_time(utc("2026-03-30T08:30Z")));
    assert!(!c.is_working_time(utc("2026-03-30T16:30Z")));
    assert_eq!(c.next_opening(utc("2026-03-28T12:00Z")), utc("2026-03-30T08:00Z"));
    assert_eq!(c.deadline_for_date(date(2026, 3, 30)), utc("2026-03-30T16:00Z"));
}

#[test]
fn autumn_dst_change() {
    let c = cal();
    // Friday 23 October 2026 is BST; Monday 26 October is GMT.
    assert_eq!(
        c.add_working_hours(utc("2026-10-23T14:00Z"), hours(4)), // 15:00 BST
        utc("2026-10-26T11:00Z")
    );
    assert_eq!(c.add_working_days(utc("2026-10-23T14:00Z"), 1), utc("2026-10-26T15:00Z"));
    assert!(c.is_working_time(utc("2026-10-23T08:30Z")));
    assert!(!c.is_working_time(utc("2026-10-26T08:30Z")));
    assert!(!c.is_working_time(utc("2026-10-23T16:30Z")));
    assert!(c.is_working_time(utc("2026-10-26T16:30Z")));
}

#[test]
fn working_day_is_eight_hours_around_dst_changes() {
    // add_working_hours relies on this when it skips whole days.
    let c = cal();
    for d in [date(2026, 3, 27), date(2026, 3, 30), date(2026, 10, 23), date(2026, 10, 26)] {
        let open = c.time_zone().to_timestamp(d.at(9, 0, 0, 0)).expect("open");
        let close = c.time_zone().to_timestamp(d.at(17, 0, 0, 0)).expect("close");
        assert_eq!(open.duration_until(close), WORKING_DAY, "{d}");
    }
}

#[test]
fn working_days_and_time_predicates() {
    let c = cal();
    assert!(c.is_working_day(date(2026, 3, 10)));
    assert!(!c.is_working_day(date(2026, 3, 7))); // Saturday
    assert!(!c.is_working_day(date(2026, 3, 8))); // Sunday
    for d in [
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),
        date(2020, 5, 8),
        date(2022, 6, 2),
        date(2022, 6, 3),
        date(2022, 9, 19),
        date(2023, 5, 8),
    ] {
        assert!(!c.is_working_day(d), "{d}");
        assert!(c.is_bank_holiday(d), "{d}");
    }
    assert!(c.is_working_day(date(2020, 5, 4)));
    assert!(c.is_working_day(date(2022, 5, 30)));
    assert_eq!(c.bank_holiday_name(date(2026, 4, 3)), Some("Good Friday"));
    assert_eq!(c.bank_holiday_name(date(2026, 4, 7)), None);
    assert_eq!(c.last_listed_bank_holiday(), Some(date(2035, 12, 26)));

    assert!(!c.is_working_time(local("2026-03-10T08:59:59")));
    assert!(c.is_working_time(local("2026-03-10T09:00")));
    assert!(c.is_working_time(local("2026-03-10T16:59:59.999")));
    assert!(!c.is_working_time(local("2026-03-10T17:00")));
    assert!(!c.is_working_time(local("2026-04-03T12:00")));

    assert_eq!(c.local_date(utc("2026-06-30T23:30Z")), date(2026, 7, 1));
    assert_eq!(c.local_date(utc("2026-01-31T23:30Z")), date(2026, 1, 31));
    assert_eq!(c.next_working_day(date(2026, 4, 2)), date(2026, 4, 7));
    assert_eq!(c.working_day_on_or_after(date(2026, 4, 2)), date(2026, 4, 2));
    assert_eq!(c.working_day_on_or_after(date(2026, 4, 4)), date(2026, 4, 7));
}

#[test]
fn next_opening_cases() {
    let c = cal();
    let cases = [
        ("2026-03-10T12:00", "2026-03-10T12:00"),
        ("2026-03-10T09:00", "2026-03-10T09:00"),
        ("2026-03-10T06:00", "2026-03-10T09:00"),
        ("2026-03-10T17:00", "2026-03-11T09:00"),
        ("2026-03-13T18:00", "2026-03-16T09:00"),
        ("2026-03-14T12:00", "2026-03-16T09:00"),
        ("2026-04-02T17:30", "2026-04-07T09:00"),
        ("2026-12-24T17:00", "2026-12-29T09:00"),
    ];
    for (t, expected) in cases {
        assert_eq!(c.next_opening(local(t)), local(expected), "{t}");
    }
}

#[test]
fn closures_are_not_working_days() {
    let c = Calendar::with_closures([date(2026, 12, 24), date(2026, 12, 31)]);
    assert!(c.is_closure(date(2026, 12, 24)));
    assert!(!c.is_working_day(date(2026, 12, 24)));
    assert_eq!(c.add_working_days(local("2026-12-23T15:00"), 1), local("2026-12-29T15:00"));
    assert_eq!(c.add_working_days(local("2026-12-30T10:00"), 1), local("2027-01-04T10:00"));
    // The shared default is untouched.
    assert!(cal().is_working_day(date(2026, 12, 24)));
    // Adding more keeps the earlier ones; weekend/holiday closures are harmless.
    let c2 = c.and_closures([date(2026, 12, 26), date(2026, 12, 25), date(2027, 1, 4)]);
    assert!(!c2.is_working_day(date(2026, 12, 24)));
    assert_eq!(c2.next_working_day(date(2026, 12, 30)), date(2027, 1, 5));
    assert_eq!(
        c2.working_time_between(local("2026-12-23T09:00"), local("2027-01-06T09:00")),
        hours(8 * 4) // 23, 29, 30 December and 5 January
    );
}

#[test]
fn date_deadlines() {
    let c = cal();
    assert_eq!(c.deadline_for_date(date(2026, 3, 10)), utc("2026-03-10T17:00Z"));
    assert_eq!(c.deadline_for_date(date(2026, 3, 7)), utc("2026-03-09T17:00Z"));
    // Good Friday in BST: due Tuesday 7 April 17:00 BST.
    assert_eq!(c.deadline_for_date(date(2026, 4, 3)), utc("2026-04-07T16:00Z"));
    let closed = Calendar::with_closures([date(2026, 12, 24)]);
    assert_eq!(closed.deadline_for_date(date(2026, 12, 24)), local("2026-12-29T17:00"));
}

#[test]
fn calendar_arithmetic_keeps_wall_clock() {
    let c = cal();
    // Across spring DST: 15:00 GMT + 2 weeks = 15:00 BST.
    assert_eq!(c.add_calendar(utc("2026-03-20T15:00Z"), 2.weeks()), utc("2026-04-03T14:00Z"));
    // Across autumn DST.
    assert_eq!(c.add_calendar(utc("2026-10-20T14:00Z"), 10.days()), utc("2026-10-30T15:00Z"));
    // Months clamp to month end; leap years respected.
    assert_eq!(c.add_calendar(local("2026-01-31T10:00"), 1.month()), local("2026-02-28T10:00"));
    assert_eq!(c.add_calendar(local("2028-01-31T10:00"), 1.month()), local("2028-02-29T10:00"));
    assert_eq!(c.add_calendar(local("2026-05-15T10:00"), (-3).months()), local("2026-02-15T10:00"));
    // Saturates instead of panicking.
    assert_eq!(c.add_calendar(utc("9999-01-01T00:00Z"), 2.years()), Timestamp::MAX);
    assert_eq!(c.add_calendar(utc("-009999-02-01T00:00Z"), (-2).years()), Timestamp::MIN);
}

#[test]
fn timescale_dispatch() {
    let c = cal();
    let t = local("2026-03-06T15:00");
    let cases = [
        ("4wh", "2026-03-09T11:00"),
        ("90wm", "2026-03-06T16:30"),
        ("1wd", "2026-03-09T15:00"),
        ("45wd", "2026-05-13T15:00"),
        ("24h", "2026-03-07T15:00"),
        ("10d", "2026-03-16T15:00"),
        ("6w", "2026-04-17T15:00"), // BST: still 15:00 local
        ("3mo", "2026-06-06T15:00"),
        ("0d", "2026-03-06T15:00"),
    ];
    for (text, expected) in cases {
        let ts: Timescale = text.parse().expect(text);
        assert_eq!(c.add(t, &ts), local(expected), "{text}");
    }
    // Elapsed hours ignore DST wall-clock: 24h across the spring change is 25:00 local.
    assert_eq!(c.add(local("2026-03-28T12:00"), &Timescale::Hours(24)), local("2026-03-29T13:00"));
    assert!(Timescale::WorkingDays(1).is_working_time());
    assert!(!Timescale::Months(1).is_working_time());
}

#[test]
fn counting_between() {
    let c = cal();
    let fri = local("2026-03-06T15:00");
    let mon = local("2026-03-09T11:00");
    assert_eq!(c.working_time_between(fri, mon), hours(4));
    assert_eq!(c.working_time_between(mon, fri), hours(-4));
    assert_eq!(c.working_time_between(fri, fri), SignedDuration::ZERO);
    assert_eq!(c.working_days_between(fri, mon), 0);
    let tue = local("2026-03-10T15:00");
    let wed = local("2026-03-11T15:00");
    assert_eq!(c.working_days_between(tue, wed), 1);
    assert_eq!(c.working_days_between(wed, tue), -1);
    assert_eq!(c.working_days_between(tue, wed - mins(1)), 0);
    // Over the May bank holiday.
    assert_eq!(c.working_days_between(local("2026-05-01T15:00"), local("2026-05-05T15:00")), 1);
    // Out-of-hours endpoints contribute nothing.
    assert_eq!(c.working_time_between(local("2026-03-07T10:00"), local("2026-03-08T20:00")), SignedDuration::ZERO);
    assert_eq!(c.working_time_between(local("2026-03-09T06:00"), local("2026-03-09T20:00")), hours(8));
    // A whole year: 2026 has 261 weekdays and 8 bank holidays.
    assert_eq!(c.working_days_between(local("2026-01-01T00:00"), local("2027-01-01T00:00")), 253);
    // 2022: 260 weekdays, 10 bank holidays.
    assert_eq!(c.working_days_between(local("2022-01-01T00:00"), local("2023-01-01T00:00")), 250);
}

#[test]
fn long_additions_are_fast_and_consistent() {
    let c = cal();
    let t = local("2026-03-10T10:00");
    // Beyond the data only weekends are skipped; the week-jump fast path must agree
    // with counting.
    for n in [1_u32, 5, 6, 250, 2_000, 100_000] {
        let r = c.add_working_days(t, n);
        assert_eq!(c.working_days_between(t, r), i64::from(n), "{n}");
        assert_eq!(c.local_datetime(r).time(), Time::constant(10, 0, 0, 0));
    }
    let r = c.add_working_hours(t, hours(8 * 100_000));
    assert_eq!(c.working_time_between(t, r), hours(8 * 100_000));
    // Absurd amounts saturate rather than panic.
    assert_eq!(c.add_working_days(t, u32::MAX), Timestamp::MAX);
    assert_eq!(c.add_working_hours(t, SignedDuration::MAX), Timestamp::MAX);
    assert_eq!(c.add(t, &Timescale::Months(u32::MAX)), Timestamp::MAX);
    assert_eq!(c.next_opening(Timestamp::MAX), Timestamp::MAX);
}

#[test]
fn calendar_is_cheap_and_default() {
    let a = Calendar::default();
    let b = Calendar::england_and_wales();
    assert!(Arc::ptr_eq(&a.inner, &b.inner));
    assert_eq!(a.time_zone().iana_name(), Some(TIME_ZONE_NAME));
}
