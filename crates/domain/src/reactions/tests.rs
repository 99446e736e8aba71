//! The reaction rules, each on a hand-built snapshot: no database.

use super::*;
use crate::escalation::Policy;
use crate::flags::{Happening, HappeningKind};
use crate::ids::VisitId;
use crate::referral::Decision;
use crate::working_time::Calendar;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn react_at(events: &[Event], snap: &Snapshot, now: &str) -> Vec<Step> {
    let (policy, calendar) = (Policy::default(), Calendar::england_and_wales());
    react(events, snap, &Ctx { policy: &policy, calendar: &calendar, now: ts(now) })
}

fn raised(steps: &[Step]) -> Vec<(Trigger, Subject, Option<u8>)> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::RaiseOrRepeat { trigger, subject, start_level, .. } => Some((*trigger, *subject, *start_level)),
            _ => None,
        })
        .collect()
}

fn cleared(steps: &[Step]) -> Vec<Trigger> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Clear { trigger, .. } => Some(*trigger),
            _ => None,
        })
        .collect()
}

fn timers(steps: &[Step]) -> Vec<TimerChange> {
    steps
        .iter()
        .flat_map(|s| match s {
            Step::Timers(t) => t.clone(),
            _ => vec![],
        })
        .collect()
}

const CHILD: PersonId = PersonId(3);

fn visit(at: &str, outcome: VisitOutcome) -> Event {
    Event::VisitRecorded {
        visit: VisitId(9),
        case: CaseId(1),
        child: CHILD,
        by: StaffId(5),
        visited_at: ts(at),
        outcome,
        note: None,
    }
}

fn on_cp_plan(times: CaseTimes) -> Snapshot {
    let case = OpenCase { team: TeamId(1), worker: Some(StaffId(5)), stage: "cp".into() };
    let facts = ChildFacts { case: Some(case), times: Some(times), ..Default::default() };
    Snapshot { children: [(CHILD, facts)].into(), ..Default::default() }
}

#[test]
fn a_visit_without_the_child_seen_raises_child_not_seen() {
    let times = CaseTimes {
        plan_started_at: Some(ts("2026-03-02T09:00:00Z")),
        last_seen_at: Some(ts("2026-03-03T10:00:00Z")),
        last_visit_at: Some(ts("2026-03-06T15:00:00Z")),
        ..Default::default()
    };
    let steps =
        react_at(&[visit("2026-03-06T15:00:00Z", VisitOutcome::NoAccess)], &on_cp_plan(times), "2026-03-06T15:05:00Z");
    assert_eq!(raised(&steps), [(Trigger::ChildNotSeen, Subject::Child(CHILD), None)]);
    let Some(Step::RaiseOrRepeat { detail, .. }) = steps.iter().find(|s| matches!(s, Step::RaiseOrRepeat { .. }))
    else {
        panic!("a raise")
    };
    assert_eq!(detail, "Visit V-9 on 6 Mar 2026 15:00: no access");
    // A missed visit recorded late, before a visit that saw the child, changes nothing.
    let later_seen = CaseTimes { last_seen_at: Some(ts("2026-03-07T10:00:00Z")), ..Default::default() };
    let steps = react_at(
        &[visit("2026-03-06T15:00:00Z", VisitOutcome::NotSeen)],
        &on_cp_plan(later_seen),
        "2026-03-08T09:00:00Z",
    );
    assert!(raised(&steps).is_empty());
}

#[test]
fn the_latest_visit_that_sees_the_child_clears_and_restarts_the_clock() {
    let seen = "2026-03-10T10:00:00Z";
    let times = CaseTimes {
        plan_started_at: Some(ts("2026-03-02T09:00:00Z")),
        last_seen_at: Some(ts(seen)),
        last_visit_at: Some(ts(seen)),
        ..Default::default()
    };
    let steps = react_at(&[visit(seen, VisitOutcome::SeenAlone)], &on_cp_plan(times), "2026-03-10T11:00:00Z");
    assert_eq!(cleared(&steps), [Trigger::ChildNotSeen, Trigger::VisitOverdue]);
    // CP: every 10 working days from the visit.
    let visit_due: Vec<_> = timers(&steps)
        .into_iter()
        .filter(|t| matches!(t, TimerChange::Schedule { kind: TimerKind::VisitDue, .. }))
        .collect();
    assert_eq!(visit_due, [TimerChange::schedule(TimerKind::VisitDue, CHILD.subject(), ts("2026-03-24T10:00:00Z"), 0)]);
}

#[test]
fn far_over_the_cap_starts_a_level_higher() {
    let allocated = |load_after: f64| Event::CaseAllocated {
        case: CaseId(1),
        child: CHILD,
        worker: StaffId(5),
        previous: None,
        by: StaffId(2),
        at: ts("2026-03-02T10:00:00Z"),
        override_reason: None,
        load_after,
        cap: 10.0,
    };
    let now = "2026-03-02T10:00:00Z";
    let worker = Subject::Worker(StaffId(5));
    let over = |load| raised(&react_at(&[allocated(load)], &Snapshot::default(), now));
    assert_eq!(over(11.0), [(Trigger::CaseloadOverCap, worker, None)]);
    assert_eq!(over(15.0), [(Trigger::CaseloadOverCap, worker, None)], "1.5 × the cap is not above it");
    assert_eq!(over(15.5), [(Trigger::CaseloadOverCap, worker, Some(2))]);
    let under = react_at(&[allocated(10.0)], &Snapshot::default(), now);
    assert_eq!(cleared(&under), [Trigger::CaseUnallocated, Trigger::CaseloadOverCap]);
}

fn referral(id: i64, at: &str) -> Event {
    Event::ReferralReceived {
        referral: ReferralId(id),
        team: TeamId(1),
        source: crate::referral::ReferralSource::Police,
        referrer: None,
        recorded_by: StaffId(7),
        received_at: ts(at),
        concern: crate::text::ConcernText::parse("shouting heard").unwrap(),
        categories: vec![],
        children: vec![CHILD],
    }
}

fn with_referrals(dates: &[&str]) -> Snapshot {
    let happenings = dates
        .iter()
        .map(|d| Happening { at: ts(d), what: format!("Referral on {d}"), kind: HappeningKind::Referral })
        .collect();
    let facts = ChildFacts { history: ChildHistory { happenings, cp_plan_since: None }, ..Default::default() };
    Snapshot { children: [(CHILD, facts)].into(), ..Default::default() }
}

#[test]
fn the_third_referral_in_twelve_months_raises_repeat_referrals() {
    let now = "2026-03-02T10:00:00Z";
    let two = with_referrals(&["2025-06-01T10:00:00Z", now]);
    assert!(raised(&react_at(&[referral(2, now)], &two, now)).is_empty());
    let three = with_referrals(&["2025-04-01T10:00:00Z", "2025-06-01T10:00:00Z", now]);
    assert_eq!(
        raised(&react_at(&[referral(3, now)], &three, now)),
        [(Trigger::RepeatReferrals, Subject::Child(CHILD), None)]
    );
    // One fell out of the window: two in twelve months.
    let old = with_referrals(&["2025-02-01T10:00:00Z", "2025-06-01T10:00:00Z", now]);
    assert!(raised(&react_at(&[referral(3, now)], &old, now)).is_empty());
}

#[test]
fn a_concern_soon_after_threshold_not_met_escalates() {
    let decided = "2026-01-05T10:00:00Z";
    let facts = |outcome| ChildFacts {
        latest_threshold: Some(LatestThreshold {
            id: 1,
            outcome,
            reason: "family engaging".into(),
            decided_at: ts(decided),
        }),
        ..Default::default()
    };
    let snap = |outcome| Snapshot { children: [(CHILD, facts(outcome))].into(), ..Default::default() };
    let concern = |at: &str| Event::ConcernRecorded {
        concern: 4,
        child: CHILD,
        source: crate::referral::ReferralSource::School,
        text: crate::text::ConcernText::parse("bruise").unwrap(),
        categories: vec![],
        by: StaffId(7),
        at: ts(at),
    };
    let within = "2026-03-02T10:00:00Z";
    assert_eq!(
        raised(&react_at(&[concern(within)], &snap(ThresholdOutcome::NotMet), within)),
        [(Trigger::ConcernAfterThresholdNotMet, Subject::Child(CHILD), None)]
    );
    assert!(raised(&react_at(&[concern(within)], &snap(ThresholdOutcome::Met), within)).is_empty());
    let after = "2026-07-06T10:00:00Z";
    assert!(raised(&react_at(&[concern(after)], &snap(ThresholdOutcome::NotMet), after)).is_empty());
}

#[test]
fn a_passed_deadline_escalates_only_while_its_condition_holds() {
    let r = ReferralId(7);
    let state = |decision| ReferralState {
        id: r,
        team: TeamId(2),
        received_at: ts("2026-03-02T09:00:00Z"),
        children: vec![CHILD],
        decision,
    };
    let passed = Event::DeadlinePassed {
        kind: TimerKind::ReferralDecisionDue,
        subject: r.subject(),
        due_at: ts("2026-03-03T09:00:00Z"),
    };
    let now = "2026-03-03T09:00:00Z";
    let undecided = Snapshot { referrals: [(r, state(None))].into(), ..Default::default() };
    let steps = react_at(std::slice::from_ref(&passed), &undecided, now);
    assert!(matches!(
        &steps[..],
        [Step::RaiseOrRepeat { trigger: Trigger::ReferralDecisionOverdue, team: Some(TeamId(2)), detail, .. }]
            if detail == "R-7 received 2 Mar 2026 09:00 has no decision"
    ));
    let decided = Snapshot { referrals: [(r, state(Some(Decision::Nfa)))].into(), ..Default::default() };
    assert!(react_at(&[passed], &decided, now).is_empty());
}

#[test]
fn needs_name_what_the_rules_read() {
    let n = needs(&[visit("2026-03-06T15:00:00Z", VisitOutcome::Seen)]);
    assert_eq!(n.children[&CHILD], ChildNeeds { case: true, times: true, threshold: false, flags: true });
    assert!(n.workers.is_empty() && n.referrals.is_empty());
    assert!(
        needs(&[Event::TeamCreated { team: TeamId(1), name: crate::text::Label::parse("North").unwrap() }]).is_empty()
    );
}

#[test]
fn flags_are_raised_and_cleared_against_what_is_held() {
    let now = "2026-03-02T10:00:00Z";
    let mut snap = with_referrals(&["2025-04-01T10:00:00Z", "2025-06-01T10:00:00Z", now]);
    if let Some(f) = snap.children.get_mut(&CHILD) {
        f.raised_flags = vec![Flag::CumulativeHarm];
    }
    let (policy, calendar) = (Policy::default(), Calendar::england_and_wales());
    let ctx = Ctx { policy: &policy, calendar: &calendar, now: ts(now) };
    let steps = flag_changes(CHILD, &snap.children[&CHILD], &ctx);
    let Step::Events(events) = &steps[0] else { panic!("events first") };
    assert!(matches!(events[0], Event::FlagRaised { flag: Flag::RepeatReferrals, .. }));
    assert!(matches!(events[1], Event::FlagCleared { flag: Flag::CumulativeHarm, .. }));
    // The flag holds until the oldest of the three falls out of the window.
    assert_eq!(
        timers(&steps),
        [TimerChange::schedule(TimerKind::FlagWindow, CHILD.subject(), ts("2026-04-01T10:00:00Z"), 0)]
    );
}
