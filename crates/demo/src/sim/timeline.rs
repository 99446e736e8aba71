//! The simulated timeline: the queue of timed happenings, the clock they move, and the dispatch.

use super::Sim;
use crate::world;
use anyhow::anyhow;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::Rng;
use std::cmp::Ordering;

/// Something that happens at a moment.
#[derive(Debug, Clone, Copy)]
pub(super) enum Happening {
    Referral(usize),
    Decision(usize),
    /// A team manager's daily look at unallocated work (and, on Mondays, caseloads).
    DailyReview(usize),
    Visit {
        episode: usize,
        generation: u32,
    },
    /// The assessment is completed (and a plan started, for plan work).
    Assessed(usize),
    PlannedEnd(usize),
    Joins(usize),
    LeaveStarts(usize),
    LeaveEnds(usize),
}

/// A happening in the queue; `seq` keeps those due at the same moment in the order scheduled.
#[derive(Debug)]
pub(super) struct Scheduled {
    pub(super) at: Timestamp,
    seq: u64,
    pub(super) what: Happening,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Earliest first out of the (max-)heap.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// `t` plus `mins` minutes (`t` itself should that overflow).
pub(super) fn plus_mins(t: Timestamp, mins: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_mins(mins)).unwrap_or(t)
}

/// `t` plus `days` days, fractions allowed (`t` itself should that overflow).
pub(super) fn plus_days(t: Timestamp, days: f64) -> Timestamp {
    SignedDuration::try_from_secs_f64(days * 86_400.0).ok().and_then(|d| t.checked_add(d).ok()).unwrap_or(t)
}

impl Sim {
    /// Moves the clock to `at`: never backwards (and a second on at least, so actions keep
    /// their order), and never past the end of the history, which is the real present:
    /// what someone would finish after it is finished at it.
    pub(super) fn tick(&mut self, at: Timestamp) {
        let step = self.now.checked_add(SignedDuration::from_secs(1)).unwrap_or(self.now);
        self.now = at.max(step).min(self.end).max(self.now);
        self.clock.set(self.now);
    }

    /// Moves the clock on by a few minutes (the time a person takes between two actions).
    pub(super) fn pause(&mut self, lo: i64, hi: i64) {
        let mins = self.rng.random_range(lo..hi);
        self.tick(plus_mins(self.now, mins));
    }

    pub(super) fn schedule(&mut self, at: Timestamp, what: Happening) {
        self.seq += 1;
        self.heap.push(Scheduled { at, seq: self.seq, what });
    }

    /// Counts a command that went through; names the step when one did not.
    pub(super) fn done<T>(&mut self, result: commands::Result<T>, what: &str) -> anyhow::Result<T> {
        match result {
            Ok(v) => {
                self.commands += 1;
                Ok(v)
            }
            Err(e) => Err(anyhow!("demo seeding failed at {} ({what}): {e}", self.now)),
        }
    }

    pub(super) fn today(&self) -> Date {
        self.cal.local_date(self.now)
    }

    /// A time for a home visit `days` from now: a working day, mostly office hours.
    pub(super) fn visit_slot(&mut self, days: f64) -> Timestamp {
        let day = self.cal.working_day_on_or_after(self.cal.local_date(plus_days(self.now, days)));
        let minutes = if self.rng.random_bool(0.9) {
            self.rng.random_range(9 * 60 + 30..17 * 60)
        } else {
            self.rng.random_range(17 * 60..19 * 60 + 30)
        };
        let at = world::local(&self.cal, day, minutes);
        if at <= self.now { plus_mins(self.now, self.rng.random_range(45..180)) } else { at }
    }

    pub(super) fn schedule_everything(&mut self, start: Timestamp) {
        for i in 0..self.plan.referrals.len() {
            let at = self.plan.referrals[i].at;
            self.schedule(at, Happening::Referral(i));
        }
        let first = self.cal.working_day_on_or_after(self.cal.local_date(start));
        for t in 0..self.teams.len() {
            let at = world::local(&self.cal, first, 10 * 60 + 20 * t as i64);
            self.schedule(at, Happening::DailyReview(t));
        }
        let last = self.cal.local_date(self.end);
        for (i, w) in self.workers.iter().enumerate() {
            let day = |ago: i64| last.checked_sub(ago.days()).unwrap_or(last);
            if let Some(ago) = w.member.joins_days_ago {
                let d = self.cal.working_day_on_or_after(day(ago));
                self.seq += 1;
                self.heap.push(Scheduled {
                    at: world::local(&self.cal, d, 9 * 60),
                    seq: self.seq,
                    what: Happening::Joins(i),
                });
            }
            if let Some((from, to)) = w.member.leave_days_ago {
                let (a, b) = (self.cal.working_day_on_or_after(day(from)), self.cal.working_day_on_or_after(day(to)));
                self.seq += 2;
                self.heap.push(Scheduled {
                    at: world::local(&self.cal, a, 9 * 60),
                    seq: self.seq - 1,
                    what: Happening::LeaveStarts(i),
                });
                self.heap.push(Scheduled {
                    at: world::local(&self.cal, b, 9 * 60),
                    seq: self.seq,
                    what: Happening::LeaveEnds(i),
                });
            }
        }
    }

    pub(super) async fn happen(&mut self, at: Timestamp, what: Happening) -> anyhow::Result<()> {
        match what {
            Happening::Referral(i) => self.referral(i).await,
            Happening::Decision(i) => self.decision(at, i).await,
            Happening::DailyReview(t) => self.daily_review(at, t).await,
            Happening::Visit { episode, generation } => self.visit(at, episode, generation).await,
            Happening::Assessed(e) => self.assessed(at, e).await,
            Happening::PlannedEnd(e) => self.planned_end(at, e).await,
            Happening::Joins(w) => self.joins(at, w).await,
            Happening::LeaveStarts(w) => self.leave_starts(at, w).await,
            Happening::LeaveEnds(w) => {
                self.workers[w].available = true;
                Ok(())
            }
        }
    }
}
