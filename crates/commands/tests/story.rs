#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The first slice of work, end to end through commands, on SQLite and PostgreSQL:
//! a referral arrives, a manager decides and allocates, a worker visits.

use commands::cases::{CloseInput, NoteInput};
use commands::input::{AllocationInput, DecisionInput, ReferralInput, VisitInput};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, CommandError, Config, Service};
use domain::Rejection;
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::ids::*;
use std::sync::Arc;
use store::query;
use store::{Store, store_test};

const PASSWORD: &str = "correct horse battery";

struct World {
    svc: Service,
    clock: Arc<SimulatedClock>,
    team: TeamId,
    tm: Actor,
    sw: Actor,
    sw2: Actor,
    partner: Actor,
    admin: Actor,
}

async fn staff(svc: &Service, login: &str, role: &str, team: Option<TeamId>, agency: Option<&str>) -> Actor {
    let id = svc
        .add_staff(
            Caller::System("test"),
            &StaffInput {
                login: login.into(),
                name: format!("{login} person"),
                role: role.into(),
                agency: agency.map(Into::into),
                team: team.map(|t| t.0),
                password: PASSWORD.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let s = svc.sign_in(login, PASSWORD).await.unwrap();
    assert_eq!(s.actor.staff, id);
    s.actor
}

async fn world(store: &Store) -> World {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let team = svc.create_team(Caller::System("test"), &TeamInput { name: "North".into() }).await.unwrap();
    let tm = staff(&svc, "tm1", "team_manager", Some(team), None).await;
    let sw = staff(&svc, "sw1", "social_worker", Some(team), None).await;
    let sw2 = staff(&svc, "sw2", "social_worker", Some(team), None).await;
    let partner = staff(&svc, "pc1", "partner", None, Some("police")).await;
    let admin = staff(&svc, "admin", "administrator", None, None).await;
    svc.set_team_leadership(
        Caller::System("test"),
        team,
        &LeadershipInput { team_manager: Some(tm.staff.0), ..Default::default() },
    )
    .await
    .unwrap();
    World { svc, clock, team, tm, sw, sw2, partner, admin }
}

fn referral(team: TeamId) -> ReferralInput {
    serde_json::from_value(serde_json::json!({
        "team": team.0, "source": "school", "referrer": "Head teacher, Hill School",
        "concern": "bruising to face", "categories": ["physical"],
        "children": [{"given_name": "Alfie", "family_name": "Scott", "dob": "2014-01-01", "sex": "male"}]
    }))
    .unwrap()
}

async fn audit_len(store: &Store) -> i64 {
    query::audit_head(store).await.unwrap().0
}

async fn tables(store: &Store) -> Vec<i64> {
    let mut out = vec![];
    for t in ["people", "referrals", "cases", "allocations", "visits", "case_notes", "staff", "teams"] {
        let n: i64 = sqlx::Row::get(
            &sqlx::query(sqlx::AssertSqlSafe(format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {t}")))
                .fetch_one(store.pool())
                .await
                .unwrap(),
            "n",
        );
        out.push(n);
    }
    out
}

/// Asserts a command was refused and left the trail and every table as they were.
async fn refused<T: std::fmt::Debug>(
    store: &Store,
    f: impl std::future::Future<Output = Result<T, CommandError>>,
) -> Rejection {
    let (before_audit, before_tables) = (audit_len(store).await, tables(store).await);
    let err = match f.await {
        Err(CommandError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    };
    assert_eq!(audit_len(store).await, before_audit, "a refused command wrote to the trail");
    assert_eq!(tables(store).await, before_tables, "a refused command changed a table");
    err
}

store_test!(referral_to_visit_on_the_record, |store| async move {
    let w = world(store).await;
    let svc = &w.svc;

    let before = audit_len(store).await;
    let r = svc.create_referral(&w.partner, &referral(w.team)).await.unwrap();
    assert_eq!(audit_len(store).await, before + 1, "one command, one entry");

    w.clock.set("2026-03-02T11:00:00Z".parse().unwrap());
    let outcome = svc
        .decide_referral(
            &w.tm,
            r,
            &DecisionInput {
                decision: "strategy_discussion".into(),
                reason: "injury, explanation inconsistent".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome.opened.len(), 1);
    let case = outcome.opened[0];

    svc.allocate(&w.tm, case, &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None }).await.unwrap();
    assert_eq!(svc.my_caseload(&w.sw).await.unwrap().len(), 1);

    w.clock.set("2026-03-06T16:00:00Z".parse().unwrap());
    svc.record_visit(
        &w.sw,
        case,
        &VisitInput { visited_at: Some("2026-03-06T15:00:00Z".into()), outcome: "no_access".into(), note: None },
    )
    .await
    .unwrap();
    svc.record_visit(
        &w.sw,
        case,
        &VisitInput { visited_at: None, outcome: "seen_alone".into(), note: Some("in her room".into()) },
    )
    .await
    .unwrap();
    svc.add_case_note(&w.sw, case, &NoteInput { text: "spoke to school".into() }).await.unwrap();

    let child = query::case(store, case).await.unwrap().unwrap().child.id;
    let record = svc.child_record(&w.sw, child).await.unwrap();
    assert_eq!(record.person.given_name, "Alfie");
    assert_eq!(record.referrals.len(), 1);
    assert_eq!(record.referrals[0].decision, Some(domain::referral::Decision::StrategyDiscussion));
    assert_eq!(record.visits.len(), 2);
    assert_eq!(record.visits[0].outcome, domain::visit::VisitOutcome::NoAccess);
    assert_eq!(record.allocations[0].worker.id, w.sw.staff);
    assert_eq!(record.stages[0].stage, domain::case::Stage::Assessment);
    assert_eq!(record.notes.len(), 1);
    let c = &record.cases[0];
    assert_eq!(c.last_seen_alone_at.map(|t| t.to_string()), Some("2026-03-06T16:00:00Z".into()));
    assert_eq!(c.last_visit_at, c.last_seen_at);

    // The partner sees what happened to their referral.
    let theirs = svc.referral(&w.partner, r).await.unwrap();
    assert_eq!(theirs.decision, Some(domain::referral::Decision::StrategyDiscussion));

    // Reallocation and closure are on the record too.
    svc.allocate(&w.tm, case, &AllocationInput { worker: Some(w.sw2.staff.0), override_reason: None }).await.unwrap();
    svc.close_case(&w.tm, case, &CloseInput { reason: "family moved away".into() }).await.unwrap();
    let record = svc.child_record(&w.tm, child).await.unwrap();
    assert_eq!(record.allocations.len(), 2);
    assert!(record.allocations[0].to_at.is_some());
    assert_eq!(record.stages.last().unwrap().stage, domain::case::Stage::Closed);

    let n = i64::try_from(store::trail::verify_entries(store).await.unwrap().unwrap().entries).unwrap();
    assert_eq!(n, audit_len(store).await);
});

store_test!(refusals_write_nothing, |store| async move {
    let w = world(store).await;
    let svc = &w.svc;
    let r = svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();

    // Wrong role.
    let e =
        refused(store, svc.decide_referral(&w.sw, r, &DecisionInput { decision: "nfa".into(), reason: "x".into() }))
            .await;
    assert!(matches!(e, Rejection::Forbidden(_)));
    let e = refused(store, svc.create_team(Caller::Staff(&w.tm), &TeamInput { name: "South".into() })).await;
    assert!(matches!(e, Rejection::Forbidden(_)));
    let e = refused(store, svc.child_record(&w.admin, PersonId(1))).await;
    assert!(matches!(e, Rejection::Forbidden(_)));

    // Bad fields, each named.
    let mut bad = referral(w.team);
    bad.children[0].details.nhs_number = Some("943 476 5918".into());
    bad.categories = vec![];
    let Rejection::Invalid(fields) = refused(store, svc.create_referral(&w.sw, &bad)).await else { panic!() };
    let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["categories", "children[0].nhs_number"]);

    // A failure late in a command (after ids and people were staged) still writes nothing.
    let mut late = referral(w.team);
    late.children.push(commands::input::ReferralChildInput { person_id: Some(999), ..Default::default() });
    let Rejection::Invalid(fields) = refused(store, svc.create_referral(&w.sw, &late)).await else { panic!() };
    assert_eq!(fields[0].field, "children[1].person_id");

    // Wrong state.
    svc.decide_referral(&w.tm, r, &DecisionInput { decision: "nfa".into(), reason: "no concerns".into() })
        .await
        .unwrap();
    let e = refused(
        store,
        svc.decide_referral(&w.tm, r, &DecisionInput { decision: "assessment".into(), reason: "x".into() }),
    )
    .await;
    assert!(matches!(e, Rejection::Conflict { .. }));

    // Not found.
    let e = refused(
        store,
        svc.allocate(&w.tm, CaseId(42), &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None }),
    )
    .await;
    assert!(matches!(e, Rejection::NotFound(_)));

    // Duplicate login.
    let e = refused(
        store,
        svc.add_staff(
            Caller::Staff(&w.admin),
            &StaffInput {
                login: "SW1".into(),
                name: "Dup".into(),
                role: "social_worker".into(),
                team: Some(w.team.0),
                password: PASSWORD.into(),
                ..Default::default()
            },
        ),
    )
    .await;
    assert!(matches!(e, Rejection::Conflict { field: Some(f), .. } if f == "login"));

    // Bad password.
    assert!(matches!(refused(store, svc.sign_in("sw1", "wrong password!!")).await, Rejection::Invalid(_)));
    assert!(matches!(refused(store, svc.sign_in("nobody", PASSWORD)).await, Rejection::Invalid(_)));
});

store_test!(visits_only_by_the_allocated_worker, |store| async move {
    let w = world(store).await;
    let svc = &w.svc;
    let r = svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();
    let case = svc
        .decide_referral(&w.tm, r, &DecisionInput { decision: "assessment".into(), reason: "assess".into() })
        .await
        .unwrap()
        .opened[0];
    svc.allocate(&w.tm, case, &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None }).await.unwrap();
    let visit = VisitInput { visited_at: None, outcome: "seen".into(), note: None };
    assert!(matches!(refused(store, svc.record_visit(&w.sw2, case, &visit)).await, Rejection::Forbidden(_)));
    let school = staff(svc, "sch1", "partner", None, Some("school")).await;
    assert!(matches!(refused(store, svc.record_visit(&school, case, &visit)).await, Rejection::Forbidden(_)));
    svc.record_visit(&w.sw, case, &visit).await.unwrap();
    // The police record a visit only when asked for a welfare check (see the scenarios).
    assert!(matches!(refused(store, svc.record_visit(&w.partner, case, &visit)).await, Rejection::Forbidden(_)));
    svc.record_visit(&w.tm, case, &visit).await.unwrap();
});

store_test!(allocation_over_the_cap_needs_a_reason, |store| async move {
    let w = world(store).await;
    let svc = &w.svc;
    let mut cases = vec![];
    for _ in 0..16 {
        let r = svc.create_referral(&w.sw, &referral(w.team)).await.unwrap();
        cases.push(
            svc.decide_referral(&w.tm, r, &DecisionInput { decision: "assessment".into(), reason: "assess".into() })
                .await
                .unwrap()
                .opened[0],
        );
    }
    for c in &cases[..15] {
        svc.allocate(&w.tm, *c, &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None }).await.unwrap();
    }
    let Rejection::Invalid(f) = refused(
        store,
        svc.allocate(&w.tm, cases[15], &AllocationInput { worker: Some(w.sw.staff.0), override_reason: None }),
    )
    .await
    else {
        panic!()
    };
    assert_eq!(f[0].field, "override_reason");
    svc.allocate(
        &w.tm,
        cases[15],
        &AllocationInput { worker: Some(w.sw.staff.0), override_reason: Some("sibling of a child she holds".into()) },
    )
    .await
    .unwrap();
    assert_eq!(svc.my_caseload(&w.sw).await.unwrap().len(), 16);
});

store_test!(sessions_and_tokens, |store| async move {
    let w = world(store).await;
    let svc = &w.svc;
    let s = svc.sign_in("SW1 ", PASSWORD).await.unwrap();
    assert_eq!(svc.session(&s.token).await.unwrap().staff, w.sw.staff);
    assert!(matches!(svc.session("forged").await, Err(CommandError::Unauthenticated)));
    // Sessions lapse.
    w.clock.advance(jiff::SignedDuration::from_hours(11));
    assert!(matches!(svc.session(&s.token).await, Err(CommandError::Unauthenticated)));
    let s = svc.sign_in("sw1", PASSWORD).await.unwrap();
    svc.sign_out(&s.actor, &s.token).await.unwrap();
    assert!(matches!(svc.session(&s.token).await, Err(CommandError::Unauthenticated)));
    let (_, token) = svc.issue_token(&w.tm, "case system link").await.unwrap();
    assert_eq!(svc.bearer(&token).await.unwrap().staff, w.tm.staff);
    // A new password ends sessions.
    let s = svc.sign_in("sw1", PASSWORD).await.unwrap();
    svc.set_password(Caller::Staff(&w.admin), w.sw.staff, "another long password").await.unwrap();
    assert!(matches!(svc.session(&s.token).await, Err(CommandError::Unauthenticated)));
    svc.sign_in("sw1", "another long password").await.unwrap();
    // No secret reaches the trail.
    let entries = query::audit_entries(store, 1, 10_000).await.unwrap();
    assert!(
        entries.iter().all(|e| !e.entry.contains(&token) && !e.entry.contains("argon2") && !e.entry.contains(&s.token))
    );
});

store_test!(concurrent_commands_keep_one_chain, |store| async move {
    let w = world(store).await;
    let mut handles = vec![];
    for _ in 0..8 {
        let svc = w.svc.clone();
        let sw = w.sw.clone();
        let input = referral(w.team);
        handles.push(tokio::spawn(async move {
            for _ in 0..5 {
                svc.create_referral(&sw, &input).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let n = i64::try_from(store::trail::verify_entries(store).await.unwrap().unwrap().entries).unwrap();
    assert_eq!(n, audit_len(store).await);
    assert_eq!(
        query::referrals(store, &query::ReferralFilter { limit: 1000, ..Default::default() }).await.unwrap().len(),
        40
    );
});
