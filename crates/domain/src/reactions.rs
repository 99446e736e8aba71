//! What follows from what happened: the rules that start, move and meet deadlines, raise
//! and clear escalations and flags, and tell people.
//!
//! Pure: [`react`] is a function of a command's events, a [`Snapshot`] of what they touch
//! (loaded by the caller once the events are applied, in one place, as [`needs`] asks) and
//! the policy. It returns [`Step`]s in order; the caller carries them out, raising an
//! escalation or adding to the history of the one already open. Each rule is written
//! once, here, and tested without a database.

use crate::case::{Stage, trim_number};
use crate::escalation::{Ctx, Subject, Trigger};
use crate::event::Event;
use crate::flags::{self, ChildHistory, Flag};
use crate::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use crate::practice::{Plan, ThresholdOutcome};
use crate::referral::ReferralState;
use crate::timer::{TimerChange, TimerKind};
use crate::visit::VisitOutcome;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// The moments on a child's open case that the timescales count from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseTimes {
    /// When the current plan started.
    pub plan_started_at: Option<Timestamp>,
    /// When the assessment was completed.
    pub assessment_completed_at: Option<Timestamp>,
    /// When the current s47 enquiry started.
    pub s47_started_at: Option<Timestamp>,
    /// When the initial conference was held.
    pub icpc_at: Option<Timestamp>,
    /// When the last review conference was held.
    pub last_review_conference_at: Option<Timestamp>,
    /// When the child was last seen.
    pub last_seen_at: Option<Timestamp>,
    /// When the last visit of any outcome took place.
    pub last_visit_at: Option<Timestamp>,
    /// When the referral that opened the case arrived.
    pub referral_received_at: Option<Timestamp>,
}

/// The latest threshold decision about a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestThreshold {
    /// Its id.
    pub id: i64,
    /// Met or not.
    pub outcome: ThresholdOutcome,
    /// Why.
    pub reason: String,
    /// When.
    pub decided_at: Timestamp,
}

/// A child's open case as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCase {
    /// The team that holds it.
    pub team: TeamId,
    /// The allocated worker, if any.
    pub worker: Option<StaffId>,
    /// Its stage (a [`Stage`] code).
    pub stage: String,
}

/// What the rules may read about a child (only what [`needs`] asked for is filled in).
#[derive(Debug, Clone, Default)]
pub struct ChildFacts {
    /// Their open case.
    pub case: Option<OpenCase>,
    /// The moments on their open case.
    pub times: Option<CaseTimes>,
    /// The latest threshold decision about them.
    pub latest_threshold: Option<LatestThreshold>,
    /// What the flag rules count.
    pub history: ChildHistory,
    /// The flags raised on their record now.
    pub raised_flags: Vec<Flag>,
}

/// What the rules read, as it stands once the command's events are applied.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Children, by id.
    pub children: BTreeMap<PersonId, ChildFacts>,
    /// Referrals, by id.
    pub referrals: BTreeMap<ReferralId, ReferralState>,
    /// Who recorded each referral (told of its outcome).
    pub referrers: BTreeMap<ReferralId, StaffId>,
    /// Each worker's weighted load and cap (`None`: no cap applies to them).
    pub workers: BTreeMap<StaffId, Option<(f64, f64)>>,
    /// Who held each case closed.
    pub case_workers: BTreeMap<CaseId, StaffId>,
}

impl Snapshot {
    fn child(&self, child: PersonId) -> Option<&ChildFacts> {
        self.children.get(&child)
    }
}

/// What about a child the rules will read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildNeeds {
    /// Their open case (team, worker, stage).
    pub case: bool,
    /// The moments on their open case.
    pub times: bool,
    /// The latest threshold decision.
    pub threshold: bool,
    /// Their history and raised flags (the flag rules).
    pub flags: bool,
}

/// What a [`Snapshot`] must hold for a set of events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// Children and what about each.
    pub children: BTreeMap<PersonId, ChildNeeds>,
    /// Referrals whose state is read.
    pub referrals: BTreeSet<ReferralId>,
    /// Referrals whose recorder is read.
    pub referrers: BTreeSet<ReferralId>,
    /// Workers whose load is read.
    pub workers: BTreeSet<StaffId>,
    /// Children whose case's worker's load is read (known once the case is loaded).
    pub workers_of: BTreeSet<PersonId>,
    /// Closed cases whose worker's load is read.
    pub closed_cases: BTreeSet<CaseId>,
}

impl Needs {
    /// Whether nothing need be loaded.
    pub fn is_empty(&self) -> bool {
        *self == Needs::default()
    }

    fn child(&mut self, child: PersonId) -> &mut ChildNeeds {
        self.children.entry(child).or_default()
    }
}

/// One thing to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Start, move or meet timers.
    Timers(Vec<TimerChange>),
    /// Record these events (notices, flags raised and cleared).
    Events(Vec<Event>),
    /// Raise an escalation, or add to the history of the one open for the trigger and
    /// subject.
    RaiseOrRepeat {
        /// What raised it.
        trigger: Trigger,
        /// What it is about.
        subject: Subject,
        /// The team to route by when the subject has none of its own.
        team: Option<TeamId>,
        /// The level to start at, when not the policy's.
        start_level: Option<u8>,
        /// Why, for the assignee.
        detail: String,
    },
    /// Resolve the escalation open for the trigger and subject, if any: its condition
    /// cleared.
    Clear {
        /// What raised it.
        trigger: Trigger,
        /// What it is about.
        subject: Subject,
    },
}

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

/// The child a deadline's subject (`person:3`) names.
fn child_of(subject: &str) -> Option<PersonId> {
    match Subject::parse_key(subject)? {
        Subject::Child(p) => Some(p),
        _ => None,
    }
}

/// The referral a deadline's subject (`referral:7`) names.
fn referral_of(subject: &str) -> Option<ReferralId> {
    match Subject::parse_key(subject)? {
        Subject::Referral(r) => Some(r),
        _ => None,
    }
}

/// What [`react`] will read for `events`.
pub fn needs(events: &[Event]) -> Needs {
    let mut n = Needs::default();
    let with_flags = |n: &mut Needs, child: PersonId| n.child(child).flags = true;
    for e in events {
        match e {
            Event::ReferralReceived { children, .. } => {
                for child in children {
                    n.child(*child).threshold = true;
                    with_flags(&mut n, *child);
                }
            }
            Event::ConcernRecorded { child, .. } => {
                n.child(*child).threshold = true;
                with_flags(&mut n, *child);
            }
            Event::ReferralDecided { referral, .. } => {
                n.referrers.insert(*referral);
            }
            Event::CaseOpened { referral, .. } => {
                n.referrals.insert(*referral);
            }
            Event::CaseAllocated { previous, .. } => n.workers.extend(*previous),
            Event::VisitRecorded { child, .. } => {
                let c = n.child(*child);
                (c.times, c.case, c.flags) = (true, true, true);
            }
            Event::PlanStarted { child, .. } => {
                let c = n.child(*child);
                (c.times, c.case, c.flags) = (true, true, true);
                n.workers_of.insert(*child);
            }
            Event::ThresholdDecisionRecorded { child, .. } => with_flags(&mut n, *child),
            Event::CaseClosed { case, child, .. } => {
                n.closed_cases.insert(*case);
                with_flags(&mut n, *child);
            }
            Event::DeadlinePassed { kind, subject, .. } => match kind {
                TimerKind::ReferralDecisionDue => n.referrals.extend(referral_of(subject)),
                TimerKind::VisitDue | TimerKind::AssessmentDue | TimerKind::IcpcDue => {
                    if let Some(c) = child_of(subject) {
                        n.child(c).times = true;
                    }
                }
                TimerKind::CaseUnallocatedDue => {
                    if let Some(c) = child_of(subject) {
                        n.child(c).case = true;
                    }
                }
                TimerKind::ThresholdReviewDue => {
                    if let Some(c) = child_of(subject) {
                        n.child(c).threshold = true;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    n
}

/// A notification about a case or a referral (escalations notify through the engine).
fn notice(to: StaffId, text: String, at: Timestamp, case: Option<CaseId>, referral: Option<ReferralId>) -> Event {
    Event::NotificationQueued { to, about: None, text, at, case, referral, inbox_only: false }
}

fn raise(trigger: Trigger, subject: Subject, team: Option<TeamId>, detail: String) -> Step {
    Step::RaiseOrRepeat { trigger, subject, team, start_level: None, detail }
}

fn clear(trigger: Trigger, subject: Subject) -> Step {
    Step::Clear { trigger, subject }
}

/// Everything that follows from `events`, in order.
pub fn react(events: &[Event], snap: &Snapshot, ctx: &Ctx<'_>) -> Vec<Step> {
    let ts = &ctx.policy.timescales;
    let cal = ctx.calendar;
    let when = |at: Timestamp| cal.local_datetime(at).strftime("%-d %b %Y %H:%M").to_string();
    let mut steps = vec![];
    let mut reflag: BTreeSet<PersonId> = BTreeSet::new();
    for e in events {
        match e {
            Event::ReferralReceived { referral, team, received_at, children, source, .. } => {
                let due = cal.add(*received_at, &ts.referral_decision);
                steps.push(Step::Timers(vec![TimerChange::schedule(
                    TimerKind::ReferralDecisionDue,
                    referral.subject(),
                    due,
                    0,
                )]));
                for child in children {
                    let what = format!("Referral {} from {}", referral.reference(), source.code());
                    steps.extend(after_new_concern(snap, ctx, *child, Some(*team), &what));
                    steps.extend(repeat_referrals(snap, ctx, *child, *team, *referral));
                    reflag.insert(*child);
                }
            }
            Event::DisagreementRaised { disagreement, referral, team, text, .. } => {
                let detail = format!("A partner disagrees with the decision on {}: {}", referral.reference(), text);
                steps.push(raise(
                    Trigger::ProfessionalDisagreement,
                    Subject::Disagreement(*disagreement),
                    Some(*team),
                    detail,
                ));
            }
            Event::ConcernRecorded { child, concern, source, .. } => {
                let what = format!("Concern {concern} from {}", source.code());
                steps.extend(after_new_concern(snap, ctx, *child, None, &what));
                reflag.insert(*child);
            }
            Event::ReferralDecided { referral, decision, by, at, .. } => {
                steps.push(Step::Timers(vec![TimerChange::done(TimerKind::ReferralDecisionDue, referral.subject())]));
                steps.push(clear(Trigger::ReferralDecisionOverdue, Subject::Referral(*referral)));
                // The referrer hears the outcome (partners included: it is their referral).
                if let Some(referrer) = snap.referrers.get(referral).filter(|r| *r != by) {
                    let text = format!(
                        "Your referral {} has been decided: {}",
                        referral.reference(),
                        decision.code().replace('_', " ")
                    );
                    steps.push(Step::Events(vec![notice(*referrer, text, *at, None, Some(*referral))]));
                }
            }
            Event::CaseOpened { child, referral, at, .. } => {
                let received = snap.referrals.get(referral).map(|r| r.received_at).unwrap_or(*at);
                steps.push(Step::Timers(vec![
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
                ]));
            }
            Event::CaseAllocated { case, child, worker, previous, load_after, cap, by, at, .. } => {
                if worker != by {
                    let text = format!("Case {} has been allocated to you", case.reference());
                    steps.push(Step::Events(vec![notice(*worker, text, *at, Some(*case), None)]));
                }
                steps.push(Step::Timers(vec![TimerChange::done(TimerKind::CaseUnallocatedDue, child.subject())]));
                steps.push(clear(Trigger::CaseUnallocated, Subject::Child(*child)));
                steps.extend(caseload(ctx, *worker, Some((*load_after, *cap))));
                if let Some(p) = previous {
                    steps.extend(caseload(ctx, *p, snap.workers.get(p).copied().flatten()));
                }
            }
            Event::VisitRecorded { child, visited_at, outcome, visit, .. } => {
                let times = snap.child(*child).and_then(|c| c.times.clone()).unwrap_or_default();
                if outcome.saw_child() {
                    // Visits may be recorded late: only the latest visit can show the
                    // child is now seen, and only the latest seen visit moves the clock.
                    if times.last_visit_at == Some(*visited_at) {
                        steps.push(clear(Trigger::ChildNotSeen, Subject::Child(*child)));
                    }
                    if times.last_seen_at == Some(*visited_at) {
                        steps.push(clear(Trigger::VisitOverdue, Subject::Child(*child)));
                        steps.push(schedule_visit(snap, ctx, *child));
                    }
                } else if times.last_seen_at.is_none_or(|seen| seen < *visited_at) {
                    let detail = format!(
                        "Visit {} on {}: {}",
                        visit.reference(),
                        when(*visited_at),
                        if *outcome == VisitOutcome::NoAccess { "no access" } else { "child not seen" }
                    );
                    steps.push(raise(Trigger::ChildNotSeen, Subject::Child(*child), None, detail));
                }
                reflag.insert(*child);
            }
            Event::PlanStarted { child, .. } => {
                // A plan changes what the child weighs in their worker's caseload.
                if let Some(worker) = snap.child(*child).and_then(|c| c.case.as_ref()).and_then(|c| c.worker) {
                    steps.extend(caseload(ctx, worker, snap.workers.get(&worker).copied().flatten()));
                }
                // A new plan restarts the visiting clock.
                steps.push(clear(Trigger::VisitOverdue, Subject::Child(*child)));
                steps.push(schedule_visit(snap, ctx, *child));
                reflag.insert(*child);
            }
            Event::StrategyDiscussionHeld { child, s47: true, at, .. } => {
                steps.push(Step::Timers(vec![TimerChange::schedule(
                    TimerKind::IcpcDue,
                    child.subject(),
                    cal.add(*at, &ts.icpc),
                    0,
                )]));
            }
            Event::IcpcHeld { child, at, .. } => {
                steps.push(Step::Timers(vec![
                    TimerChange::done(TimerKind::IcpcDue, child.subject()),
                    TimerChange::schedule(
                        TimerKind::ReviewConferenceDue,
                        child.subject(),
                        cal.add(*at, &ts.first_review_conference),
                        0,
                    ),
                ]));
                steps.push(clear(Trigger::IcpcOverdue, Subject::Child(*child)));
            }
            Event::ReviewConferenceHeld { child, at, .. } => {
                let next = cal.add(*at, &ts.review_conference);
                steps.push(Step::Timers(vec![TimerChange::schedule(
                    TimerKind::ReviewConferenceDue,
                    child.subject(),
                    next,
                    0,
                )]));
            }
            Event::AssessmentCompleted { child, .. } => {
                steps.push(Step::Timers(vec![TimerChange::done(TimerKind::AssessmentDue, child.subject())]));
                steps.push(clear(Trigger::AssessmentOverdue, Subject::Child(*child)));
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
                steps.push(Step::Timers(timers));
                // A new decision answers both the review and any concern that followed the old one.
                steps.push(clear(Trigger::ThresholdReviewOverdue, Subject::Child(*child)));
                steps.push(clear(Trigger::ConcernAfterThresholdNotMet, Subject::Child(*child)));
                reflag.insert(*child);
            }
            Event::CaseClosed { case, child, .. } => {
                steps.push(Step::Timers(
                    CASE_DEADLINES.iter().map(|k| TimerChange::done(*k, child.subject())).collect(),
                ));
                steps.extend(CASE_TRIGGERS.iter().map(|t| clear(*t, Subject::Child(*child))));
                if let Some(worker) = snap.case_workers.get(case) {
                    steps.extend(caseload(ctx, *worker, snap.workers.get(worker).copied().flatten()));
                }
                reflag.insert(*child);
            }
            Event::DeadlinePassed { kind, subject, due_at } => {
                steps.extend(after_deadline(snap, ctx, *kind, subject, *due_at));
            }
            _ => {}
        }
    }
    for child in reflag {
        if let Some(facts) = snap.child(child) {
            steps.extend(flag_changes(child, facts, ctx));
        }
    }
    steps
}

/// The event of a timer of `kind` falling due, when it is a deadline (deadlines stay
/// overdue until met, and the rules decide what their passing calls for).
pub fn deadline_passed(kind: TimerKind, subject: &str, due_at: Timestamp) -> Option<Event> {
    kind.is_deadline().then(|| Event::DeadlinePassed { kind, subject: subject.to_string(), due_at })
}

/// A deadline fell due: the escalation its condition calls for, if the condition still
/// holds (the sweeper reports every deadline; most were met in time and are done).
fn after_deadline(snap: &Snapshot, ctx: &Ctx<'_>, kind: TimerKind, subject: &str, due_at: Timestamp) -> Vec<Step> {
    let when = |at: Timestamp| ctx.calendar.local_datetime(at).strftime("%-d %b %Y %H:%M").to_string();
    let child = child_of(subject);
    let facts = child.and_then(|c| snap.child(c));
    let times = facts.and_then(|f| f.times.as_ref());
    let step = match (kind, child) {
        (TimerKind::ReferralDecisionDue, _) => {
            referral_of(subject).and_then(|r| snap.referrals.get(&r)).filter(|r| r.decision.is_none()).map(|r| {
                let detail = format!("{} received {} has no decision", r.id.reference(), when(r.received_at));
                raise(Trigger::ReferralDecisionOverdue, Subject::Referral(r.id), Some(r.team), detail)
            })
        }
        (TimerKind::VisitDue, Some(c)) if times.is_some() => {
            let detail = format!("No visit has seen the child since the visit due {}", when(due_at));
            Some(raise(Trigger::VisitOverdue, Subject::Child(c), None, detail))
        }
        (TimerKind::AssessmentDue, Some(c)) if times.is_some_and(|t| t.assessment_completed_at.is_none()) => {
            let detail = format!("The assessment was due by {}", when(due_at));
            Some(raise(Trigger::AssessmentOverdue, Subject::Child(c), None, detail))
        }
        (TimerKind::IcpcDue, Some(c)) if times.is_some_and(|t| t.s47_started_at.is_some() && t.icpc_at.is_none()) => {
            let detail = format!("The initial child protection conference was due by {}", when(due_at));
            Some(raise(Trigger::IcpcOverdue, Subject::Child(c), None, detail))
        }
        (TimerKind::CaseUnallocatedDue, Some(c))
            if facts.and_then(|f| f.case.as_ref()).is_some_and(|case| case.worker.is_none()) =>
        {
            let detail = format!("The case has waited for a worker since {}", when(due_at));
            Some(raise(Trigger::CaseUnallocated, Subject::Child(c), None, detail))
        }
        (TimerKind::ThresholdReviewDue, Some(c)) => facts
            .and_then(|f| f.latest_threshold.as_ref())
            .filter(|t| t.outcome == ThresholdOutcome::NotMet)
            .map(|latest| {
                let detail = format!(
                    "The decision of {} that the threshold was not met was due for review by {}",
                    when(latest.decided_at),
                    when(due_at)
                );
                raise(Trigger::ThresholdReviewOverdue, Subject::Child(c), None, detail)
            }),
        // Overdue shows on the record and in My work; there is no trigger for it.
        _ => None,
    };
    step.into_iter().collect()
}

/// A referral or concern about a child soon after a "threshold not met" decision goes
/// straight to level 2 with the decision in front of the manager.
fn after_new_concern(snap: &Snapshot, ctx: &Ctx<'_>, child: PersonId, team: Option<TeamId>, what: &str) -> Vec<Step> {
    let Some(t) = snap.child(child).and_then(|c| c.latest_threshold.as_ref()) else { return vec![] };
    let window = &ctx.policy.flags.threshold_concern_window;
    let window_end = ctx.calendar.add(t.decided_at, window);
    if t.outcome != ThresholdOutcome::NotMet || t.decided_at > ctx.now || ctx.now >= window_end {
        return vec![];
    }
    let detail = format!(
        "{what}, within {window} of a decision on {} that the threshold was not met (reason given: {})",
        ctx.calendar.local_date(t.decided_at),
        t.reason
    );
    vec![raise(Trigger::ConcernAfterThresholdNotMet, Subject::Child(child), team, detail)]
}

/// The third referral within the window raises `repeat_referrals`.
fn repeat_referrals(snap: &Snapshot, ctx: &Ctx<'_>, child: PersonId, team: TeamId, referral: ReferralId) -> Vec<Step> {
    let Some(facts) = snap.child(child) else { return vec![] };
    let window = ctx.policy.flags.repeat_referrals_window;
    let count = flags::referrals_within(&facts.history, &window, ctx.calendar, ctx.now);
    if count < ctx.policy.flags.repeat_referrals_count as usize {
        return vec![];
    }
    let detail = format!("{} is referral number {count} about this child within {window}", referral.reference());
    vec![raise(Trigger::RepeatReferrals, Subject::Child(child), Some(team), detail)]
}

/// Raises `caseload_over_cap` for a worker over their cap (one level higher when far
/// over), or clears it when they are back under. Nothing when no cap applies to them.
fn caseload(ctx: &Ctx<'_>, worker: StaffId, load_and_cap: Option<(f64, f64)>) -> Option<Step> {
    let (load, cap) = load_and_cap?;
    if !crate::caseload::is_over_cap(load, cap) {
        return Some(clear(Trigger::CaseloadOverCap, Subject::Worker(worker)));
    }
    let start = ctx.policy.trigger(Trigger::CaseloadOverCap).start_level;
    let start_level = (load > cap * ctx.policy.over_cap_start_higher_at).then(|| (start + 1).min(ctx.policy.top_level));
    let detail = format!(
        "{} holds a caseload of {} against a cap of {}",
        worker.reference(),
        trim_number(load),
        trim_number(cap)
    );
    Some(Step::RaiseOrRepeat {
        trigger: Trigger::CaseloadOverCap,
        subject: Subject::Worker(worker),
        team: None,
        start_level,
        detail,
    })
}

/// Moves the child's visit deadline to the plan's frequency after the later of the plan's
/// start and the last visit that saw them (looked after: the first within a week); meets
/// it when they are on no plan.
fn schedule_visit(snap: &Snapshot, ctx: &Ctx<'_>, child: PersonId) -> Step {
    let facts = snap.child(child);
    let Some(case) = facts.and_then(|f| f.case.as_ref()) else { return Step::Timers(vec![]) };
    let plan = Stage::parse(&case.stage).ok().and_then(Plan::of_stage);
    let times = facts.and_then(|f| f.times.clone()).unwrap_or_default();
    let (Some(plan), Some(start)) = (plan, times.plan_started_at) else {
        return Step::Timers(vec![TimerChange::done(TimerKind::VisitDue, child.subject())]);
    };
    let ts = &ctx.policy.timescales;
    let seen_on_plan = times.last_seen_at.filter(|s| *s >= start);
    let due = match (plan, seen_on_plan) {
        (Plan::Lac, None) => ctx.calendar.add(start, &ts.visit_lac_first),
        (Plan::Lac, Some(seen)) => ctx.calendar.add(seen, &ts.visit_lac),
        (Plan::Cp, from) => ctx.calendar.add(from.unwrap_or(start), &ts.visit_cp),
        (Plan::Cin, from) => ctx.calendar.add(from.unwrap_or(start), &ts.visit_cin),
    };
    Step::Timers(vec![TimerChange::schedule(TimerKind::VisitDue, child.subject(), due, 0)])
}

/// A child's flags re-evaluated: the ones to raise and clear, and the timer for when a
/// windowed flag may clear by itself.
pub fn flag_changes(child: PersonId, facts: &ChildFacts, ctx: &Ctx<'_>) -> Vec<Step> {
    let held = flags::evaluate(&facts.history, ctx.policy, ctx.calendar, ctx.now);
    let mut events = vec![];
    for h in &held {
        if !facts.raised_flags.contains(&h.flag) {
            events.push(Event::FlagRaised { child, flag: h.flag, evidence: h.evidence.clone(), at: ctx.now });
        }
    }
    for f in &facts.raised_flags {
        if !held.iter().any(|h| h.flag == *f) {
            events.push(Event::FlagCleared { child, flag: *f, at: ctx.now });
        }
    }
    let timer = match flags::next_change(&held) {
        Some(at) => TimerChange::schedule(TimerKind::FlagWindow, child.subject(), at, 0),
        None => TimerChange::done(TimerKind::FlagWindow, child.subject()),
    };
    vec![Step::Events(events), Step::Timers(vec![timer])]
}

#[cfg(test)]
#[path = "reactions/tests.rs"]
mod tests;
