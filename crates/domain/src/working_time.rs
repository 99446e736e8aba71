//! Working time for England & Wales: the clock that statutory and local timescales run on.
//!
//! Timescales in children's social care are written in working hours ("decide within
//! 24 working hours"), working days ("assessment within 45 working days") or calendar
//! time ("visit every 6 weeks"). This module turns each of those into a concrete
//! [`Timestamp`] so deadlines are computed one way everywhere. Everything is pure: no
//! I/O and no clock reads; callers pass the moment they mean.
//!
//! # Rules
//!
//! * **Local time** is `Europe/London`, DST-correct. Inputs and outputs are UTC
//!   [`Timestamp`]s; the rules below are about the London wall clock.
//! * **Working days** are Monday–Friday, except England & Wales bank holidays (shipped in
//!   `data/bank_holidays_england_and_wales.txt`, 2015–2035, compiled in) and any extra
//!   closure days the authority configures ([`Calendar::with_closures`]). Dates outside
//!   the shipped range only skip weekends; see [`Calendar::last_listed_bank_holiday`].
//! * **Working hours** are 09:00–17:00 local. A moment is *in working time* if it is on a
//!   working day, at or after 09:00 and before 17:00. 17:00 itself is not.
//! * **Next opening** ([`Calendar::next_opening`]): the moment itself if in working time,
//!   otherwise the next 09:00 on a working day. Every working-time addition first
//!   normalises its start this way, so work "arriving" out of hours counts from opening.
//! * **Adding working hours** ([`Calendar::add_working_hours`]) consumes working time day
//!   by day from the normalised start. Any [`SignedDuration`] is accepted, so working
//!   minutes (or seconds) work too. A result landing exactly on closing is 17:00 that day,
//!   not 09:00 the next working day. Friday 15:00 + 4 working hours = Monday 11:00.
//! * **Adding working days** ([`Calendar::add_working_days`]) gives the same local wall
//!   clock time N working days after the normalised start. Tuesday 15:00 + 1 = Wednesday
//!   15:00; Friday 15:00 before a bank-holiday Monday + 1 = Tuesday 15:00; Saturday
//!   10:00 + 1 = Tuesday 09:00 (opens Monday 09:00, then one working day on).
//! * **Date deadlines** ([`Calendar::deadline_for_date`]): a date falls due at 17:00 local
//!   that day, or at 17:00 on the next working day if it is not one.
//! * **Calendar time** ([`Calendar::add_calendar`]) is plain calendar arithmetic on the
//!   London wall clock: 15:00 plus two weeks is 15:00 even across a DST change; adding
//!   months clamps to the month's end (31 January + 1 month = 28/29 February).
//! * **Counting**: [`Calendar::working_time_between`] is the overlap of `[a, b)` with
//!   working hours; [`Calendar::working_days_between`] is that divided by 8 hours,
//!   rounded toward zero (i.e. `floor` when `b >= a`). Both are antisymmetric: swapping
//!   the arguments negates the result, so `b <= a` gives a negative or zero answer.
//!
//! Negative working durations are treated as zero (the result is the next opening):
//! nothing in policy counts working time backwards, and guessing a meaning would be worse.
//! Results beyond jiff's supported range (year 9999) saturate to [`Timestamp::MAX`]
//! ([`Timestamp::MIN`] for negative calendar spans) rather than panic.
//!
//! # Timescale grammar
//!
//! Policy files write durations as [`Timescale`] strings, (de)serialised as text:
//!
//! ```text
//! timescale = amount unit            ; no spaces, no sign, lower case
//! amount    = 1*DIGIT                ; 0 ..= 100000, leading zeros tolerated
//! unit      = "wh"                   ; working hours   (Calendar::add_working_hours)
//!           / "wm"                   ; working minutes (Calendar::add_working_hours)
//!           / "wd"                   ; working days    (Calendar::add_working_days)
//!           / "h"                    ; elapsed hours of real time
//!           / "d" / "w" / "mo"       ; calendar days, weeks, months (Calendar::add_calendar)
//! ```
//!
//! Examples: `"4wh"`, `"90wm"`, `"1wd"`, `"45wd"`, `"24h"`, `"10d"`, `"6w"`, `"3mo"`.
//! A zero amount is allowed: `"0wd"` means "at the next opening", `"0d"` means "now".
//! Anything else is a [`TimescaleParseError`] quoting the offending text.

mod holidays;
mod timescale;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use timescale::{Timescale, TimescaleParseError};

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

/// The IANA time zone every working-time rule is evaluated in.
pub const TIME_ZONE_NAME: &str = "Europe/London";
/// Local opening time on a working day.
pub const OPENING: Time = Time::constant(9, 0, 0, 0);
/// Local closing time on a working day (exclusive: 17:00 is not working time).
pub const CLOSING: Time = Time::constant(17, 0, 0, 0);
/// Length of one working day; London's DST changes happen at night, so always 8 hours.
pub const WORKING_DAY: SignedDuration = SignedDuration::from_hours(8);

/// Which days are working days, in London: bank holidays plus configured closures.
///
/// Cheap to clone (the data sits behind an [`Arc`]); build once and share.
#[derive(Debug, Clone)]
pub struct Calendar {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tz: TimeZone,
    holidays: BTreeMap<Date, String>,
    closures: BTreeSet<Date>,
    /// Weekdays that are not working days (holidays ∪ closures, weekends dropped): the
    /// single set every working-day question and every fast skip consults.
    non_working: BTreeSet<Date>,
}

static ENGLAND_AND_WALES: LazyLock<Calendar> =
    LazyLock::new(|| Calendar::build(holidays::england_and_wales(), BTreeSet::new()));

impl Default for Calendar {
    fn default() -> Self {
        Self::england_and_wales()
    }
}

impl Calendar {
    /// England & Wales bank holidays from the shipped data, no extra closures.
    pub fn england_and_wales() -> Self {
        ENGLAND_AND_WALES.clone()
    }

    /// England & Wales bank holidays plus the authority's own closure days (e.g. 24 Dec).
    pub fn with_closures(dates: impl IntoIterator<Item = Date>) -> Self {
        Self::england_and_wales().and_closures(dates)
    }

    /// This calendar with further closure days added (weekend or holiday dates are harmless).
    pub fn and_closures(&self, dates: impl IntoIterator<Item = Date>) -> Self {
        let mut closures = self.inner.closures.clone();
        closures.extend(dates);
        Self::build(self.inner.holidays.clone(), closures)
    }

    fn build(holidays: BTreeMap<Date, String>, closures: BTreeSet<Date>) -> Self {
        let non_working = holidays.keys().chain(closures.iter()).copied().filter(|d| is_weekday(*d)).collect();
        // tzdb-bundle-always compiles the zone database in, so the lookup cannot miss.
        let tz =
            TimeZone::get(TIME_ZONE_NAME).expect("jiff's bundled tz database (tzdb-bundle-always) lacks Europe/London");
        Self { inner: Arc::new(Inner { tz, holidays, closures, non_working }) }
    }

    /// The time zone the rules use (Europe/London).
    pub fn time_zone(&self) -> &TimeZone {
        &self.inner.tz
    }

    /// Whether `date` is a listed bank holiday (weekend or not).
    pub fn is_bank_holiday(&self, date: Date) -> bool {
        self.inner.holidays.contains_key(&date)
    }

    /// The bank holiday's name as listed in the data file, if `date` is one.
    pub fn bank_holiday_name(&self, date: Date) -> Option<&str> {
        self.inner.holidays.get(&date).map(String::as_str)
    }

    /// Whether `date` is one of the configured extra closure days.
    pub fn is_closure(&self, date: Date) -> bool {
        self.inner.closures.contains(&date)
    }

    /// The last listed bank holiday: after it, only weekends are skipped, so callers can warn.
    pub fn last_listed_bank_holiday(&self) -> Option<Date> {
        self.inner.holidays.keys().next_back().copied()
    }

    /// The London calendar date of `ts`.
    pub fn local_date(&self, ts: Timestamp) -> Date {
        self.local_datetime(ts).date()
    }

    /// The London wall-clock date and time of `ts`.
    pub fn local_datetime(&self, ts: Timestamp) -> DateTime {
        self.inner.tz.to_datetime(ts)
    }

    /// Monday–Friday and neither a bank holiday nor a closure.
    pub fn is_working_day(&self, date: Date) -> bool {
        is_weekday(date) && !self.inner.non_working.contains(&date)
    }

    /// On a working day, at or after 09:00 and before 17:00 London time.
    pub fn is_working_time(&self, ts: Timestamp) -> bool {
        let dt = self.local_datetime(ts);
        self.is_working_day(dt.date()) && OPENING <= dt.time() && dt.time() < CLOSING
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: Date) -> Date {
        self.nth_working_day_after(date, 1).unwrap_or(Date::MAX)
    }

    /// `date` itself if it is a working day, else the next working day.
    pub fn working_day_on_or_after(&self, date: Date) -> Date {
        if self.is_working_day(date) { date } else { self.next_working_day(date) }
    }

    /// `ts` itself if in working time, otherwise the next 09:00 on a working day.
    pub fn next_opening(&self, ts: Timestamp) -> Timestamp {
        self.next_opening_opt(ts).unwrap_or(Timestamp::MAX)
    }

    /// Adds working time (minute or finer granularity); negative durations count as zero.
    ///
    /// A result exactly at closing stays at 17:00 that day.
    pub fn add_working_hours(&self, ts: Timestamp, duration: SignedDuration) -> Timestamp {
        self.add_working_hours_opt(ts, duration).unwrap_or(Timestamp::MAX)
    }

    /// The same local clock time `days` working days after the normalised start.
    pub fn add_working_days(&self, ts: Timestamp, days: u32) -> Timestamp {
        self.add_working_days_opt(ts, days).unwrap_or(Timestamp::MAX)
    }

    /// When a date-only deadline falls due: 17:00 on it, or on the next working day.
    pub fn deadline_for_date(&self, date: Date) -> Timestamp {
        self.at(self.working_day_on_or_after(date), CLOSING).unwrap_or(Timestamp::MAX)
    }

    /// Calendar arithmetic on the London wall clock (days/weeks/months keep the local time).
    ///
    /// Time units in `span` (hours and below) are elapsed time, as jiff defines it.
    pub fn add_calendar(&self, ts: Timestamp, span: Span) -> Timestamp {
        ts.to_zoned_datetime(self.inner.tz.clone())
            .checked_add(span)
            .map(|z| z.timestamp())
            .unwrap_or(if span.is_negative() { Timestamp::MIN } else { Timestamp::MAX })
    }

    /// Applies a policy [`Timescale`], choosing working-hours, working-days or calendar rules.
    pub fn add(&self, ts: Timestamp, timescale: &Timescale) -> Timestamp {
        let calendar = |span: Result<Span, jiff::Error>| match span {
            Ok(span) => self.add_calendar(ts, span),
            Err(_) => Timestamp::MAX,
        };
        match *timescale {
            Timescale::WorkingHours(n) => self.add_working_hours(ts, SignedDuration::from_hours(i64::from(n))),
            Timescale::WorkingMinutes(n) => self.add_working_hours(ts, SignedDuration::from_mins(i64::from(n))),
            Timescale::WorkingDays(n) => self.add_working_days(ts, n),
            Timescale::Hours(n) => ts.checked_add(SignedDuration::from_hours(i64::from(n))).unwrap_or(Timestamp::MAX),
            Timescale::Days(n) => calendar(Span::new().try_days(n)),
            Timescale::Weeks(n) => calendar(Span::new().try_weeks(n)),
            Timescale::Months(n) => calendar(Span::new().try_months(n)),
        }
    }

    /// Working time inside `[a, b)`; negated when `b < a`, zero when equal.
    pub fn working_time_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        if b < a {
            return self.working_time_between(b, a).checked_neg().unwrap_or(SignedDuration::MIN);
        }
        let (da, db) = (self.local_date(a), self.local_date(b));
        let first = self.overlap(da, a, b);
        if da == db {
            return first;
        }
        // Days strictly between are whole working days; counting them arithmetically
        // keeps long spans (years) cheap.
        let middle = da.tomorrow().map(|next| self.count_working_days(next, db)).unwrap_or(0);
        let middle = i32::try_from(middle).ok().and_then(|n| WORKING_DAY.checked_mul(n)).unwrap_or(SignedDuration::MAX);
        first.saturating_add(middle).saturating_add(self.overlap(db, a, b))
    }

    /// Whole working days (8 working hours each) in `[a, b)`, rounded toward zero.
    pub fn working_days_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        let days = self.working_time_between(a, b).as_nanos() / WORKING_DAY.as_nanos();
        // |days| is far below i64::MAX for any representable timestamps.
        i64::try_from(days).unwrap_or(if days < 0 { i64::MIN } else { i64::MAX })
    }

    // ----- internals: `None` means "beyond jiff's range"; public wrappers saturate. -----

    fn at(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.inner.tz.to_timestamp(date.to_datetime(time)).ok()
    }

    fn next_opening_opt(&self, ts: Timestamp) -> Option<Timestamp> {
        let dt = self.local_datetime(ts);
        let date = dt.date();
        if self.is_working_day(date) {
            if dt.time() < OPENING {
                return self.at(date, OPENING);
            }
            if dt.time() < CLOSING {
                return Some(ts);
            }
        }
        self.at(self.nth_working_day_after(date, 1)?, OPENING)
    }

    fn add_working_hours_opt(&self, ts: Timestamp, duration: SignedDuration) -> Option<Timestamp> {
        let start = self.next_opening_opt(ts)?;
        if !duration.is_positive() {
            return Some(start);
        }
        let day = self.local_date(start);
        let available = start.duration_until(self.at(day, CLOSING)?);
        if duration <= available {
            return start.checked_add(duration).ok();
        }
        // Skip whole days at once, leaving a remainder in (0, 8h] so that a result exactly
        // at closing stays on that day's 17:00 instead of rolling to the next opening.
        let rest = (duration - available).as_nanos();
        let whole_days = (rest - 1) / WORKING_DAY.as_nanos();
        let leftover = SignedDuration::try_from_nanos_i128(rest - whole_days * WORKING_DAY.as_nanos())?;
        let target = self.nth_working_day_after(day, u64::try_from(whole_days).ok()?.checked_add(1)?)?;
        self.at(target, OPENING)?.checked_add(leftover).ok()
    }

    fn add_working_days_opt(&self, ts: Timestamp, days: u32) -> Option<Timestamp> {
        let start = self.next_opening_opt(ts)?;
        if days == 0 {
            return Some(start);
        }
        let dt = self.local_datetime(start);
        let target = self.nth_working_day_after(dt.date(), u64::from(days))?;
        self.at(target, dt.time())
    }

    /// Working time of `date` that lies inside `[a, b)`.
    fn overlap(&self, date: Date, a: Timestamp, b: Timestamp) -> SignedDuration {
        if !self.is_working_day(date) {
            return SignedDuration::ZERO;
        }
        let (Some(open), Some(close)) = (self.at(date, OPENING), self.at(date, CLOSING)) else {
            return SignedDuration::ZERO;
        };
        let (from, to) = (a.max(open), b.min(close));
        if from < to { from.duration_until(to) } else { SignedDuration::ZERO }
    }

    /// Working days in `[from, to)` (zero if `to <= from`).
    fn count_working_days(&self, from: Date, to: Date) -> i64 {
        if to <= from {
            return 0;
        }
        let n = days_between(from, to);
        let offset = i64::from(from.weekday().to_monday_zero_offset());
        let weekdays = n / 7 * 5 + (0..n % 7).filter(|i| (offset + i) % 7 < 5).count() as i64;
        let closed = self.inner.non_working.range(from..to).count() as i64;
        weekdays - closed
    }

    /// The `n`th working day after `date` (`n = 0` gives `date`); `None` past year 9999.
    fn nth_working_day_after(&self, mut date: Date, mut n: u64) -> Option<Date> {
        while n > 0 {
            // Any 7k consecutive days hold exactly 5k weekdays, so k whole weeks with no
            // closed weekday in them are 5k working days: jump instead of stepping, which
            // keeps huge additions O(holidays). Stop short of n so the end is stepped to.
            if n > 5 {
                let wanted = (n - 1) / 5;
                let room = match self.inner.non_working.range(date.tomorrow().ok()?..).next() {
                    Some(&closed) => (days_between(date, closed) - 1) as u64 / 7,
                    None => u64::MAX,
                };
                let weeks = wanted.min(room);
                if weeks > 0 {
                    let days = i64::try_from(weeks.checked_mul(7)?).ok()?;
                    date = date.checked_add(Span::new().try_days(days).ok()?).ok()?;
                    n -= weeks * 5;
                    continue;
                }
            }
            date = date.tomorrow().ok()?;
            if self.is_working_day(date) {
                n -= 1;
            }
        }
        Some(date)
    }
}

fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Whole days from `a` to `b` (negative if `b < a`).
fn days_between(a: Date, b: Date) -> i64 {
    b.duration_since(a).as_secs() / 86_400
}
