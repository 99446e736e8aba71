//! Carrying out what follows from a command's events: the snapshot the rules read is
//! loaded in one place, the pure rules ([`domain::reactions`]) decide, and each step is
//! applied in order inside the command's transaction.

use crate::{Result, Service};
use domain::escalation::{self, Ctx, EscalationId, Outcome, Raise, Routing, Subject};
use domain::event::Event;
use domain::ids::{StaffId, TeamId};
use domain::practice::Plan;
use domain::reactions::{self, ChildFacts, Needs, OpenCase, Snapshot, Step};
use jiff::Timestamp;
use store::{Reads, Tx};

impl Service {
    /// Works out and applies everything that follows from `events` (already applied).
    pub(super) async fn react(&self, tx: &mut Tx, events: &[Event], now: Timestamp) -> Result<()> {
        let needs = reactions::needs(events);
        if needs.is_empty() && !events.iter().any(reacts_to) {
            return Ok(());
        }
        let policy = self.policy_in(tx.reads()).await?;
        let ctx = Ctx { policy: &policy, calendar: self.calendar(), now };
        let snapshot = load_snapshot(tx.reads(), &needs, &ctx).await?;
        let steps = reactions::react(events, &snapshot, &ctx);
        self.carry_out(tx, &ctx, steps).await
    }

    /// Applies reaction steps in order.
    pub(super) async fn carry_out(&self, tx: &mut Tx, ctx: &Ctx<'_>, steps: Vec<Step>) -> Result<()> {
        for step in steps {
            match step {
                Step::Timers(timers) => tx.change_timers(&timers, ctx.now).await?,
                Step::Events(events) => tx.apply(&events, ctx.now).await?,
                Step::RaiseOrRepeat { trigger, subject, team, start_level, detail } => {
                    let out = self
                        .raise_or_repeat(tx.reads(), ctx, Raise { trigger, subject, team, start_level, detail })
                        .await?;
                    apply(tx, out, ctx.now).await?;
                }
                Step::Clear { trigger, subject } => {
                    if let Some(open) = tx.open_escalation(trigger, &subject).await? {
                        apply(tx, escalation::clear(ctx, &open), ctx.now).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Raises an escalation, or adds to the history of the one already open for the
    /// trigger and subject. `req.team` is the team to route by when the subject has
    /// none of its own.
    async fn raise_or_repeat(&self, reads: &mut Reads, ctx: &Ctx<'_>, req: Raise) -> Result<Outcome> {
        if let Some(open) = reads.open_escalation(req.trigger, &req.subject).await? {
            return Ok(escalation::repeat(ctx, &open, req.detail));
        }
        let (team, routing) = self.routing_for(reads, req.subject, req.team, ctx.now).await?;
        let id = EscalationId(reads.next_id(EscalationId::KIND).await?);
        let (trigger, subject) = (req.trigger, req.subject);
        match escalation::raise(ctx, id, Raise { team, ..req }, &routing) {
            Some(out) => Ok(out),
            None => {
                // The service has nobody at any level for this team, and no director:
                // say so loudly; there is no one to give it to.
                tracing::error!(trigger = trigger.code(), subject = %subject, "no one to escalate to: the service has no managers for this team and no director");
                Ok(Outcome::default())
            }
        }
    }

    /// Who an escalation about `subject` goes to, and whom else to tell.
    pub(crate) async fn routing_for(
        &self,
        reads: &mut Reads,
        subject: Subject,
        team_hint: Option<TeamId>,
        now: Timestamp,
    ) -> Result<(Option<TeamId>, Routing)> {
        let (team, worker, cp) = match subject {
            Subject::Child(child) => match reads.child_team_and_worker(child).await? {
                Some((team, worker, stage)) => (Some(team), worker, stage == Plan::Cp.stage().code()),
                // No open case (e.g. after "threshold not met"): the team that took the latest
                // referral answers for the child, so the escalation is not dropped for want of a line.
                None => {
                    let team = match team_hint {
                        Some(t) => Some(t),
                        None => reads.child_last_team(child).await?,
                    };
                    (team, None, false)
                }
            },
            Subject::Referral(r) => match team_hint {
                Some(t) => (Some(t), None, false),
                None => (reads.referral_state(r).await?.map(|r| r.team), None, false),
            },
            Subject::Worker(w) => (reads.staff_team(w).await?.or(team_hint), Some(w), false),
            Subject::Disagreement(_) => (team_hint, None, false),
        };
        let line = reads.line_for(team).await?;
        let people: Vec<StaffId> = line.levels.iter().flatten().copied().collect();
        let threshold = self.policy_in(reads).await?.overload_threshold;
        let status = reads.staff_statuses(&people, now, i64::from(threshold) + 1).await?;
        Ok((team, Routing { line, status, worker, child_on_cp_plan: cp }))
    }
}

/// Applies an outcome of the escalation engine: its events, then its timer changes.
pub(super) async fn apply(tx: &mut Tx, out: Outcome, now: Timestamp) -> Result<()> {
    tx.apply(&out.events, now).await?;
    tx.change_timers(&out.timers, now).await?;
    Ok(())
}

/// Events the rules act on without reading anything first.
fn reacts_to(e: &Event) -> bool {
    matches!(
        e,
        Event::DisagreementRaised { .. }
            | Event::StrategyDiscussionHeld { s47: true, .. }
            | Event::IcpcHeld { .. }
            | Event::ReviewConferenceHeld { .. }
            | Event::AssessmentCompleted { .. }
            | Event::CaseAllocated { .. }
    )
}

/// Loads what the rules will read, as [`reactions::needs`] lists it.
pub(crate) async fn load_snapshot(reads: &mut Reads, needs: &Needs, ctx: &Ctx<'_>) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    for (child, want) in &needs.children {
        let mut facts = ChildFacts::default();
        if want.case {
            facts.case = reads.child_team_and_worker(*child).await?.map(|(team, worker, stage)| OpenCase {
                team,
                worker,
                stage,
            });
        }
        if want.times {
            facts.times = reads.case_times(*child).await?;
        }
        if want.threshold {
            facts.latest_threshold = reads.latest_threshold(*child).await?;
        }
        if want.flags {
            facts.history = reads.child_history(*child).await?;
            facts.raised_flags = reads.raised_flags(*child).await?;
        }
        snap.children.insert(*child, facts);
    }
    for r in &needs.referrals {
        if let Some(state) = reads.referral_state(*r).await? {
            snap.referrals.insert(*r, state);
        }
    }
    for r in &needs.referrers {
        if let Some(by) = reads.referral_recorded_by(*r).await? {
            snap.referrers.insert(*r, by);
        }
    }
    let mut workers = needs.workers.clone();
    for child in &needs.workers_of {
        workers.extend(snap.children.get(child).and_then(|c| c.case.as_ref()).and_then(|c| c.worker));
    }
    for case in &needs.closed_cases {
        if let Some(worker) = reads.case_state(*case).await?.and_then(|c| c.worker) {
            snap.case_workers.insert(*case, worker);
            workers.insert(worker);
        }
    }
    let today = ctx.calendar.local_date(ctx.now);
    for w in workers {
        snap.workers.insert(w, reads.worker_load(w, ctx.policy, today).await?);
    }
    Ok(snap)
}

/// What the rules say a child's flags are now (the flag-window timer, when a windowed flag
/// may have lapsed).
pub(crate) async fn reflag(reads: &mut Reads, ctx: &Ctx<'_>, child: domain::ids::PersonId) -> Result<Vec<Step>> {
    let facts = ChildFacts {
        history: reads.child_history(child).await?,
        raised_flags: reads.raised_flags(child).await?,
        ..Default::default()
    };
    Ok(reactions::flag_changes(child, &facts, ctx))
}
