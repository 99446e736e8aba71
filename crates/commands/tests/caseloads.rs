#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The caseload dashboard's figures against a seeded team, on SQLite and PostgreSQL:
//! loads, the histogram, the staffing gap (the hand-worked example of
//! `domain::caseload`), the forecast's inputs, and weights by stage from the policy.

use commands::input::{AllocationInput, DecisionInput, ReferralInput};
use commands::practice::PlanInput;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, CommandError, Config, Service};
use domain::Rejection;
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::escalation::Policy;
use domain::ids::*;
use std::sync::Arc;
use store::store_test;

const PASSWORD: &str = "correct horse battery";

async fn staff(svc: &Service, login: &str, role: &str, team: TeamId, fte: f64) -> Actor {
    let input = StaffInput {
        login: login.into(),
        name: login.into(),
        role: role.into(),
        team: Some(team.0),
        fte: Some(fte),
        password: PASSWORD.into(),
        ..Default::default()
    };
    svc.add_staff(Caller::System("test"), &input).await.unwrap();
    svc.sign_in(login, PASSWORD).await.unwrap().actor
}

/// Refers a new child and decides on an assessment: their (unallocated) case.
async fn open_for_assessment(svc: &Service, tm: &Actor, team: TeamId, given: &str, family: &str, dob: &str) -> CaseId {
    let input: ReferralInput = serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "school", "concern": "neglect", "categories": ["neglect"],
        "children": [{"given_name": given, "family_name": family, "dob": dob}]
    }))
    .unwrap();
    let r = svc.create_referral(tm, &input).await.unwrap();
    let decision = DecisionInput { decision: "assessment".into(), reason: "assess".into() };
    svc.decide_referral(tm, r, &decision).await.unwrap().opened[0]
}

/// Opens a case for a new child and allocates it to `worker` (over the cap with a reason).
async fn case_for(svc: &Service, tm: &Actor, team: TeamId, worker: StaffId, i: usize) -> CaseId {
    let case = open_for_assessment(svc, tm, team, "Child", &format!("Number {i}"), "2015-01-01").await;
    let allocation = AllocationInput { worker: Some(worker.0), override_reason: Some("no one else is free".into()) };
    svc.allocate(tm, case, &allocation).await.unwrap();
    case
}

store_test!(the_dashboard_shows_loads_the_gap_and_the_forecast, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let (ana, ben, cat) = (
        staff(&svc, "ana", "social_worker", team, 1.0).await,
        staff(&svc, "ben", "social_worker", team, 0.6).await,
        staff(&svc, "cat", "social_worker", team, 1.0).await,
    );
    let line = LeadershipInput { team_manager: Some(tm.staff.0), ..Default::default() };
    svc.set_team_leadership(Caller::System("test"), team, &line).await.unwrap();
    // The hand-worked example: Ana 20 (cap 15), Ben 12 (cap 9), Cat 10 (cap 15); one more
    // case opened and left unallocated.
    let mut i = 0;
    let mut ana_cases = vec![];
    for (who, n) in [(&ana, 20), (&ben, 12), (&cat, 10)] {
        for _ in 0..n {
            i += 1;
            let c = case_for(&svc, &tm, team, who.staff, i).await;
            if who.staff == ana.staff {
                ana_cases.push(c);
            }
        }
    }
    open_for_assessment(&svc, &tm, team, "Waiting", "Child", "2015-01-01").await;

    // One referral decided two days late (no further action: no case).
    let input: ReferralInput = serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "school", "concern": "attendance", "categories": ["neglect"],
        "children": [{"given_name": "Late", "family_name": "Decision", "dob": "2015-01-01"}]
    }))
    .unwrap();
    let late = svc.create_referral(&tm, &input).await.unwrap();
    clock.set("2026-03-05T09:00:00Z".parse().unwrap());
    let nfa = DecisionInput { decision: "nfa".into(), reason: "attendance only; school is on it".into() };
    svc.decide_referral(&tm, late, &nfa).await.unwrap();

    clock.set("2026-03-12T09:00:00Z".parse().unwrap());
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let loads: Vec<(String, f64, f64, bool)> =
        d.workers.iter().map(|w| (w.name.clone(), w.load, w.cap, w.over_cap)).collect();
    assert_eq!(
        loads,
        [("cat".into(), 10.0, 15.0, false), ("ben".into(), 12.0, 9.0, true), ("ana".into(), 20.0, 15.0, true)],
        "lightest first"
    );
    assert_eq!(d.histogram.iter().map(|b| b.workers).collect::<Vec<_>>(), [0, 1, 0, 0, 2, 0]);
    assert_eq!(d.gap.over_cap, 8.0);
    assert_eq!(d.gap.workers_over_cap, 2);
    assert_eq!(domain::caseload::round_up_tenth(d.gap.fte_needed), 0.6);
    assert_eq!(d.flow.opened, 43);
    assert_eq!(d.flow.open_now, 43);
    assert_eq!(d.flow.unallocated, 1);
    assert!(!d.flow.from_closed, "nothing has closed yet");
    assert!(
        (d.flow.mean_days_open - 10.0).abs() < 0.01,
        "opened on 2 March, read on 12 March: {}",
        d.flow.mean_days_open
    );
    assert_eq!(d.forecast.opened, 43);
    assert_eq!(d.forecast.fte_in_post, 2.6);
    // Every referral but the late one was decided the moment it arrived; no assessment is due yet.
    let t = d.timeliness;
    assert_eq!((t.referrals_due, t.referrals_on_time), (44, 43));
    assert_eq!((t.assessments_due, t.on_plans, t.visits_overdue), (0, 0, 0));
    // Each over-cap allocation raised (or repeated) `caseload_over_cap`: Ana's and Ben's.
    assert_eq!(d.escalations_open_by_level.iter().sum::<i64>(), 2);

    // The whole service is the same here; a worker cannot see it.
    let service = svc.caseload_dashboard(&tm, None).await.unwrap();
    assert_eq!(service.gap.over_cap, 8.0);
    assert!(matches!(svc.caseload_dashboard(&ana, None).await, Err(CommandError::Rejected(Rejection::Forbidden(_)))));

    // Weights by stage come from the policy: a CP plan weighs 1.5, so one of Ana's
    // children on a plan puts her at 20.5.
    let policy = Policy::from_json(r#"{"caseload_weights": {"cp": 1.5}}"#).unwrap();
    svc.set_policy(Caller::System("test"), &policy).await.unwrap();
    let plan = PlanInput { plan: "cp".into(), category: Some("neglect".into()), at: None };
    svc.start_plan(&tm, ana_cases[0], &plan).await.unwrap();
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let ana_row = d.workers.iter().find(|w| w.id == ana.staff).unwrap();
    assert_eq!((ana_row.open_cases, ana_row.load), (20, 20.5));
    assert_eq!(d.gap.over_cap, 8.5);
    // Caps per team (and role) come from the policy too: this team's is 10 per FTE.
    let policy = Policy::from_json(&format!(
        r#"{{"caseload_weights": {{"cp": 1.5}}, "cap_per_fte_by_role": {{"social_worker": 12}}, "cap_per_fte_by_team": {{"{}": 10}}}}"#,
        team.0
    ))
    .unwrap();
    svc.set_policy(Caller::System("test"), &policy).await.unwrap();
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let caps: Vec<f64> = d.workers.iter().map(|w| w.cap).collect();
    assert_eq!(caps, [10.0, 6.0, 10.0], "cat, ben (0.6 FTE), ana: the team's cap wins over the role's");
    let policy = Policy::from_json(r#"{"cap_per_fte_by_role": {"social_worker": 12}}"#).unwrap();
    svc.set_policy(Caller::System("test"), &policy).await.unwrap();
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let caps: Vec<String> = d.workers.iter().map(|w| domain::case::trim_number(w.cap)).collect();
    assert_eq!(caps, ["12", "7.2", "12"]);
    assert!(matches!(
        Policy::from_json(r#"{"cap_per_fte_by_role": {"wizard": 12}}"#),
        Err(domain::escalation::PolicyError::Invalid { field, .. }) if field == "cap_per_fte_by_role.wizard"
    ));
    assert!(matches!(
        Policy::from_json(r#"{"caseload_weights": {"cp": -1}}"#),
        Err(domain::escalation::PolicyError::Invalid { field, .. }) if field == "caseload_weights.cp"
    ));
});

store_test!(allocation_weighs_the_case_by_its_stage, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let sw = staff(&svc, "sw1", "social_worker", team, 0.2).await; // cap 3
    let policy = Policy::from_json(r#"{"caseload_weights": {"assessment": 2}}"#).unwrap();
    svc.set_policy(Caller::System("test"), &policy).await.unwrap();
    case_for(&svc, &tm, team, sw.staff, 1).await; // load 2 of 3 (given with a reason anyway)
    // A second child being assessed would make 4 > 3: refused without a reason.
    let case = open_for_assessment(&svc, &tm, team, "Second", "Child", "2015-01-01").await;
    match svc.allocate(&tm, case, &AllocationInput { worker: Some(sw.staff.0), override_reason: None }).await {
        Err(CommandError::Rejected(Rejection::Invalid(errors))) => {
            assert_eq!(errors[0].field, "override_reason");
            assert!(errors[0].message.contains("caseload of 4 against a cap of 3"), "{}", errors[0].message);
        }
        other => panic!("expected an over-cap refusal, got {other:?}"),
    }
    let _ = store;
});

store_test!(newly_qualified_workers_have_a_smaller_cap_and_no_cp_case_without_a_reason, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let nia = staff(&svc, "nia", "social_worker", team, 1.0).await;
    let admin = Caller::System("test");
    let q = |d: &str| commands::staff::QualificationInput { qualified_on: d.into() };
    // Refused by field: a future date, or someone who holds no cases.
    for (who, date, why) in [(nia.staff, "2027-01-01", "future"), (tm.staff, "2025-09-01", "does not hold cases")] {
        match svc.set_qualification(admin, who, &q(date)).await {
            Err(CommandError::Rejected(Rejection::Invalid(e))) => {
                assert_eq!(e[0].field, "qualified_on");
                assert!(e[0].message.contains(why), "{}", e[0].message);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    svc.set_qualification(admin, nia.staff, &q("2025-09-01")).await.unwrap();
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let row = d.workers.iter().find(|w| w.id == nia.staff).unwrap();
    assert!(row.newly_qualified);
    assert_eq!(row.cap, 12.0, "80% of 15");

    // A child protection case needs a manager's reason, even far under the cap.
    let input: ReferralInput = serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "police", "concern": "injury", "categories": ["physical"],
        "children": [{"given_name": "Cee", "family_name": "Pee", "dob": "2015-01-01"}]
    }))
    .unwrap();
    let r = svc.create_referral(&tm, &input).await.unwrap();
    let decision = DecisionInput { decision: "strategy_discussion".into(), reason: "injury".into() };
    let case = svc.decide_referral(&tm, r, &decision).await.unwrap().opened[0];
    let plan = PlanInput { plan: "cp".into(), category: Some("physical".into()), at: None };
    svc.start_plan(&tm, case, &plan).await.unwrap();
    match svc.allocate(&tm, case, &AllocationInput { worker: Some(nia.staff.0), override_reason: None }).await {
        Err(CommandError::Rejected(Rejection::Invalid(e))) => {
            assert_eq!(e[0].field, "override_reason");
            assert!(e[0].message.contains("qualified less than a year ago"), "{}", e[0].message);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let with_reason = AllocationInput {
        worker: Some(nia.staff.0),
        override_reason: Some("co-working with the senior practitioner".into()),
    };
    svc.allocate(&tm, case, &with_reason).await.unwrap();

    // A year after qualifying, the usual cap.
    clock.set("2026-09-02T09:00:00Z".parse().unwrap());
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let row = d.workers.iter().find(|w| w.id == nia.staff).unwrap();
    assert!(!row.newly_qualified);
    assert_eq!(row.cap, 15.0);
});

store_test!(a_leavers_cases_move_in_bulk_with_the_same_checks, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let line = LeadershipInput { team_manager: Some(tm.staff.0), ..Default::default() };
    svc.set_team_leadership(Caller::System("test"), team, &line).await.unwrap();
    let (leaver, busy, free) = (
        staff(&svc, "leaver", "social_worker", team, 1.0).await,
        staff(&svc, "busy", "social_worker", team, 1.0).await,
        staff(&svc, "free", "social_worker", team, 1.0).await,
    );
    let mut i = 0;
    for (who, n) in [(&leaver, 6), (&busy, 12), (&free, 9)] {
        for _ in 0..n {
            i += 1;
            case_for(&svc, &tm, team, who.staff, i).await;
        }
    }
    let load = |d: &commands::caseloads::Dashboard, s: StaffId| d.workers.iter().find(|w| w.id == s).unwrap().load;

    // All to the busy worker: 12 + 6 = 18 > 15, refused without a reason; nothing moves.
    let before = store::query::audit_head(store).await.unwrap().0;
    let all_to_busy = commands::cases::ReallocationInput { to: Some(busy.staff.0), override_reason: None };
    match svc.reallocate_all(&tm, leaver.staff, &all_to_busy).await {
        Err(CommandError::Rejected(Rejection::Invalid(e))) => assert_eq!(e[0].field, "override_reason"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(store::query::audit_head(store).await.unwrap().0, before, "a refusal writes nothing");
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    assert_eq!((load(&d, leaver.staff), load(&d, busy.staff)), (6.0, 12.0));
    // Workers cannot do it at all.
    assert!(matches!(
        svc.reallocate_all(&free, leaver.staff, &Default::default()).await,
        Err(CommandError::Rejected(Rejection::Forbidden(_)))
    ));

    // Spread across the team: each case goes to whoever has most room at that moment
    // (free has 6, busy 3; a tie goes to the later of the two): free takes 5 and busy 1,
    // nobody goes over, no reason needed.
    let moved = svc.reallocate_all(&tm, leaver.staff, &Default::default()).await.unwrap();
    assert_eq!(moved.len(), 6);
    assert_eq!(store::query::audit_head(store).await.unwrap().0, before + 1, "one command, one entry");
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    assert_eq!((load(&d, leaver.staff), load(&d, busy.staff), load(&d, free.staff)), (0.0, 13.0, 14.0));
    // Each child's record shows the move.
    let c = store::query::case(store, moved[0]).await.unwrap().unwrap();
    let record = svc.child_record(&tm, c.child.id).await.unwrap();
    assert_eq!(record.allocations.len(), 2);
    assert!(record.allocations[0].to_at.is_some(), "the leaver's allocation ended");
    // Nothing left to move.
    assert!(matches!(
        svc.reallocate_all(&tm, leaver.staff, &Default::default()).await,
        Err(CommandError::Rejected(Rejection::Conflict { .. }))
    ));
});

store_test!(candidates_are_ranked_family_first_then_present_then_room, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let (holder, _roomy, away) = (
        staff(&svc, "holder", "social_worker", team, 1.0).await,
        staff(&svc, "roomy", "social_worker", team, 1.0).await,
        staff(&svc, "away", "social_worker", team, 1.0).await,
    );
    // The holder has 10 cases, one of them the elder sister; the others have none, and one is away.
    let mut sister_case = None;
    for i in 0..10 {
        let c = case_for(&svc, &tm, team, holder.staff, i).await;
        sister_case.get_or_insert(c);
    }
    let sister = store::query::case(store, sister_case.unwrap()).await.unwrap().unwrap().child.id;
    let absence = commands::escalations::AbsenceInput { until: Some("2026-03-20T09:00:00Z".into()) };
    svc.set_absence(Caller::Staff(&tm), away.staff, &absence).await.unwrap();
    let case = open_for_assessment(&svc, &tm, team, "Younger", "Brother", "2017-01-01").await;
    let brother = store::query::case(store, case).await.unwrap().unwrap().child.id;
    let names = |c: &[commands::views::Candidate]| c.iter().map(|c| c.worker.name.clone()).collect::<Vec<_>>();

    // Before the family link: most room first, the absent worker after those present.
    let (_, ranked) = svc.allocation_candidates(&tm, case).await.unwrap();
    assert_eq!(names(&ranked), ["roomy", "holder", "away"]);
    let away_row = ranked.iter().find(|c| c.worker.id == away.staff).unwrap();
    assert_eq!(away_row.away_until.map(|t| t.to_string()), Some("2026-03-20T09:00:00Z".into()));

    // Brother and sister: the worker who holds her comes first, despite less room.
    let rel = commands::people::RelationshipInput { related: Some(sister.0), kind: "sibling".into() };
    svc.add_relationship(&tm, brother, &rel).await.unwrap();
    let (_, ranked) = svc.allocation_candidates(&tm, case).await.unwrap();
    assert_eq!(names(&ranked), ["holder", "roomy", "away"]);
    assert_eq!((ranked[0].siblings_held, ranked[0].headroom), (1, 5.0));
});

store_test!(brothers_and_sisters_held_by_one_worker_count_as_one_case_when_the_policy_says_so, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let small = staff(&svc, "small", "social_worker", team, 0.2).await; // cap 3
    let policy = Policy::from_json(r#"{"caseload_weights": {"sibling_extra": 0.5}}"#).unwrap();
    svc.set_policy(Caller::System("test"), &policy).await.unwrap();
    let child = |case| async move { store::query::case(store, case).await.unwrap().unwrap().child.id };
    // Amy and Ben are recorded as sister and brother; Cal shares a parent with Ben.
    let (amy, ben, cal) = (
        case_for(&svc, &tm, team, small.staff, 1).await,
        case_for(&svc, &tm, team, small.staff, 2).await,
        case_for(&svc, &tm, team, small.staff, 3).await,
    );
    let (amy_p, ben_p, cal_p) = (child(amy).await, child(ben).await, child(cal).await);
    let sibling = commands::people::RelationshipInput { related: Some(ben_p.0), kind: "sibling".into() };
    svc.add_relationship(&tm, amy_p, &sibling).await.unwrap();
    let parent_input = domain::person::PersonInput {
        kind: Some("adult".into()),
        given_name: "Parent".into(),
        family_name: "Shared".into(),
        dob: Some("1985-01-01".into()),
        ..Default::default()
    };
    let parent = svc.register_person(&tm, &parent_input).await.unwrap();
    for c in [ben_p, cal_p] {
        let rel = commands::people::RelationshipInput { related: Some(c.0), kind: "parent".into() };
        svc.add_relationship(&tm, parent, &rel).await.unwrap();
    }
    // One family of three: 1 + 0.5 + 0.5 = 2 against a cap of 3, not 3 of 3.
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let row = d.workers.iter().find(|w| w.id == small.staff).unwrap();
    assert_eq!((row.open_cases, row.load), (3, 2.0));

    // A fourth brother: she holds the family, so he adds 0.5 (to 2.5), no reason needed.
    let dan = open_for_assessment(&svc, &tm, team, "Dan", "Shared", "2019-01-01").await;
    let dan_p = child(dan).await;
    let rel = commands::people::RelationshipInput { related: Some(dan_p.0), kind: "parent".into() };
    svc.add_relationship(&tm, parent, &rel).await.unwrap();
    let (_, ranked) = svc.allocation_candidates(&tm, dan).await.unwrap();
    let mine = ranked.iter().find(|c| c.worker.id == small.staff).unwrap();
    // Ben and Cal share his parent (Amy is his sister only through Ben); he adds 0.5.
    assert_eq!((mine.siblings_held, mine.adds), (2, 0.5));
    svc.allocate(&tm, dan, &AllocationInput { worker: Some(small.staff.0), override_reason: None }).await.unwrap();
    // An unrelated child weighs 1 in full: 3.5 > 3, refused without a reason.
    let eve = open_for_assessment(&svc, &tm, team, "Eve", "Other", "2016-01-01").await;
    match svc.allocate(&tm, eve, &AllocationInput { worker: Some(small.staff.0), override_reason: None }).await {
        Err(CommandError::Rejected(Rejection::Invalid(errors))) => {
            assert!(errors[0].message.contains("caseload of 3.5 against a cap of 3"), "{}", errors[0].message);
        }
        other => panic!("expected an over-cap refusal, got {other:?}"),
    }

    // She leaves: the family of four moves as one to whoever has most room, and counts
    // as 2.5 there; without grouping it would be 4.
    let (roomy, other) = (
        staff(&svc, "roomy", "social_worker", team, 1.0).await,
        staff(&svc, "other", "social_worker", team, 1.0).await,
    );
    case_for(&svc, &tm, team, other.staff, 9).await; // other has 1, roomy none
    let moved = svc.reallocate_all(&tm, small.staff, &Default::default()).await.unwrap();
    assert_eq!(moved.len(), 4);
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let by = |id: StaffId| d.workers.iter().find(|w| w.id == id).map(|w| (w.open_cases, w.load)).unwrap();
    assert_eq!(by(roomy.staff), (4, 2.5), "the whole family with one worker");
    assert_eq!(by(other.staff), (1, 1.0));
    assert_eq!(by(small.staff), (0, 0.0));

    // A child from another family beside them counts in full: 2.5 + 1 (assessment).
    let fin = open_for_assessment(&svc, &tm, team, "Fin", "Apart", "2018-01-01").await;
    svc.allocate(&tm, fin, &AllocationInput { worker: Some(roomy.staff.0), override_reason: None }).await.unwrap();
    let d = svc.caseload_dashboard(&tm, Some(team)).await.unwrap();
    let row = d.workers.iter().find(|w| w.id == roomy.staff).unwrap();
    assert_eq!((row.open_cases, row.load), (5, 3.5));
});

// The domain's hand-worked example through the store: a CP plan started Monday 2 March
// 2026, the child seen on 13 March (on time), then not until 15 April (two visits
// missed: 27 March and 13 April). Read on 20 April: March 2 due, 1 on time; April 1, 0.
store_test!(visits_on_plans_are_counted_month_by_month, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    let sw = staff(&svc, "sw1", "social_worker", team, 1.0).await;
    let case = case_for(&svc, &tm, team, sw.staff, 1).await;
    clock.set("2026-03-02T10:00:00Z".parse().unwrap());
    let plan = PlanInput { plan: "cp".into(), category: Some("neglect".into()), at: None };
    svc.start_plan(&tm, case, &plan).await.unwrap();
    let seen = |at: &str| commands::input::VisitInput {
        visited_at: Some(at.into()),
        outcome: "seen_alone".into(),
        note: None,
    };
    clock.set("2026-03-13T12:00:00Z".parse().unwrap());
    svc.record_visit(&sw, case, &seen("2026-03-13T10:00:00Z")).await.unwrap();
    // A visit that did not see the child meets nothing.
    clock.set("2026-03-25T12:00:00Z".parse().unwrap());
    let not_seen = commands::input::VisitInput { outcome: "not_seen".into(), ..seen("2026-03-25T10:00:00Z") };
    svc.record_visit(&sw, case, &not_seen).await.unwrap();
    clock.set("2026-04-15T12:00:00Z".parse().unwrap());
    svc.record_visit(&sw, case, &seen("2026-04-15T10:00:00Z")).await.unwrap();
    clock.set("2026-04-20T12:00:00Z".parse().unwrap());
    let t = svc.caseload_dashboard(&tm, Some(team)).await.unwrap().timeliness;
    assert_eq!(t.months.len(), 12);
    assert_eq!(t.months[10..], ["2026-03".to_string(), "2026-04".to_string()]);
    assert_eq!((t.visits.due[10..].to_vec(), t.visits.on_time[10..].to_vec()), (vec![2, 1], vec![1, 0]));
    assert_eq!((t.visits_due, t.visits_on_time, t.on_plans), (3, 1, 1));
    // The referral was decided at once, in March.
    assert_eq!((t.referrals.due[10], t.referrals.on_time[10]), (1, 1));
    assert_eq!(t.referrals.due.iter().sum::<i64>(), t.referrals_due);
});

// The server works timeliness out ahead (every 8 minutes) for the service and each team;
// the dashboard reuses those figures instead of working them out while someone waits.
store_test!(timeliness_is_worked_out_ahead_and_reused, |store| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-05T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", team, 1.0).await;
    assert_eq!(svc.warm_timeliness().await.unwrap(), 2, "the whole service and North");
    // A referral received three days ago is recorded now and decided late.
    let input: ReferralInput = serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "school", "concern": "neglect", "categories": ["neglect"],
        "received_at": "2026-03-02T09:00:00Z",
        "children": [{"given_name": "Late", "family_name": "Entry", "dob": "2015-01-01"}]
    }))
    .unwrap();
    let r = svc.create_referral(&tm, &input).await.unwrap();
    let nfa = DecisionInput { decision: "nfa".into(), reason: "no role for us".into() };
    svc.decide_referral(&tm, r, &nfa).await.unwrap();
    clock.set("2026-03-05T09:05:00Z".parse().unwrap());
    let t = svc.caseload_dashboard(&tm, Some(team)).await.unwrap().timeliness;
    assert_eq!(t.referrals_due, 0, "the figures worked out ahead are reused");
    svc.warm_timeliness().await.unwrap();
    let t = svc.caseload_dashboard(&tm, Some(team)).await.unwrap().timeliness;
    assert_eq!((t.referrals_due, t.referrals_on_time), (1, 0), "worked out afresh: decided late");
    let t = svc.caseload_dashboard(&tm, None).await.unwrap().timeliness;
    assert_eq!((t.referrals_due, t.referrals_on_time), (1, 0), "the whole service too");
});
