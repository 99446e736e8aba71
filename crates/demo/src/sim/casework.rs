//! The work on a case: visits and notes, assessments and plans, and closing.

use super::timeline::{Happening, plus_days, plus_mins};
use super::{Sim, Work};
use crate::text::{self, LISTS};
use crate::world::{self, pick, weighted};
use anyhow::Context;
use commands::cases::{CloseInput, NoteInput};
use commands::input::VisitInput;
use commands::practice::{PlanInput, WhenInput};
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use rand::Rng;

impl Sim {
    pub(super) async fn visit(&mut self, at: Timestamp, e: usize, generation: u32) -> anyhow::Result<()> {
        let ep = &self.episodes[e];
        let Some(w) = ep.worker else { return Ok(()) };
        if ep.closed || ep.generation != generation || !self.workers[w].available {
            return Ok(());
        }
        let worker = self.workers[w].actor.clone().context("allocated worker")?;
        let fam = self.plan.families[ep.family].clone();
        let cases = ep.cases.clone();
        let work = ep.work;
        // Visits are written up an hour or two later.
        let write_up = self.rng.random_range(60..180);
        self.tick(plus_mins(at, write_up));
        let no_access = self.rng.random_bool(fam.no_access);
        let school = pick(&mut self.rng, &LISTS.schools);
        let mut missed = no_access;
        for (case, child) in &cases {
            let person = &fam.children[*child];
            let outcome = if no_access {
                VisitOutcome::NoAccess
            } else if self.rng.random_bool(fam.not_seen) {
                missed = true;
                VisitOutcome::NotSeen
            } else if person.age_on(self.cal.local_date(at)) >= 4 && self.rng.random_bool(0.68) {
                VisitOutcome::SeenAlone
            } else {
                VisitOutcome::Seen
            };
            let templates = match outcome {
                VisitOutcome::SeenAlone => text::SEEN_ALONE_NOTES,
                VisitOutcome::Seen => text::SEEN_NOTES,
                VisitOutcome::NotSeen => text::NOT_SEEN_NOTES,
                VisitOutcome::NoAccess => text::NO_ACCESS_NOTES,
            };
            let note = text::fill_about(
                pick(&mut self.rng, templates),
                person.female,
                &[("child", &person.given), ("parent", fam.carer_name()), ("school", school)],
            );
            self.pause(1, 4);
            let input = VisitInput {
                visited_at: Some(at.min(self.now).to_string()),
                outcome: outcome.code().into(),
                note: Some(note),
            };
            let r = self.svc.record_visit(&worker, *case, &input).await;
            self.done(r, "visit")?;
        }
        if self.rng.random_bool(0.2) {
            let (case, child) = cases[0];
            let manager = self.names_of(&self.manager_of(self.episodes[e].team));
            let health = pick(&mut self.rng, &LISTS.health);
            let note = text::fill_about(
                pick(&mut self.rng, text::CASE_NOTES),
                fam.children[child].female,
                &[
                    ("child", &fam.children[child].given),
                    ("parent", fam.carer_name()),
                    ("school", school),
                    ("health", health),
                    ("manager", &manager),
                ],
            );
            self.pause(10, 90);
            let r = self.svc.add_case_note(&worker, case, &NoteInput { text: note }).await;
            self.done(r, "case note")?;
        }
        // An overloaded worker gets round less often.
        let strain = (self.workers[w].load as f64 / self.workers[w].cap).max(1.0).powf(1.3);
        let days = if missed {
            self.rng.random_range(2.0..7.0) * strain.sqrt()
        } else {
            work.visit_days() * strain * self.rng.random_range(0.75..1.3)
        };
        let next = self.visit_slot(days);
        self.schedule(next, Happening::Visit { episode: e, generation });
        Ok(())
    }

    /// The worker (or, with none yet, the manager) completes the assessment; for plan
    /// work the manager starts the plan the same day.
    pub(super) async fn assessed(&mut self, at: Timestamp, e: usize) -> anyhow::Result<()> {
        if self.episodes[e].closed {
            return Ok(());
        }
        let day = self.cal.working_day_on_or_after(self.cal.local_date(at));
        let when = world::local(&self.cal, day, self.rng.random_range(10 * 60..16 * 60));
        self.tick(when);
        let (team, worker, work) = (self.episodes[e].team, self.episodes[e].worker, self.episodes[e].work);
        let manager = self.manager_of(team);
        let by = match worker.and_then(|w| self.workers[w].actor.clone()) {
            Some(a) => a,
            None => manager.clone(),
        };
        let plan = match work {
            Work::Assessment => None,
            Work::ChildInNeed => Some("cin"),
            Work::ChildProtection => Some("cp"),
            Work::LookedAfter => Some("lac"),
        };
        let category = plan
            .filter(|p| *p == "cp")
            .map(|_| ["neglect", "emotional", "physical", "sexual"][weighted(&mut self.rng, &[48, 35, 10, 7])]);
        for (case, _) in self.episodes[e].cases.clone() {
            self.pause(2, 10);
            let r = self.svc.complete_assessment(&by, case, &WhenInput::default()).await;
            self.done(r, "assessment")?;
            if let Some(plan) = plan {
                self.pause(5, 30);
                let input = PlanInput { plan: plan.into(), category: category.map(Into::into), at: None };
                let r = self.svc.start_plan(&manager, case, &input).await;
                self.done(r, "plan")?;
            }
        }
        self.episodes[e].assessed = true;
        Ok(())
    }

    pub(super) async fn planned_end(&mut self, at: Timestamp, e: usize) -> anyhow::Result<()> {
        let ep = &self.episodes[e];
        if ep.closed || ep.held {
            return Ok(());
        }
        let team = ep.team;
        // A team with room keeps work open longer; one without closes on time.
        if at < ep.latest_end && (self.teams[team].open as f64) < self.capacity(team) {
            let later = plus_days(at, self.rng.random_range(21..56) as f64);
            self.episodes[e].planned_end = later;
            self.schedule(later, Happening::PlannedEnd(e));
            return Ok(());
        }
        let day = self.cal.working_day_on_or_after(self.cal.local_date(at));
        let when = world::local(&self.cal, day, self.rng.random_range(11 * 60..17 * 60));
        self.tick(when);
        let reason = pick(&mut self.rng, text::closure_reasons(self.episodes[e].work.closure_kind()));
        self.close(e, reason).await
    }

    /// The worker writes a closing summary (often) and the manager closes every case.
    pub(super) async fn close(&mut self, e: usize, reason: &str) -> anyhow::Result<()> {
        let ep = &self.episodes[e];
        let (team, f, worker) = (ep.team, ep.family, ep.worker);
        let cases = ep.cases.clone();
        if let Some(w) = worker
            && self.rng.random_bool(0.5)
        {
            let fam = &self.plan.families[f];
            let note = text::fill_about(
                pick(&mut self.rng, text::CLOSING_NOTES),
                fam.children[cases[0].1].female,
                &[
                    ("child", &fam.children[cases[0].1].given),
                    ("parent", fam.carer_name()),
                    ("school", pick(&mut self.rng, &LISTS.schools)),
                ],
            );
            let actor = self.workers[w].actor.clone().context("allocated worker")?;
            self.pause(5, 60);
            let r = self.svc.add_case_note(&actor, cases[0].0, &NoteInput { text: note }).await;
            self.done(r, "closing note")?;
        }
        let manager = self.manager_of(team);
        for (case, _) in &cases {
            self.pause(1, 3);
            let r = self.svc.close_case(&manager, *case, &CloseInput { reason: reason.into() }).await;
            self.done(r, "closure")?;
        }
        if let Some(w) = worker {
            self.workers[w].load -= cases.len();
        }
        self.teams[team].open -= cases.len();
        self.teams[team].queue.retain(|q| *q != e);
        self.families[f].open.retain(|o| *o != e);
        self.episodes[e].closed = true;
        Ok(())
    }
}
