//! Allocation: managers give cases to workers with room, and step work down when a team is full.

use super::timeline::{Happening, plus_days};
use super::{MAX_WAIT_WORKING_DAYS, Sim, TEAM_HEADROOM, Work};
use crate::text;
use crate::world;
use anyhow::Context;
use commands::input::AllocationInput;
use jiff::Timestamp;
use jiff::civil::Weekday;
use rand::Rng;

impl Sim {
    /// The available worker in `team` with the most room for `k` more children, and how
    /// full that leaves them against their target (1.0 = at target).
    pub(super) fn roomiest(&mut self, team: usize, k: usize, except: Option<usize>) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for w in 0..self.workers.len() {
            let worker = &self.workers[w];
            if worker.team != team || !worker.available || Some(w) == except {
                continue;
            }
            let fullness = (worker.load + k) as f64 / worker.target;
            let jittered = fullness * self.rng.random_range(0.93..1.07);
            if best.is_none_or(|(_, b)| jittered < b) {
                best = Some((w, jittered));
            }
        }
        best.map(|(w, _)| (w, (self.workers[w].load + k) as f64 / self.workers[w].target))
    }

    /// The worker already holding another open episode of this family in the team.
    fn family_worker(&self, e: usize) -> Option<usize> {
        let ep = &self.episodes[e];
        self.families[ep.family]
            .open
            .iter()
            .filter(|o| **o != e && self.episodes[**o].team == ep.team)
            .filter_map(|o| self.episodes[*o].worker)
            .find(|w| self.workers[*w].available)
    }

    /// Gives every case in episode `e` to worker `w`, with `reason` where it takes them over the cap.
    pub(super) async fn allocate(&mut self, e: usize, w: usize, reason: &str) -> anyhow::Result<()> {
        let manager = self.manager_of(self.episodes[e].team);
        let worker = self.workers[w].actor.clone().context("allocating to a worker with an account")?;
        let previous = self.episodes[e].worker;
        for (case, _) in self.episodes[e].cases.clone() {
            let load_after = (self.workers[w].load + 1) as f64;
            // A newly qualified worker takes a child on a CP plan only with a reason.
            let cp_for_newly_qualified = self.workers[w].member.newly_qualified
                && self.episodes[e].assessed
                && self.episodes[e].work == Work::ChildProtection;
            let over = domain::caseload::is_over_cap(load_after, self.workers[w].cap) || cp_for_newly_qualified;
            self.pause(1, 4);
            let input =
                AllocationInput { worker: Some(worker.staff.0), override_reason: over.then(|| reason.to_string()) };
            let r = self.svc.allocate(&manager, case, &input).await;
            self.done(r, "allocation")?;
            self.workers[w].load += 1;
            if let Some(p) = previous {
                self.workers[p].load -= 1;
            }
        }
        let ep = &mut self.episodes[e];
        ep.worker = Some(w);
        ep.generation += 1;
        let generation = ep.generation;
        let first = match ep.work {
            _ if ep.urgent && previous.is_none() => 0.0,
            Work::ChildProtection => 2.0,
            Work::LookedAfter => 5.0,
            _ => self.rng.random_range(1.0..6.0),
        };
        let at = self.visit_slot(first);
        self.schedule(at, Happening::Visit { episode: e, generation });
        Ok(())
    }

    /// The manager works through the team's unallocated cases: a worker with room gets the
    /// next; a case that has waited three weeks (or is urgent) goes to the lightest load.
    /// With `only`, just that episode.
    pub(super) async fn allocate_queue(&mut self, team: usize, only: Option<usize>) -> anyhow::Result<()> {
        let waiting: Vec<usize> =
            self.teams[team].queue.iter().copied().filter(|e| only.is_none_or(|o| o == *e)).collect();
        for e in waiting {
            if self.episodes[e].held || self.episodes[e].closed {
                continue;
            }
            let k = self.episodes[e].cases.len();
            let choice = if let Some(w) = self.family_worker(e) {
                Some((w, text::OVER_CAP_REASONS[1]))
            } else {
                let waited = self.cal.working_days_between(self.episodes[e].queued_since, self.now);
                match self.roomiest(team, k, None) {
                    Some((w, fullness)) if fullness <= 1.0 => Some((w, text::OVER_CAP_REASONS[3])),
                    Some((w, _)) if self.episodes[e].urgent => Some((w, text::OVER_CAP_REASONS[2])),
                    Some((w, _)) if waited >= MAX_WAIT_WORKING_DAYS => Some((w, text::OVER_CAP_REASONS[0])),
                    _ => None,
                }
            };
            if let Some((w, reason)) = choice {
                self.allocate(e, w, reason).await?;
                self.teams[team].queue.retain(|q| *q != e);
            }
        }
        Ok(())
    }

    pub(super) async fn daily_review(&mut self, at: Timestamp, team: usize) -> anyhow::Result<()> {
        self.tick(at);
        self.allocate_queue(team, None).await?;
        if self.today().weekday() == Weekday::Monday {
            self.step_down_for_capacity(team).await?;
        }
        let next = self.cal.next_working_day(self.today());
        let at = world::local(&self.cal, next, 10 * 60 + 20 * team as i64);
        self.schedule(at, Happening::DailyReview(team));
        Ok(())
    }

    /// What the team's available workers can carry.
    pub(super) fn capacity(&self, team: usize) -> f64 {
        self.workers.iter().filter(|w| w.team == team && w.available).map(|w| w.target).sum::<f64>() * TEAM_HEADROOM
    }

    /// The weekly caseload meeting: when the team holds more than it can carry, the cases
    /// nearest their planned end are stepped down (a few a week).
    async fn step_down_for_capacity(&mut self, team: usize) -> anyhow::Result<()> {
        for _ in 0..4 {
            if (self.teams[team].open as f64) <= self.capacity(team) {
                break;
            }
            let now = self.now;
            let candidate = (0..self.episodes.len())
                .filter(|e| {
                    let ep = &self.episodes[*e];
                    ep.team == team
                        && !ep.closed
                        && !ep.held
                        && ep.worker.is_some()
                        && plus_days(ep.opened_at, ep.work.minimum_days() as f64) <= now
                })
                .min_by_key(|e| self.episodes[*e].planned_end);
            let Some(e) = candidate else { break };
            self.close(e, text::STEP_DOWN_REASON).await?;
        }
        Ok(())
    }
}
