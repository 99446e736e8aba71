#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sweeper fires each due timer exactly once, even with two sweepers (two "servers"
//! on one database) at once, and in due order.

use commands::input::ReferralInput;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Config, Service};
use domain::clock::SimulatedClock;
use std::sync::Arc;
use store::testing::TestStore;
use store::{Backend, query, store_test};

const N: usize = 300;

async fn setup(t: &TestStore, clock: Arc<SimulatedClock>) -> Service {
    let svc = Service::new(t.store.clone(), clock, Config { sweep_batch: 50, ..Config::default() });
    let sys = Caller::System("test");
    let team = svc.create_team(sys, &TeamInput { name: "North".into() }).await.unwrap();
    let mut ids = vec![];
    for (login, role) in
        [("tm1", "team_manager"), ("sm1", "service_manager"), ("hos1", "head_of_service"), ("sw1", "social_worker")]
    {
        ids.push(
            svc.add_staff(
                sys,
                &StaffInput {
                    login: login.into(),
                    name: login.into(),
                    role: role.into(),
                    team: Some(team.0),
                    ..Default::default()
                },
            )
            .await
            .unwrap(),
        );
    }
    svc.set_team_leadership(
        sys,
        team,
        &LeadershipInput {
            team_manager: Some(ids[0].0),
            service_manager: Some(ids[1].0),
            head_of_service: Some(ids[2].0),
        },
    )
    .await
    .unwrap();
    let sw = store::query::staff(&t.store, ids[3]).await.unwrap().unwrap();
    let actor = domain::authz::Actor { staff: sw.id, login: sw.login, role: sw.role, team: Some(team), agency: None };
    // Referrals received over the morning of Monday 2 March, all undecided.
    for i in 0..N {
        let input: ReferralInput = serde_json::from_value(serde_json::json!({
            "team": team.0, "source": "police", "concern": "domestic incident", "categories": ["emotional"],
            "received_at": format!("2026-03-02T{:02}:{:02}:00Z", 9 + i / 60, i % 60),
            "children": [{"given_name": "Child", "family_name": format!("Number {i}"), "dob": "2015-01-01"}]
        }))
        .unwrap();
        svc.create_referral(&actor, &input).await.unwrap();
    }
    svc
}

store_test!(two_sweepers_fire_each_timer_once, |t: TestStore| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T16:00:00Z".parse().unwrap()));
    let a = setup(t, clock.clone()).await;
    // Small batches, so that each sweeper claims several while the other works.
    let b = Service::new(t.reconnect().await, clock.clone(), Config { sweep_batch: 50, ..Config::default() });
    // Every decision falls due by Tuesday 14:00; both "servers" sweep at once.
    clock.set("2026-03-03T16:30:00Z".parse().unwrap());
    let (ra, rb) = tokio::join!(a.sweep(), b.sweep());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.fired + rb.fired, N, "every due timer fired once between them ({ra:?}, {rb:?})");
    assert_eq!(ra.failed + rb.failed, 0);
    if t.store.backend() == Backend::Postgres {
        assert!(ra.fired > 0 && rb.fired > 0, "both sweepers shared the work ({ra:?}, {rb:?})");
    }
    // Nothing is left to fire, and sweeping again changes nothing.
    assert_eq!(a.sweep().await.unwrap().fired, 0);
    let escalations =
        query::escalations(&t.store, &query::EscalationFilter { limit: 10_000, ..Default::default() }).await.unwrap();
    assert_eq!(escalations.len(), N);
    let mut subjects: Vec<_> = escalations.iter().map(|e| e.subject).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), N, "one escalation per referral");
    let entries = query::audit_entries(&t.store, 1, 100_000).await.unwrap();
    let raised = entries.iter().filter(|e| e.entry.contains("\"type\":\"escalation_raised\"")).count();
    assert_eq!(raised, N, "each escalation raised exactly once on the trail");
    store::trail::verify_entries(&t.store).await.unwrap().unwrap();
});

store_test!(timers_fire_in_due_order, |t: TestStore| async move {
    let clock = Arc::new(SimulatedClock::new("2026-03-02T16:00:00Z".parse().unwrap()));
    let svc = setup(t, clock.clone()).await;
    clock.set("2026-03-03T16:30:00Z".parse().unwrap());
    svc.sweep().await.unwrap();
    let entries = query::audit_entries(&t.store, 1, 100_000).await.unwrap();
    let fired: Vec<i64> = entries
        .iter()
        .filter(|e| e.action == "timer.referral_decision_due")
        .map(|e| e.subject.trim_start_matches("referral:").parse().unwrap())
        .collect();
    let mut sorted = fired.clone();
    sorted.sort();
    assert_eq!(fired.len(), N);
    assert_eq!(fired, sorted, "referrals received earlier fell due earlier and fired first");
});

// A timer that cannot be handled (here: its escalation's row names a trigger this
// version does not know) fails the batch; the batch is retried one timer at a time, the
// bad timer is set aside, and every other timer in it still fires.
store_test!(a_bad_timer_is_set_aside_and_the_rest_fire, |t: TestStore| async move {
    use sqlx::Executor;
    let clock = Arc::new(SimulatedClock::new("2026-03-02T16:00:00Z".parse().unwrap()));
    let svc = setup(t, clock.clone()).await;
    let at = store::to_micros("2026-03-03T10:00:00Z".parse().unwrap());
    t.store
        .pool()
        .execute(sqlx::AssertSqlSafe(format!(
            "INSERT INTO escalations (id, trigger, subject, team_id, level, assignee_id, state, detail, raised_at, level_reached_at)
             VALUES (9999, 'no_such_trigger', 'referral:424242', 1, 1, 1, 'open', 'corrupt', {at}, {at})"
        )))
        .await
        .unwrap();
    t.store
        .pool()
        .execute(sqlx::AssertSqlSafe(format!(
            "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at)
             VALUES ('escalation_ack', 'escalation:9999', {at}, 0, 'scheduled', {at}, {at})"
        )))
        .await
        .unwrap();
    clock.set("2026-03-03T16:30:00Z".parse().unwrap());
    let swept = svc.sweep().await.unwrap();
    assert_eq!((swept.fired, swept.failed), (N, 1), "{swept:?}");
    let row: (String,) = sqlx::query_as("SELECT state FROM timers WHERE subject = 'escalation:9999'")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    assert_eq!(row.0, "failed");
    let raised: (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM escalations WHERE trigger = 'referral_decision_overdue'")
            .fetch_one(t.store.pool())
            .await
            .unwrap();
    assert_eq!(raised.0, N as i64, "every good timer raised its escalation");
    // Set aside, it is not tried again.
    assert_eq!(svc.sweep().await.unwrap(), commands::sweeper::Sweep::default());
    store::trail::verify_entries(&t.store).await.unwrap().unwrap();
});
