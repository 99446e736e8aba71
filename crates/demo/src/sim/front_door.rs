//! The front door: referrals recorded as they arrive, and the managers' decisions on them.

use super::people::person_input;
use super::timeline::{Happening, plus_days, plus_mins};
use super::{Episode, Sim, Work};
use crate::text::{self, LISTS};
use crate::world::{pick, weighted};
use anyhow::Context;
use commands::cases::NoteInput;
use commands::input::{DecisionInput, ReferralChildInput, ReferralInput};
use domain::authz::Actor;
use domain::ids::{PersonId, ReferralId};
use domain::referral::Decision;
use jiff::Timestamp;
use rand::Rng;
use store::query;

impl Sim {
    pub(super) async fn referral(&mut self, i: usize) -> anyhow::Result<()> {
        let r = self.plan.referrals[i].clone();
        let f = r.family;
        let team = self.plan.families[f].team;
        let delay = if r.via_partner { 0 } else { self.rng.random_range(5..40) };
        self.tick(plus_mins(r.at, delay));
        let by = if r.via_partner { self.partner(r.source)? } else { self.duty_worker(team)? };
        let children = r
            .children
            .iter()
            .map(|c| match self.families[f].children[*c] {
                Some(id) => ReferralChildInput { person_id: Some(id.0), ..Default::default() },
                None => ReferralChildInput {
                    person_id: None,
                    details: person_input(&self.plan.families[f].children[*c], "child"),
                },
            })
            .collect();
        let input = ReferralInput {
            team: Some(self.teams[team].id.0),
            source: r.source.code().into(),
            referrer: r.referrer.clone(),
            received_at: Some(r.at.to_string()),
            concern: r.concern.clone(),
            categories: r.categories.iter().map(|c| c.to_string()).collect(),
            children,
        };
        let id = self.svc.create_referral(&by, &input).await;
        let id = self.done(id, "referral")?;
        self.referral_ids[i] = Some(id);
        let new: Vec<usize> = r.children.iter().copied().filter(|c| self.families[f].children[*c].is_none()).collect();
        if !new.is_empty() {
            // New children were registered by the referral, numbered in the order named.
            let view = query::referral(self.svc.store(), id).await?.context("the referral just recorded")?;
            let known: Vec<PersonId> = self.families[f].children.iter().flatten().copied().collect();
            let fresh: Vec<PersonId> = view.children.iter().map(|c| c.id).filter(|p| !known.contains(p)).collect();
            anyhow::ensure!(
                fresh.len() == new.len(),
                "referral {id} registered {} children, expected {}",
                fresh.len(),
                new.len()
            );
            for (c, p) in new.into_iter().zip(fresh) {
                self.families[f].children[c] = Some(p);
            }
        }
        if !self.families[f].registered {
            let recorder = if by.role.is_practitioner() { by } else { self.duty_worker(team)? };
            self.register_family(f, &recorder).await?;
        }
        if !r.hold_decision {
            let urgent = r.decision == Decision::StrategyDiscussion || r.hold_allocation;
            let at = self.decision_time(r.at, urgent);
            self.schedule(at, Happening::Decision(i));
        }
        Ok(())
    }

    /// When the manager gets to a referral: most the same day, some the next, a few late.
    fn decision_time(&mut self, received: Timestamp, urgent: bool) -> Timestamp {
        let base = self.cal.next_opening(received.max(self.now));
        if urgent {
            return plus_mins(base, self.rng.random_range(20..120));
        }
        match weighted(&mut self.rng, &[60, 30, 10]) {
            0 => plus_mins(base, self.rng.random_range(60..300)),
            1 => {
                let next = self.cal.add_working_days(base, 1);
                plus_mins(self.cal.next_opening(next), self.rng.random_range(0..420))
            }
            _ => {
                let later = self.cal.add_working_days(base, self.rng.random_range(2..5));
                plus_mins(self.cal.next_opening(later), self.rng.random_range(0..420))
            }
        }
    }

    pub(super) async fn decision(&mut self, at: Timestamp, i: usize) -> anyhow::Result<()> {
        self.tick(at);
        let r = self.plan.referrals[i].clone();
        let f = r.family;
        let team = self.plan.families[f].team;
        let referral_id = self.referral_id(i)?;
        let open_children: Vec<usize> =
            r.children.iter().copied().filter(|c| self.open_episode_of(f, *c).is_some()).collect();
        let all_open = !open_children.is_empty() && open_children.len() == r.children.len();
        let decision = if all_open { Decision::Assessment } else { r.decision };
        let reason = if all_open {
            text::LINKED_REASON
        } else {
            pick(&mut self.rng, text::decision_reasons(decision, r.categories.first().copied().unwrap_or("neglect")))
        };
        let by =
            if self.rng.random_bool(0.1) { self.teams[team].service_manager.clone() } else { self.manager_of(team) };
        let input = DecisionInput { decision: decision.code().into(), reason: reason.into() };
        let outcome = self.svc.decide_referral(&by, referral_id, &input).await;
        let outcome = self.done(outcome, "decision")?;

        for case in &outcome.linked {
            let Some(e) = self.episodes.iter().position(|e| !e.closed && e.cases.iter().any(|(c, _)| c == case)) else {
                continue;
            };
            let extra = self.rng.random_range(21..70) as f64;
            self.episodes[e].planned_end = plus_days(self.episodes[e].planned_end, extra);
            self.episodes[e].latest_end = plus_days(self.episodes[e].latest_end, extra);
        }
        if let Some(first) = outcome.linked.first() {
            let e = self.episodes.iter().position(|e| !e.closed && e.cases.iter().any(|(c, _)| c == first));
            if let Some(w) = e.and_then(|e| self.episodes[e].worker) {
                let worker = self.workers[w].actor.clone().context("allocated worker")?;
                self.pause(20, 90);
                let summary: String = r.concern.split_inclusive(". ").next().unwrap_or(&r.concern).trim().to_string();
                let note = text::fill(
                    text::LINKED_NOTE,
                    &[("source", r.source.code()), ("summary", &summary), ("manager", &self.names_of(&by))],
                );
                let n = self.svc.add_case_note(&worker, *first, &NoteInput { text: note }).await;
                self.done(n, "linked note")?;
            }
        }
        if outcome.opened.is_empty() {
            return Ok(());
        }

        let mut cases = Vec::new();
        for case in &outcome.opened {
            let view = query::case(self.svc.store(), *case).await?.context("the case just opened")?;
            let child = self.families[f]
                .children
                .iter()
                .position(|p| *p == Some(view.child.id))
                .context("the case's child is in the family")?;
            cases.push((*case, child));
        }
        let work = Work::for_decision(&mut self.rng, team, decision);
        let days = work.planned_days(&mut self.rng);
        let planned_end = plus_days(self.now, days as f64);
        let latest_end = plus_days(planned_end, (days as f64).max(120.0));
        let e = self.episodes.len();
        let n = cases.len();
        self.episodes.push(Episode {
            family: f,
            team,
            cases,
            work,
            opened_at: self.now,
            planned_end,
            latest_end,
            worker: None,
            generation: 0,
            closed: false,
            urgent: decision == Decision::StrategyDiscussion,
            held: r.hold_allocation,
            queued_since: self.now,
            assessed: false,
        });
        self.teams[team].open += n;
        self.families[f].open.push(e);
        self.schedule(planned_end, Happening::PlannedEnd(e));
        // Most assessments are done well inside 45 working days (about 63 days); a
        // stretched team's run late. Plan work starts its plan the day it is done.
        let assess_days = match work {
            Work::Assessment => self.rng.random_range(14.0..75.0f64).min(days as f64 - 2.0),
            _ => self.rng.random_range(10.0..50.0),
        };
        self.schedule(plus_days(self.now, assess_days.max(3.0)), Happening::Assessed(e));
        if decision == Decision::StrategyDiscussion {
            self.strategy_note(e, &by).await?;
        }
        self.teams[team].queue.push(e);
        if self.episodes[e].urgent {
            // Strategy cases get a worker the same day, room or not.
            self.allocate_queue(team, Some(e)).await?;
        }
        Ok(())
    }

    fn referral_id(&self, i: usize) -> anyhow::Result<ReferralId> {
        self.referral_ids.get(i).copied().flatten().context("the referral was recorded before its decision")
    }

    async fn strategy_note(&mut self, e: usize, manager: &Actor) -> anyhow::Result<()> {
        let (case, child) = self.episodes[e].cases[0];
        let fam = &self.plan.families[self.episodes[e].family];
        let child_name = fam.children[child].given.clone();
        let female = fam.children[child].female;
        let parent = fam.carer_name().to_string();
        let officer = pick(&mut self.rng, &LISTS.family);
        let school = pick(&mut self.rng, &LISTS.schools);
        let health = pick(&mut self.rng, &LISTS.health);
        let template = pick(&mut self.rng, text::STRATEGY_NOTES);
        let note = text::fill_about(
            template,
            female,
            &[
                ("officer", officer),
                ("health", health),
                ("school", school),
                ("child", &child_name),
                ("parent", &parent),
                ("worker_or_duty", "The duty social worker"),
            ],
        );
        self.pause(60, 150);
        let r = self.svc.add_case_note(manager, case, &NoteInput { text: note }).await;
        self.done(r, "strategy note")?;
        Ok(())
    }

    fn open_episode_of(&self, f: usize, child: usize) -> Option<usize> {
        self.families[f].open.iter().copied().find(|e| self.episodes[*e].cases.iter().any(|(_, c)| *c == child))
    }
}
