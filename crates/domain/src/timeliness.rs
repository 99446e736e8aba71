//! Statutory timeliness month by month: of the deadlines that fell due in each month,
//! how many were met — referral decisions, assessments, and visits to children on plans.
//!
//! Working-time deadlines are placed by the working time elapsed since their start
//! (a deadline falls in the month where the elapsed time crosses the timescale, and was
//! met when no more than the timescale had elapsed by the time it was met), which is
//! exact and needs no deadline worked out day by day: a service's year holds tens of
//! thousands of them, behind a page that must answer in well under a tenth of a second.

use crate::escalation::Timescales;
use crate::practice::Plan;
use crate::working_time::{Calendar, Timescale};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// Calendar months (Europe/London) ending now: `bounds[i]..bounds[i + 1]` is month `i`,
/// and the last bound is now (the current month so far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Months {
    /// Each month's start, then now.
    pub bounds: Vec<Timestamp>,
    /// Each month as `YYYY-MM`.
    pub labels: Vec<String>,
}

impl Months {
    /// The current month so far and the `n − 1` whole months before it.
    pub fn last(n: u32, cal: &Calendar, now: Timestamp) -> Self {
        let first_of_this = cal.local_date(now).first_of_month();
        let mut bounds = vec![];
        let mut labels = vec![];
        for back in (0..n.max(1)).rev() {
            let month = first_of_this.checked_sub(jiff::Span::new().months(back)).unwrap_or(first_of_this);
            let start = cal.time_zone().to_timestamp(month.to_datetime(jiff::civil::Time::midnight())).unwrap_or(now);
            bounds.push(start.min(now));
            labels.push(format!("{:04}-{:02}", month.year(), month.month()));
        }
        bounds.push(now);
        Self { bounds, labels }
    }

    /// The window's start.
    pub fn since(&self) -> Timestamp {
        self.bounds[0]
    }

    /// Now, the window's end.
    pub fn now(&self) -> Timestamp {
        self.bounds[self.bounds.len() - 1]
    }

    /// Where a moment falls: before the window, in month `i`, or after now.
    fn place(&self, t: Timestamp) -> Due {
        if t < self.since() {
            Due::Before
        } else if t > self.now() {
            Due::NotYet
        } else {
            // The last month includes now itself.
            let i = self.bounds.partition_point(|b| *b <= t).saturating_sub(1);
            Due::In(i.min(self.labels.len() - 1))
        }
    }
}

/// Where a deadline falls against [`Months`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Before,
    In(usize),
    NotYet,
}

/// One measure month by month: deadlines that fell due, and of those how many were met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// Fell due, by month.
    pub due: Vec<i64>,
    /// Met on time, by month.
    pub on_time: Vec<i64>,
}

impl Series {
    fn new(months: &Months) -> Self {
        Self { due: vec![0; months.labels.len()], on_time: vec![0; months.labels.len()] }
    }

    fn count(&mut self, due: Due, met: bool) {
        if let Due::In(i) = due {
            self.due[i] += 1;
            if met {
                self.on_time[i] += 1;
            }
        }
    }

    /// Fell due over the whole window.
    pub fn total_due(&self) -> i64 {
        self.due.iter().sum()
    }

    /// Met on time over the whole window.
    pub fn total_on_time(&self) -> i64 {
        self.on_time.iter().sum()
    }
}

/// A deadline `timescale` after a start, measured the cheap way where it can be.
struct Deadline<'a> {
    cal: &'a Calendar,
    start: Timestamp,
    timescale: &'a Timescale,
    /// The working time allowed, for working-time timescales.
    limit: Option<SignedDuration>,
}

impl<'a> Deadline<'a> {
    fn new(cal: &'a Calendar, start: Timestamp, timescale: &'a Timescale) -> Self {
        let limit = match *timescale {
            Timescale::WorkingDays(n) => Some(SignedDuration::from_hours(8 * i64::from(n))),
            Timescale::WorkingHours(n) => Some(SignedDuration::from_hours(i64::from(n))),
            Timescale::WorkingMinutes(n) => Some(SignedDuration::from_mins(i64::from(n))),
            _ => None,
        };
        Self { cal, start, timescale, limit }
    }

    /// The deadline itself (worked out in full; only where it is needed).
    fn at(&self) -> Timestamp {
        self.cal.add(self.start, self.timescale)
    }

    /// Whether something done at `t` met the deadline.
    fn met_by(&self, t: Timestamp) -> bool {
        match self.limit {
            Some(limit) => self.cal.working_time_between(self.start, t) <= limit,
            None => t <= self.at(),
        }
    }

    /// Whether `t` was strictly before the deadline.
    fn before(&self, t: Timestamp) -> bool {
        match self.limit {
            Some(limit) => match self.cal.working_time_between(self.start, t).cmp(&limit) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => t < self.at(),
            },
            None => t < self.at(),
        }
    }

    /// Which month the deadline fell in.
    fn falls(&self, months: &Months) -> Due {
        let Some(limit) = self.limit else { return months.place(self.at()) };
        let elapsed = |b: Timestamp| self.cal.working_time_between(self.start, b);
        // Elapsed working time only grows, so the first bound by which the limit had
        // passed is found by bisection.
        let j = months.bounds.partition_point(|b| elapsed(*b) < limit);
        match months.bounds.get(j) {
            None => Due::NotYet,
            // Exactly the limit at a bound: the bound may sit in closed hours just after
            // the deadline, so only the deadline itself can say which side it is on.
            Some(b) if elapsed(*b) == limit => months.place(self.at()),
            Some(_) if j == 0 => Due::Before,
            Some(_) => Due::In(j - 1),
        }
    }
}

/// Of deadlines `timescale` after each start (`(start, met at)`), those that fell due in
/// each month, and how many were met by then.
pub fn deadlines_met(
    cal: &Calendar,
    facts: &[(Timestamp, Option<Timestamp>)],
    timescale: &Timescale,
    months: &Months,
) -> Series {
    let mut series = Series::new(months);
    for (start, met) in facts {
        let deadline = Deadline::new(cal, *start, timescale);
        let due = deadline.falls(months);
        if due != Due::NotYet && due != Due::Before {
            series.count(due, met.is_some_and(|m| deadline.met_by(m)));
        }
    }
    series
}

/// A spell on a plan: when it began and ended, and every visit that saw the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSpell {
    /// Which plan (it sets the visiting frequency).
    pub plan: Plan,
    /// When the plan started.
    pub start: Timestamp,
    /// When it ended, if it has.
    pub end: Option<Timestamp>,
    /// Visits that saw the child, in time order (any outside the spell are ignored).
    pub seen: Vec<Timestamp>,
}

/// Visits due to children on plans, month by month, and how many were made in time.
///
/// The first visit falls due the plan's frequency after it starts (a looked-after child's
/// within `visit_lac_first`), and each next one the frequency after the last visit that
/// saw the child. A missed visit counts once; a late visit within the next period was
/// that visit made late, and the clock starts again from it; with none, the next falls
/// due a frequency after the missed deadline, so a child unseen for months counts a
/// missed visit for every period.
pub fn visits_on_time(cal: &Calendar, spells: &[PlanSpell], timescales: &Timescales, months: &Months) -> Series {
    let mut series = Series::new(months);
    for spell in spells {
        let mut from = spell.start;
        let mut first = true;
        let mut next = spell.seen.partition_point(|v| *v < spell.start);
        let frequency = |first: bool| match (spell.plan, first) {
            (Plan::Lac, true) => &timescales.visit_lac_first,
            (Plan::Lac, false) => &timescales.visit_lac,
            (Plan::Cp, _) => &timescales.visit_cp,
            (Plan::Cin, _) => &timescales.visit_cin,
        };
        loop {
            let deadline = Deadline::new(cal, from, frequency(first));
            let due = deadline.falls(months);
            // Not due yet, or the plan ended before it fell due: nothing more to count.
            if due == Due::NotYet || spell.end.is_some_and(|end| deadline.before(end)) {
                break;
            }
            let visit = spell.seen.get(next).copied().filter(|v| spell.end.is_none_or(|end| *v <= end));
            let met = visit.is_some_and(|v| deadline.met_by(v));
            series.count(due, met);
            from = match visit {
                Some(v) if met => {
                    next += 1;
                    v
                }
                _ => {
                    // Missed. A late visit within the next period was the missed one,
                    // made late: the clock starts again from it. Otherwise another
                    // period passes unseen from the missed deadline.
                    let missed = deadline.at();
                    match visit {
                        Some(v) if Deadline::new(cal, missed, frequency(false)).met_by(v) => {
                            next += 1;
                            v
                        }
                        _ => missed,
                    }
                }
            };
            // Two visits at the same moment are one.
            while spell.seen.get(next).is_some_and(|v| *v <= from) {
                next += 1;
            }
            first = false;
        }
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn twelve_months_end_now_in_london_time() {
        let cal = Calendar::england_and_wales();
        let m = Months::last(12, &cal, t("2026-03-12T10:00:00Z"));
        assert_eq!(m.labels.first().map(String::as_str), Some("2025-04"));
        assert_eq!(m.labels.last().map(String::as_str), Some("2026-03"));
        assert_eq!(m.bounds.len(), 13);
        // 1 April 2025 is in British Summer Time: midnight there is 23:00 UTC the day before.
        assert_eq!(m.since(), t("2025-03-31T23:00:00Z"));
        assert_eq!(m.bounds[11], t("2026-03-01T00:00:00Z"));
        assert_eq!(m.now(), t("2026-03-12T10:00:00Z"));
        assert_eq!(m.place(t("2026-03-12T10:00:00Z")), Due::In(11), "now itself is in the current month");
        assert_eq!(m.place(t("2026-02-28T23:59:59Z")), Due::In(10));
        assert_eq!(m.place(t("2025-03-31T22:59:59Z")), Due::Before);
        assert_eq!(m.place(t("2026-03-12T10:00:01Z")), Due::NotYet);
    }

    /// The elapsed-working-time placing agrees with working out each deadline, across
    /// weekends, bank holidays (Easter) and out-of-hours starts and month ends.
    #[test]
    fn placing_by_elapsed_working_time_matches_the_deadline() {
        let cal = Calendar::england_and_wales();
        let base = t("2026-03-27T08:00:00Z"); // a Friday before Easter
        let mut facts = vec![];
        for i in 0..400i64 {
            let start = base + SignedDuration::from_mins(i * 97);
            for hours in [1i64, 8, 20, 70, 200, 400] {
                facts.push((start, Some(start + SignedDuration::from_hours(hours))));
            }
            facts.push((start, None));
        }
        let months = Months::last(3, &cal, t("2026-05-20T00:00:00Z"));
        for ts in
            [Timescale::WorkingDays(1), Timescale::WorkingDays(5), Timescale::WorkingHours(4), Timescale::Weeks(1)]
        {
            let mut expected = Series::new(&months);
            for (start, met) in &facts {
                let deadline = cal.add(*start, &ts);
                expected.count(months.place(deadline), met.is_some_and(|m| m <= deadline));
            }
            let got = deadlines_met(&cal, &facts, &ts, &months);
            assert_eq!(got, expected, "{ts}");
            assert!(got.total_due() > 0 && got.total_on_time() < got.total_due(), "{ts}: {got:?}");
        }
    }

    /// Worked by hand. A CP plan (visits every 10 working days) starts Monday 2 March
    /// 2026 at 10:00. Seen Friday 13 March (due 16 March 10:00: on time), then not
    /// until 15 April: due 27 March 10:00 — missed; the next falls due 10 working days
    /// after that, 13 April 10:00 (Good Friday 3 April and Easter Monday 6 April are
    /// bank holidays) — missed too; the visit on 15 April starts the clock again: due
    /// 29 April, not yet on 20 April. So: March 2 due, 1 on time; April 1 due, 0.
    #[test]
    fn visits_fall_due_a_frequency_after_the_last_seen_and_each_missed_period_counts() {
        let cal = Calendar::england_and_wales();
        let months = Months::last(2, &cal, t("2026-04-20T12:00:00Z"));
        let spell = PlanSpell {
            plan: Plan::Cp,
            start: t("2026-03-02T10:00:00Z"),
            end: None,
            seen: vec![t("2026-02-20T10:00:00Z"), t("2026-03-13T10:00:00Z"), t("2026-04-15T10:00:00Z")],
        };
        let s = visits_on_time(&cal, std::slice::from_ref(&spell), &Timescales::default(), &months);
        assert_eq!(months.labels, ["2026-03", "2026-04"]);
        assert_eq!((s.due.clone(), s.on_time.clone()), (vec![2, 1], vec![1, 0]));
        // The plan ended on 20 March, before the second visit fell due: only the first counts.
        let ended = PlanSpell { end: Some(t("2026-03-20T10:00:00Z")), ..spell };
        let s = visits_on_time(&cal, &[ended], &Timescales::default(), &months);
        assert_eq!((s.total_due(), s.total_on_time()), (1, 1));
    }

    /// A looked-after child must be seen within a week, then every six weeks.
    #[test]
    fn a_looked_after_child_is_seen_within_a_week_then_every_six() {
        let cal = Calendar::england_and_wales();
        let months = Months::last(3, &cal, t("2026-05-29T12:00:00Z"));
        let spell = PlanSpell {
            plan: Plan::Lac,
            start: t("2026-03-02T10:00:00Z"),
            end: None,
            // Day 8 (late: due 9 March 10:00), then within six weeks (20 April ≤ 27 April).
            seen: vec![t("2026-03-10T10:00:00Z"), t("2026-04-20T10:00:00Z")],
        };
        let s = visits_on_time(&cal, &[spell], &Timescales::default(), &months);
        // Due 9 March: missed; the visit on 10 March was it, made late, so the next fell
        // due six weeks after that, 21 April: met on 20 April. Then 1 June: not yet.
        assert_eq!((s.due.clone(), s.on_time.clone()), (vec![1, 1, 0], vec![0, 1, 0]));
    }
}
