//! The escalation state machine: raise, climb, remind, acknowledge, resolve.
//!
//! Each function returns an [`Outcome`]: the events to commit and the timer changes to make
//! with them. Timers are keyed by (kind, `escalation:ID`), so scheduling a level's timers
//! moves any left from the level before.

use super::routing::{Line, Route, StaffStatus, route};
use super::{ClimbReason, EscalationId, EscalationState, Policy, Resolution, Subject, Trigger};
use crate::authz::Actor;
use crate::error::Rejection;
use crate::event::Event;
use crate::ids::{PersonId, StaffId, TeamId};
use crate::staff::{Agency, Role};
use crate::timer::{TimerChange, TimerKind};
use crate::working_time::Calendar;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// What the engine needs from the world besides the escalation itself.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The policy in force.
    pub policy: &'a Policy,
    /// Working time.
    pub calendar: &'a Calendar,
    /// The moment this happens.
    pub now: Timestamp,
}

/// An escalation as the engine needs to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// Which.
    pub id: EscalationId,
    /// What raised it.
    pub trigger: Trigger,
    /// What it is about.
    pub subject: Subject,
    /// The team whose line it climbs.
    pub team: Option<TeamId>,
    /// Its level.
    pub level: u8,
    /// Who holds it.
    pub assignee: StaffId,
    /// Where it stands.
    pub state: EscalationState,
    /// When it reached its level.
    pub level_reached_at: Timestamp,
    /// Whether a welfare check has been asked for already.
    pub welfare_check_requested: bool,
}

/// Who to route to and whom else to tell.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    /// The subject's team's line.
    pub line: Line,
    /// Absence, deputies and load of everyone in the line (and their deputies).
    pub status: BTreeMap<StaffId, StaffStatus>,
    /// The allocated worker (told about every raise, climb and reminder).
    pub worker: Option<StaffId>,
    /// Whether the subject is a child on a child protection plan (welfare checks).
    pub child_on_cp_plan: bool,
}

/// What to commit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Events, in order.
    pub events: Vec<Event>,
    /// Timer changes.
    pub timers: Vec<TimerChange>,
}

impl Outcome {
    /// Adds another outcome after this one.
    pub fn extend(&mut self, other: Outcome) {
        self.events.extend(other.events);
        self.timers.extend(other.timers);
    }

    /// Whether nothing happens.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.timers.is_empty()
    }
}

/// A request to raise an escalation.
#[derive(Debug, Clone)]
pub struct Raise {
    /// What raised it.
    pub trigger: Trigger,
    /// What it is about.
    pub subject: Subject,
    /// The team whose line it climbs.
    pub team: Option<TeamId>,
    /// The level to start at, when not the policy's (e.g. far over the caseload cap).
    pub start_level: Option<u8>,
    /// Why, in words, for the assignee.
    pub detail: String,
}

fn subject_key(id: EscalationId) -> String {
    id.subject()
}

/// The timers of an escalation that has just reached `level` at `ctx.now`.
fn level_timers(ctx: &Ctx<'_>, id: EscalationId, trigger: Trigger, level: u8) -> Vec<TimerChange> {
    let key = subject_key(id);
    if level >= ctx.policy.top_level {
        vec![
            TimerChange::done(TimerKind::EscalationAck, key.clone()),
            TimerChange::done(TimerKind::EscalationResolve, key.clone()),
            TimerChange::schedule(
                TimerKind::EscalationReminder,
                key,
                ctx.calendar.add(ctx.now, &ctx.policy.repeat_every),
                i64::from(level),
            ),
        ]
    } else {
        let tp = ctx.policy.trigger(trigger);
        vec![
            TimerChange::schedule(
                TimerKind::EscalationAck,
                key.clone(),
                ctx.calendar.add(ctx.now, &tp.ack_within),
                i64::from(level),
            ),
            TimerChange::schedule(
                TimerKind::EscalationResolve,
                key,
                ctx.calendar.add(ctx.now, &tp.resolve_at(level)),
                i64::from(level),
            ),
        ]
    }
}

fn all_timers_done(id: EscalationId) -> Vec<TimerChange> {
    let key = subject_key(id);
    vec![
        TimerChange::done(TimerKind::EscalationAck, key.clone()),
        TimerChange::done(TimerKind::EscalationResolve, key.clone()),
        TimerChange::done(TimerKind::EscalationReminder, key),
    ]
}

fn notify(ctx: &Ctx<'_>, id: EscalationId, assignee: StaffId, worker: Option<StaffId>, text: String) -> Vec<Event> {
    let notice = |to, text| Event::NotificationQueued {
        to,
        about: Some(id),
        text,
        at: ctx.now,
        case: None,
        referral: None,
        inbox_only: false,
    };
    let mut out = vec![notice(assignee, text.clone())];
    if let Some(w) = worker.filter(|w| *w != assignee) {
        out.push(notice(w, format!("For your information: {text}")));
    }
    out
}

fn welfare_check(
    trigger: Trigger,
    subject: Subject,
    routing: &Routing,
    (from_level, to_level): (u8, u8),
    already: bool,
    id: EscalationId,
    now: Timestamp,
) -> Option<Event> {
    // A CP child not seen: on reaching level 2 the police are asked to check on them.
    match (trigger, subject) {
        (Trigger::ChildNotSeen, Subject::Child(child))
            if routing.child_on_cp_plan && !already && from_level < 2 && to_level >= 2 =>
        {
            Some(welfare(child, id, now))
        }
        _ => None,
    }
}

fn welfare(child: PersonId, escalation: EscalationId, at: Timestamp) -> Event {
    Event::WelfareCheckRequested { child, agency: Agency::Police, escalation, at }
}

/// Raises a new escalation with id `id` (the caller has checked none is open for the
/// trigger and subject; if one is, use [`repeat`]).
pub fn raise(ctx: &Ctx<'_>, id: EscalationId, req: Raise, routing: &Routing) -> Option<Outcome> {
    let start = req.start_level.unwrap_or_else(|| ctx.policy.trigger(req.trigger).start_level);
    let Route { level, assignee, routed_from, reason } =
        route(start, &routing.line, &routing.status, ctx.policy.overload_threshold)?;
    let mut out = Outcome::default();
    out.events.push(Event::EscalationRaised {
        escalation: id,
        trigger: req.trigger,
        subject: req.subject,
        team: req.team,
        level,
        assignee,
        routed_from,
        routing_reason: reason,
        detail: req.detail.clone(),
        at: ctx.now,
    });
    out.events.extend(welfare_check(req.trigger, req.subject, routing, (1, level), false, id, ctx.now));
    out.events.extend(notify(
        ctx,
        id,
        assignee,
        routing.worker,
        format!("{} ({}), level {level}: {}", req.trigger.label(), id.reference(), req.detail),
    ));
    out.timers = level_timers(ctx, id, req.trigger, level);
    Some(out)
}

/// The condition happened again while the escalation is open: it goes on its history.
pub fn repeat(ctx: &Ctx<'_>, esc: &Escalation, detail: String) -> Outcome {
    Outcome { events: vec![Event::EscalationRepeated { escalation: esc.id, detail, at: ctx.now }], timers: vec![] }
}

/// Climbs one level (routing round anyone unavailable). At or above the top level it
/// sends a reminder instead.
pub fn climb(ctx: &Ctx<'_>, esc: &Escalation, reason: ClimbReason, routing: &Routing) -> Outcome {
    if esc.level >= ctx.policy.top_level {
        return remind(ctx, esc, routing);
    }
    let Some(Route { level, assignee, routed_from, reason: routing_reason }) =
        route(esc.level + 1, &routing.line, &routing.status, ctx.policy.overload_threshold)
    else {
        // Nobody above: keep reminding the current holder rather than dropping it.
        return remind(ctx, esc, routing);
    };
    let mut out = Outcome::default();
    out.events.push(Event::EscalationClimbed {
        escalation: esc.id,
        from_level: esc.level,
        level,
        assignee,
        reason,
        routed_from,
        routing_reason,
        at: ctx.now,
    });
    out.events.extend(welfare_check(
        esc.trigger,
        esc.subject,
        routing,
        (esc.level, level),
        esc.welfare_check_requested,
        esc.id,
        ctx.now,
    ));
    out.events.extend(notify(
        ctx,
        esc.id,
        assignee,
        routing.worker,
        format!(
            "{} ({}) climbed to level {level}: {}",
            esc.trigger.label(),
            esc.id.reference(),
            reason.code().replace('_', " ")
        ),
    ));
    out.timers = level_timers(ctx, esc.id, esc.trigger, level);
    out
}

/// A reminder at the top level, and the next one scheduled.
pub fn remind(ctx: &Ctx<'_>, esc: &Escalation, routing: &Routing) -> Outcome {
    let mut out = Outcome::default();
    out.events.push(Event::EscalationReminded {
        escalation: esc.id,
        level: esc.level,
        assignee: esc.assignee,
        at: ctx.now,
    });
    out.events.extend(notify(
        ctx,
        esc.id,
        esc.assignee,
        routing.worker,
        format!("Reminder: {} ({}) is still not resolved", esc.trigger.label(), esc.id.reference()),
    ));
    out.timers.push(TimerChange::schedule(
        TimerKind::EscalationReminder,
        subject_key(esc.id),
        ctx.calendar.add(ctx.now, &ctx.policy.repeat_every),
        i64::from(esc.level),
    ));
    out
}

/// The manager's seniority that matches an escalation level (1 team manager … 4 director).
fn rank(role: Role) -> u8 {
    match role {
        Role::TeamManager => 1,
        Role::ServiceManager => 2,
        Role::HeadOfService => 3,
        Role::Director => 4,
        _ => 0,
    }
}

/// Whether `by` may act on `esc`: its assignee, or a manager at or above its level.
pub fn may_act(esc: &Escalation, by: &Actor) -> bool {
    esc.assignee == by.staff || rank(by.role) >= esc.level.max(1)
}

/// Acknowledges an escalation: its climb for want of acknowledgement stops; the climb for
/// want of resolution does not.
pub fn acknowledge(ctx: &Ctx<'_>, esc: &Escalation, by: &Actor, note: Option<String>) -> Result<Outcome, Rejection> {
    if !may_act(esc, by) {
        return Err(Rejection::Forbidden(format!(
            "{} is held by someone else at level {}",
            esc.id.reference(),
            esc.level
        )));
    }
    match esc.state {
        EscalationState::Open => Ok(Outcome {
            events: vec![Event::EscalationAcknowledged { escalation: esc.id, by: by.staff, note, at: ctx.now }],
            timers: vec![TimerChange::done(TimerKind::EscalationAck, subject_key(esc.id))],
        }),
        EscalationState::Acknowledged => {
            Err(Rejection::conflict("escalation", format!("{} is already acknowledged", esc.id.reference())))
        }
        EscalationState::Resolved => {
            Err(Rejection::conflict("escalation", format!("{} is resolved", esc.id.reference())))
        }
    }
}

/// Resolves an escalation by hand, with the action taken.
pub fn resolve_by_hand(
    ctx: &Ctx<'_>,
    esc: &Escalation,
    by: &Actor,
    action: crate::text::Reason,
) -> Result<Outcome, Rejection> {
    if !may_act(esc, by) {
        return Err(Rejection::Forbidden(format!(
            "{} is held by someone else at level {}",
            esc.id.reference(),
            esc.level
        )));
    }
    if esc.state == EscalationState::Resolved {
        return Err(Rejection::conflict("escalation", format!("{} is already resolved", esc.id.reference())));
    }
    Ok(Outcome {
        events: vec![Event::EscalationResolved {
            escalation: esc.id,
            resolution: Resolution::Manual,
            by: Some(by.staff),
            action: Some(action.as_str().to_string()),
            at: ctx.now,
        }],
        timers: all_timers_done(esc.id),
    })
}

/// Resolves an escalation because its condition no longer holds.
pub fn clear(ctx: &Ctx<'_>, esc: &Escalation) -> Outcome {
    if esc.state == EscalationState::Resolved {
        return Outcome::default();
    }
    Outcome {
        events: vec![Event::EscalationResolved {
            escalation: esc.id,
            resolution: Resolution::ConditionCleared,
            by: None,
            action: None,
            at: ctx.now,
        }],
        timers: all_timers_done(esc.id),
    }
}

/// What an escalation timer firing does. `token` is the level the timer was set for; a
/// timer left from an earlier level does nothing.
pub fn on_timer(ctx: &Ctx<'_>, esc: &Escalation, kind: TimerKind, token: i64, routing: &Routing) -> Outcome {
    if esc.state == EscalationState::Resolved || token != i64::from(esc.level) {
        return Outcome::default();
    }
    match kind {
        TimerKind::EscalationAck if esc.state == EscalationState::Open => {
            climb(ctx, esc, ClimbReason::Unacknowledged, routing)
        }
        TimerKind::EscalationResolve => climb(ctx, esc, ClimbReason::Unresolved, routing),
        TimerKind::EscalationReminder => remind(ctx, esc, routing),
        _ => Outcome::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::RoutingReason;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn routing(cp: bool) -> Routing {
        Routing {
            line: Line { levels: [Some(StaffId(1)), Some(StaffId(2)), Some(StaffId(3)), None] },
            status: BTreeMap::new(),
            worker: Some(StaffId(9)),
            child_on_cp_plan: cp,
        }
    }

    fn apply(esc: &mut Escalation, out: &Outcome) {
        for e in &out.events {
            match e {
                Event::EscalationClimbed { level, assignee, at, .. } => {
                    esc.level = *level;
                    esc.assignee = *assignee;
                    esc.level_reached_at = *at;
                    esc.state = EscalationState::Open;
                }
                Event::EscalationAcknowledged { .. } => esc.state = EscalationState::Acknowledged,
                Event::EscalationResolved { .. } => esc.state = EscalationState::Resolved,
                Event::WelfareCheckRequested { .. } => esc.welfare_check_requested = true,
                _ => {}
            }
        }
    }

    fn due(out: &Outcome, kind: TimerKind) -> Option<Timestamp> {
        out.timers.iter().find_map(|t| match t {
            TimerChange::Schedule { kind: k, due_at, .. } if *k == kind => Some(*due_at),
            _ => None,
        })
    }

    /// The contract's no-access scenario, step by step through the engine.
    #[test]
    fn a_cp_child_not_seen_climbs_to_the_top_and_asks_the_police() {
        let policy = Policy::default();
        let cal = Calendar::england_and_wales();
        let r = routing(true);
        let ctx = Ctx { policy: &policy, calendar: &cal, now: ts("2026-03-06T15:00:00Z") };
        let raise_req = Raise {
            trigger: Trigger::ChildNotSeen,
            subject: Subject::Child(PersonId(7)),
            team: Some(TeamId(1)),
            start_level: None,
            detail: "no access".into(),
        };
        let out = raise(&ctx, EscalationId(1), raise_req, &r).unwrap();
        assert!(matches!(out.events[0], Event::EscalationRaised { level: 1, assignee: StaffId(1), .. }));
        // Assignee and allocated worker are both told.
        assert_eq!(out.events.iter().filter(|e| matches!(e, Event::NotificationQueued { .. })).count(), 2);
        assert_eq!(due(&out, TimerKind::EscalationAck), Some(ts("2026-03-09T11:00:00Z")));
        assert_eq!(due(&out, TimerKind::EscalationResolve), Some(ts("2026-03-09T15:00:00Z")));

        let mut esc = Escalation {
            id: EscalationId(1),
            trigger: Trigger::ChildNotSeen,
            subject: Subject::Child(PersonId(7)),
            team: Some(TeamId(1)),
            level: 1,
            assignee: StaffId(1),
            state: EscalationState::Open,
            level_reached_at: ctx.now,
            welfare_check_requested: false,
        };
        let ctx = Ctx { now: ts("2026-03-09T11:00:00Z"), ..ctx };
        let out = on_timer(&ctx, &esc, TimerKind::EscalationAck, 1, &r);
        assert!(matches!(
            out.events[0],
            Event::EscalationClimbed {
                from_level: 1,
                level: 2,
                assignee: StaffId(2),
                reason: ClimbReason::Unacknowledged,
                ..
            }
        ));
        assert!(matches!(
            out.events[1],
            Event::WelfareCheckRequested { child: PersonId(7), agency: Agency::Police, .. }
        ));
        assert_eq!(due(&out, TimerKind::EscalationAck), Some(ts("2026-03-09T15:00:00Z")));
        apply(&mut esc, &out);
        // The level-1 resolve timer (same key) was moved, and a stale one would be ignored.
        assert!(on_timer(&ctx, &esc, TimerKind::EscalationResolve, 1, &r).is_empty());

        let ctx = Ctx { now: ts("2026-03-09T15:00:00Z"), ..ctx };
        let out = on_timer(&ctx, &esc, TimerKind::EscalationAck, 2, &r);
        assert!(matches!(out.events[0], Event::EscalationClimbed { level: 3, assignee: StaffId(3), .. }));
        assert!(!out.events.iter().any(|e| matches!(e, Event::WelfareCheckRequested { .. })), "asked once only");
        assert_eq!(due(&out, TimerKind::EscalationReminder), Some(ts("2026-03-10T15:00:00Z")));
        apply(&mut esc, &out);

        let ctx = Ctx { now: ts("2026-03-10T15:00:00Z"), ..ctx };
        let out = on_timer(&ctx, &esc, TimerKind::EscalationReminder, 3, &r);
        assert!(matches!(out.events[0], Event::EscalationReminded { level: 3, assignee: StaffId(3), .. }));
        assert_eq!(due(&out, TimerKind::EscalationReminder), Some(ts("2026-03-11T15:00:00Z")));

        let out = clear(&ctx, &esc);
        assert!(matches!(out.events[0], Event::EscalationResolved { resolution: Resolution::ConditionCleared, .. }));
        apply(&mut esc, &out);
        assert!(on_timer(&ctx, &esc, TimerKind::EscalationReminder, 3, &r).is_empty());
    }

    #[test]
    fn acknowledging_stops_one_climb_but_not_the_other() {
        let policy = Policy::default();
        let cal = Calendar::england_and_wales();
        let r = routing(false);
        let ctx = Ctx { policy: &policy, calendar: &cal, now: ts("2026-03-09T16:30:00Z") };
        let esc = Escalation {
            id: EscalationId(4),
            trigger: Trigger::ReferralDecisionOverdue,
            subject: Subject::Referral(crate::ids::ReferralId(1)),
            team: Some(TeamId(1)),
            level: 1,
            assignee: StaffId(1),
            state: EscalationState::Open,
            level_reached_at: ctx.now,
            welfare_check_requested: false,
        };
        let tm = Actor {
            staff: StaffId(1),
            login: "tm".into(),
            role: Role::TeamManager,
            team: Some(TeamId(1)),
            agency: None,
        };
        let sw = Actor {
            staff: StaffId(9),
            login: "sw".into(),
            role: Role::SocialWorker,
            team: Some(TeamId(1)),
            agency: None,
        };
        assert!(matches!(acknowledge(&ctx, &esc, &sw, None), Err(Rejection::Forbidden(_))));
        let out = acknowledge(&ctx, &esc, &tm, Some("looking now".into())).unwrap();
        assert_eq!(out.timers, vec![TimerChange::done(TimerKind::EscalationAck, "escalation:4")]);
        let acked = Escalation { state: EscalationState::Acknowledged, ..esc.clone() };
        assert!(on_timer(&ctx, &acked, TimerKind::EscalationAck, 1, &r).is_empty());
        let out = on_timer(&ctx, &acked, TimerKind::EscalationResolve, 1, &r);
        assert!(matches!(out.events[0], Event::EscalationClimbed { reason: ClimbReason::Unresolved, level: 2, .. }));
        assert!(matches!(acknowledge(&ctx, &acked, &tm, None), Err(Rejection::Conflict { .. })));
        // Resolving by hand needs the right person and is final.
        assert!(resolve_by_hand(&ctx, &esc, &sw, crate::text::Reason::parse("x").unwrap()).is_err());
        let out = resolve_by_hand(&ctx, &esc, &tm, crate::text::Reason::parse("decided: assessment").unwrap()).unwrap();
        assert!(
            matches!(&out.events[0], Event::EscalationResolved { resolution: Resolution::Manual, action: Some(a), .. } if a == "decided: assessment")
        );
    }

    #[test]
    fn raising_routes_round_an_absent_manager() {
        let policy = Policy::default();
        let cal = Calendar::england_and_wales();
        let mut r = routing(false);
        r.status.insert(StaffId(1), StaffStatus { absent: true, deputy: None, open_unacknowledged: 0 });
        let ctx = Ctx { policy: &policy, calendar: &cal, now: ts("2026-03-09T10:00:00Z") };
        let req = Raise {
            trigger: Trigger::CaseUnallocated,
            subject: Subject::Child(PersonId(3)),
            team: Some(TeamId(1)),
            start_level: None,
            detail: "waiting".into(),
        };
        let out = raise(&ctx, EscalationId(2), req, &r).unwrap();
        assert!(matches!(
            out.events[0],
            Event::EscalationRaised {
                level: 2,
                assignee: StaffId(2),
                routed_from: Some(StaffId(1)),
                routing_reason: Some(RoutingReason::AssigneeAbsent),
                ..
            }
        ));
    }
}
