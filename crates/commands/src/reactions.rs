//! What follows from what happened: timers started, moved and met; escalations raised and
//! cleared; flags raised and cleared. Runs inside the command's transaction, after its
//! events are applied, so the command, its consequences and its audit entry commit
//! together.

use crate::{Result, Service};
use domain::escalation::{self, Ctx, Escalation, EscalationId, Outcome, Raise, Routing, Subject, Trigger};
use domain::event::Event;
use domain::flags;
use domain::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use domain::practice::{Plan, ThresholdOutcome};
use domain::timer::{TimerChange, TimerKind};
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use std::collections::BTreeSet;
use store::Tx;

/// Deadlines about a child that end with their case.
const CASE_DEADLINES: [TimerKind; 5] = [
    TimerKind::VisitDue,
    TimerKind::AssessmentDue,
    TimerKind::IcpcDue,
    TimerKind::ReviewConferenceDue,
    TimerKind::CaseUnallocatedDue,
];

/// Triggers whose condition ends with the child's case.
const CASE_TRIGGERS: [Trigger; 5] = [
    Trigger::ChildNotSeen,
    Trigger::VisitOverdue,
    Trigger::AssessmentOverdue,
    Trigger::IcpcOverdue,
    Trigger::CaseUnallocated,
];

/// A notification about a case or a referral (escalations notify through the engine).
fn notice(to: StaffId, text: String, at: Timestamp, case: Option<CaseId>, referral: Option<ReferralId>) -> Event {
    Event::NotificationQueued { to, about: None, text, at, case, referral, inbox_only: false }
}

impl Service {
    /// Applies an outcome: its events to the tables, its timer changes to the timers.
    pub(crate) async fn apply_outcome(&self, tx: &mut Tx, out: Outcome, now: Timestamp) -> Result<()> {
        tx.apply(&out.events, now).await?;
        tx.change_timers(&out.timers, now).await?;
        Ok(())
    }

    /// Works out and applies everything that follows from `events` (already applied).
    pub(crate) async fn react(&self, tx: &mut Tx, events: &[Event], now: Timestamp) -> Result<()> {
        let policy = self.policy_in(tx).await?;
        let ctx = Ctx { policy: &policy, calendar: self.calendar(), now };
        let ts = &policy.timescales;
        let cal = self.calendar();
        let mut reflag: BTreeSet<PersonId> = BTreeSet::new();
        for e in events {
            match e {
                Event::ReferralReceived { referral, team, received_at, children, source, .. } => {
                    let due = cal.add(*received_at, &ts.referral_decision);
                    tx.change_timers(
                        &[TimerChange::schedule(TimerKind::ReferralDecisionDue, referral.subject(), due, 0)],
                        now,
                    )
                    .await?;
                    for child in children {
                        let what = format!("Referral {} from {}", referral.reference(), source.code());
                        self.after_new_concern(tx, &ctx, *child, Some(*team), &what).await?;
                        self.check_repeat_referrals(tx, &ctx, *child, *team, referral).await?;
                        reflag.insert(*child);
                    }
                }
                Event::DisagreementRaised { disagreement, referral, team, text, .. } => {
                    let detail = format!("A partner disagrees with the decision on {}: {}", referral.reference(), text);
                    self.raise_or_repeat(
                        tx,
                        &ctx,
                        Trigger::ProfessionalDisagreement,
                        Subject::Disagreement(*disagreement),
                        Some(*team),
                        None,
                        detail,
                    )
                    .await?;
                }
                Event::ConcernRecorded { child, concern, source, .. } => {
                    let what = format!("Concern {concern} from {}", source.code());
                    self.after_new_concern(tx, &ctx, *child, None, &what).await?;
                    reflag.insert(*child);
                }
                Event::ReferralDecided { referral, decision, by, at, .. } => {
                    tx.change_timers(&[TimerChange::done(TimerKind::ReferralDecisionDue, referral.subject())], now)
                        .await?;
                    self.clear(tx, &ctx, Trigger::ReferralDecisionOverdue, Subject::Referral(*referral)).await?;
                    // The referrer hears the outcome (partners included: it is their referral).
                    if let Some(referrer) = tx.referral_recorded_by(*referral).await?.filter(|r| r != by) {
                        let text = format!(
                            "Your referral {} has been decided: {}",
                            referral.reference(),
                            decision.code().replace('_', " ")
                        );
                        tx.apply(&[notice(referrer, text, *at, None, Some(*referral))], now).await?;
                    }
                }
                Event::CaseOpened { child, referral, at, .. } => {
                    let received = tx.referral_state(*referral).await?.map(|r| r.received_at).unwrap_or(*at);
                    tx.change_timers(
                        &[
                            TimerChange::schedule(
                                TimerKind::CaseUnallocatedDue,
                                child.subject(),
                                cal.add(*at, &ts.case_unallocated),
                                0,
                            ),
                            TimerChange::schedule(
                                TimerKind::AssessmentDue,
                                child.subject(),
                                cal.add(received, &ts.assessment),
                                0,
                            ),
                        ],
                        now,
                    )
                    .await?;
                }
                Event::CaseAllocated { case, child, worker, previous, load_after, cap, by, at, .. } => {
                    if worker != by {
                        let text = format!("Case {} has been allocated to you", case.reference());
                        tx.apply(&[notice(*worker, text, *at, Some(*case), None)], now).await?;
                    }
                    tx.change_timers(&[TimerChange::done(TimerKind::CaseUnallocatedDue, child.subject())], now).await?;
                    self.clear(tx, &ctx, Trigger::CaseUnallocated, Subject::Child(*child)).await?;
                    self.check_caseload(tx, &ctx, *worker, Some((*load_after, *cap))).await?;
                    if let Some(p) = previous {
                        self.check_caseload(tx, &ctx, *p, None).await?;
                    }
                }
                Event::VisitRecorded { child, visited_at, outcome, visit, .. } => {
                    let times = tx.case_times(*child).await?.unwrap_or_default();
                    if outcome.saw_child() {
                        // Visits may be recorded late: only the latest visit can show the
                        // child is now seen, and only the latest seen visit moves the clock.
                        if times.last_visit_at == Some(*visited_at) {
                            self.clear(tx, &ctx, Trigger::ChildNotSeen, Subject::Child(*child)).await?;
                        }
                        if times.last_seen_at == Some(*visited_at) {
                            self.clear(tx, &ctx, Trigger::VisitOverdue, Subject::Child(*child)).await?;
                            self.schedule_visit(tx, &ctx, *child).await?;
                        }
                    } else if times.last_seen_at.is_none_or(|seen| seen < *visited_at) {
                        let detail = format!(
                            "Visit {} on {}: {}",
                            visit.reference(),
                            cal.local_datetime(*visited_at).strftime("%-d %b %Y %H:%M"),
                            if *outcome == VisitOutcome::NoAccess { "no access" } else { "child not seen" }
                        );
                        self.raise_or_repeat(
                            tx,
                            &ctx,
                            Trigger::ChildNotSeen,
                            Subject::Child(*child),
                            None,
                            None,
                            detail,
                        )
                        .await?;
                    }
                    reflag.insert(*child);
                }
                Event::PlanStarted { child, .. } => {
                    // A plan changes what the child weighs in their worker's caseload.
                    if let Some((_, Some(worker), _)) = tx.child_team_and_worker(*child).await? {
                        self.check_caseload(tx, &ctx, worker, None).await?;
                    }
                    // A new plan restarts the visiting clock.
                    self.clear(tx, &ctx, Trigger::VisitOverdue, Subject::Child(*child)).await?;
                    self.schedule_visit(tx, &ctx, *child).await?;
                    reflag.insert(*child);
                }
                Event::StrategyDiscussionHeld { child, s47: true, at, .. } => {
                    tx.change_timers(
                        &[TimerChange::schedule(TimerKind::IcpcDue, child.subject(), cal.add(*at, &ts.icpc), 0)],
                        now,
                    )
                    .await?;
                }
                Event::IcpcHeld { child, at, .. } => {
                    tx.change_timers(
                        &[
                            TimerChange::done(TimerKind::IcpcDue, child.subject()),
                            TimerChange::schedule(
                                TimerKind::ReviewConferenceDue,
                                child.subject(),
                                cal.add(*at, &ts.first_review_conference),
                                0,
                            ),
                        ],
                        now,
                    )
                    .await?;
                    self.clear(tx, &ctx, Trigger::IcpcOverdue, Subject::Child(*child)).await?;
                }
                Event::ReviewConferenceHeld { child, at, .. } => {
                    let next = cal.add(*at, &ts.review_conference);
                    tx.change_timers(
                        &[TimerChange::schedule(TimerKind::ReviewConferenceDue, child.subject(), next, 0)],
                        now,
                    )
                    .await?;
                }
                Event::AssessmentCompleted { child, .. } => {
                    tx.change_timers(&[TimerChange::done(TimerKind::AssessmentDue, child.subject())], now).await?;
                    self.clear(tx, &ctx, Trigger::AssessmentOverdue, Subject::Child(*child)).await?;
                }
                Event::ThresholdDecisionRecorded { child, outcome, review_by, .. } => {
                    let mut timers = vec![TimerChange::done(TimerKind::ThresholdReviewDue, child.subject())];
                    if let (ThresholdOutcome::NotMet, Some(date)) = (outcome, review_by) {
                        timers.push(TimerChange::schedule(
                            TimerKind::ThresholdReviewDue,
                            child.subject(),
                            cal.deadline_for_date(*date),
                            0,
                        ));
                    }
                    tx.change_timers(&timers, now).await?;
                    // A new decision answers both the review and any concern that followed the old one.
                    self.clear(tx, &ctx, Trigger::ThresholdReviewOverdue, Subject::Child(*child)).await?;
                    self.clear(tx, &ctx, Trigger::ConcernAfterThresholdNotMet, Subject::Child(*child)).await?;
                    reflag.insert(*child);
                }
                Event::CaseClosed { case, child, .. } => {
                    let done: Vec<TimerChange> =
                        CASE_DEADLINES.iter().map(|k| TimerChange::done(*k, child.subject())).collect();
                    tx.change_timers(&done, now).await?;
                    for t in CASE_TRIGGERS {
                        self.clear(tx, &ctx, t, Subject::Child(*child)).await?;
                    }
                    if let Some(worker) = tx.case_state(*case).await?.and_then(|c| c.worker) {
                        self.check_caseload(tx, &ctx, worker, None).await?;
                    }
                    reflag.insert(*child);
                }
                _ => {}
            }
        }
        for child in reflag {
            self.reflag(tx, &ctx, child).await?;
        }
        Ok(())
    }

    /// Who an escalation about `subject` goes to, and whom else to tell.
    pub(crate) async fn routing_for(
        &self,
        tx: &mut Tx,
        subject: Subject,
        team_hint: Option<TeamId>,
        now: Timestamp,
    ) -> Result<(Option<TeamId>, Routing)> {
        let (team, worker, cp) = match subject {
            Subject::Child(child) => match tx.child_team_and_worker(child).await? {
                Some((team, worker, stage)) => (Some(team), worker, stage == Plan::Cp.stage().code()),
                // No open case (e.g. after "threshold not met"): the team that took the latest
                // referral answers for the child, so the escalation is not dropped for want of a line.
                None => {
                    let team = match team_hint {
                        Some(t) => Some(t),
                        None => tx.child_last_team(child).await?,
                    };
                    (team, None, false)
                }
            },
            Subject::Referral(r) => match team_hint {
                Some(t) => (Some(t), None, false),
                None => (tx.referral_state(r).await?.map(|r| r.team), None, false),
            },
            Subject::Worker(w) => (tx.staff_team(w).await?.or(team_hint), Some(w), false),
            Subject::Disagreement(_) => (team_hint, None, false),
        };
        let line = tx.line_for(team).await?;
        let people: Vec<StaffId> = line.levels.iter().flatten().copied().collect();
        let threshold = self.policy_in(tx).await?.overload_threshold;
        let status = tx.staff_statuses(&people, now, i64::from(threshold) + 1).await?;
        Ok((team, Routing { line, status, worker, child_on_cp_plan: cp }))
    }

    /// Raises an escalation, or adds to the history of the one already open.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn raise_or_repeat(
        &self,
        tx: &mut Tx,
        ctx: &Ctx<'_>,
        trigger: Trigger,
        subject: Subject,
        team_hint: Option<TeamId>,
        start_level: Option<u8>,
        detail: String,
    ) -> Result<()> {
        if let Some(open) = tx.open_escalation(trigger, &subject).await? {
            return self.apply_outcome(tx, escalation::repeat(ctx, &open, detail), ctx.now).await;
        }
        let (team, routing) = self.routing_for(tx, subject, team_hint, ctx.now).await?;
        let id = EscalationId(tx.next_id(EscalationId::KIND).await?);
        let req = Raise { trigger, subject, team, start_level, detail };
        match escalation::raise(ctx, id, req, &routing) {
            Some(out) => self.apply_outcome(tx, out, ctx.now).await,
            None => {
                // Nobody holds any level for this team: say so loudly rather than drop it.
                tracing::error!(trigger = trigger.code(), subject = %subject, "no one to escalate to: the team has no managers");
                Ok(())
            }
        }
    }

    /// Resolves the open escalation for a trigger and subject, if any: its condition cleared.
    pub(crate) async fn clear(&self, tx: &mut Tx, ctx: &Ctx<'_>, trigger: Trigger, subject: Subject) -> Result<()> {
        if let Some(open) = tx.open_escalation(trigger, &subject).await? {
            self.apply_outcome(tx, escalation::clear(ctx, &open), ctx.now).await?;
        }
        Ok(())
    }

    /// A referral or concern about a child soon after a "threshold not met" decision goes
    /// straight to level 2 with the decision in front of the manager.
    async fn after_new_concern(
        &self,
        tx: &mut Tx,
        ctx: &Ctx<'_>,
        child: PersonId,
        team: Option<TeamId>,
        what: &str,
    ) -> Result<()> {
        let Some(t) = tx.latest_threshold(child).await? else { return Ok(()) };
        let window_end = ctx.calendar.add(t.decided_at, &ctx.policy.flags.threshold_concern_window);
        if t.outcome == ThresholdOutcome::NotMet && t.decided_at <= ctx.now && ctx.now < window_end {
            let detail = format!(
                "{what}, within {} of a decision on {} that the threshold was not met (reason given: {})",
                ctx.policy.flags.threshold_concern_window,
                ctx.calendar.local_date(t.decided_at),
                t.reason
            );
            self.raise_or_repeat(
                tx,
                ctx,
                Trigger::ConcernAfterThresholdNotMet,
                Subject::Child(child),
                team,
                None,
                detail,
            )
            .await?;
        }
        Ok(())
    }

    /// The third referral within the window raises `repeat_referrals`.
    async fn check_repeat_referrals(
        &self,
        tx: &mut Tx,
        ctx: &Ctx<'_>,
        child: PersonId,
        team: TeamId,
        referral: &ReferralId,
    ) -> Result<()> {
        let history = tx.child_history(child).await?;
        let window = ctx.policy.flags.repeat_referrals_window;
        let count = history
            .happenings
            .iter()
            .filter(|h| {
                h.kind == flags::HappeningKind::Referral && h.at <= ctx.now && ctx.calendar.add(h.at, &window) > ctx.now
            })
            .count();
        if count >= ctx.policy.flags.repeat_referrals_count as usize {
            let detail =
                format!("{} is referral number {count} about this child within {window}", referral.reference());
            self.raise_or_repeat(tx, ctx, Trigger::RepeatReferrals, Subject::Child(child), Some(team), None, detail)
                .await?;
        }
        Ok(())
    }

    /// Raises `caseload_over_cap` for a worker over their cap (one level higher when far
    /// over), or clears it when they are back under.
    async fn check_caseload(
        &self,
        tx: &mut Tx,
        ctx: &Ctx<'_>,
        worker: StaffId,
        known: Option<(f64, f64)>,
    ) -> Result<()> {
        let (load, cap) = match known {
            Some(lc) => lc,
            None => match tx.worker_load(worker, ctx.policy, self.calendar().local_date(ctx.now)).await? {
                Some(load_and_cap) => load_and_cap,
                None => return Ok(()),
            },
        };
        if domain::caseload::is_over_cap(load, cap) {
            let start = ctx.policy.trigger(Trigger::CaseloadOverCap).start_level;
            let level = if load > cap * ctx.policy.over_cap_start_higher_at {
                Some((start + 1).min(ctx.policy.top_level))
            } else {
                None
            };
            let detail = format!(
                "{} holds a caseload of {} against a cap of {}",
                worker.reference(),
                domain::case::trim_number(load),
                domain::case::trim_number(cap)
            );
            self.raise_or_repeat(tx, ctx, Trigger::CaseloadOverCap, Subject::Worker(worker), None, level, detail).await
        } else {
            self.clear(tx, ctx, Trigger::CaseloadOverCap, Subject::Worker(worker)).await
        }
    }

    /// Moves the child's visit deadline to the plan's frequency after the later of the
    /// plan's start and the last visit that saw them (LAC: the first within a week).
    async fn schedule_visit(&self, tx: &mut Tx, ctx: &Ctx<'_>, child: PersonId) -> Result<()> {
        let Some((_, _, stage)) = tx.child_team_and_worker(child).await? else { return Ok(()) };
        let plan = domain::case::Stage::parse(&stage).ok().and_then(Plan::of_stage);
        let times = tx.case_times(child).await?.unwrap_or_default();
        let (Some(plan), Some(start)) = (plan, times.plan_started_at) else {
            return Ok(tx.change_timers(&[TimerChange::done(TimerKind::VisitDue, child.subject())], ctx.now).await?);
        };
        let ts = &ctx.policy.timescales;
        let seen_on_plan = times.last_seen_at.filter(|s| *s >= start);
        let due = match (plan, seen_on_plan) {
            (Plan::Lac, None) => ctx.calendar.add(start, &ts.visit_lac_first),
            (Plan::Lac, Some(seen)) => ctx.calendar.add(seen, &ts.visit_lac),
            (Plan::Cp, from) => ctx.calendar.add(from.unwrap_or(start), &ts.visit_cp),
            (Plan::Cin, from) => ctx.calendar.add(from.unwrap_or(start), &ts.visit_cin),
        };
        Ok(tx.change_timers(&[TimerChange::schedule(TimerKind::VisitDue, child.subject(), due, 0)], ctx.now).await?)
    }

    /// Re-evaluates a child's flags: raises new ones, clears those whose rule no longer
    /// holds, and sets a timer for when a windowed flag may clear.
    pub(crate) async fn reflag(&self, tx: &mut Tx, ctx: &Ctx<'_>, child: PersonId) -> Result<()> {
        let history = tx.child_history(child).await?;
        let held = flags::evaluate(&history, ctx.policy, ctx.calendar, ctx.now);
        let raised = tx.raised_flags(child).await?;
        let mut events = vec![];
        for h in &held {
            if !raised.contains(&h.flag) {
                events.push(Event::FlagRaised { child, flag: h.flag, evidence: h.evidence.clone(), at: ctx.now });
            }
        }
        for f in &raised {
            if !held.iter().any(|h| h.flag == *f) {
                events.push(Event::FlagCleared { child, flag: *f, at: ctx.now });
            }
        }
        tx.apply(&events, ctx.now).await?;
        let timer = match flags::next_change(&held) {
            Some(at) => TimerChange::schedule(TimerKind::FlagWindow, child.subject(), at, 0),
            None => TimerChange::done(TimerKind::FlagWindow, child.subject()),
        };
        tx.change_timers(&[timer], ctx.now).await?;
        Ok(())
    }

    /// Loads an escalation (for the sweeper and people acting on it).
    pub(crate) async fn load_escalation(&self, tx: &mut Tx, id: EscalationId) -> Result<Escalation> {
        tx.escalation(id).await?.ok_or_else(|| crate::not_found(id.reference()))
    }
}
