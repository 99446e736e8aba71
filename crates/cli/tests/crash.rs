#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Killing the server while timers fall due loses nothing and doubles nothing: after a
//! restart every due timer has fired exactly once.

use commands::input::ReferralInput;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Config, Service};
use domain::clock::SimulatedClock;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{Store, query};

const N: usize = 800;

/// `n` undecided referrals received a week ago: every decision has long fallen due.
async fn fixture(store: &Store, n: usize) {
    let past = jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_hours(24 * 7)).unwrap();
    let store = store.clone();
    let svc = Service::new(store.clone(), Arc::new(SimulatedClock::new(past)), Config::default());
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
    let actor = domain::authz::Actor {
        staff: ids[3],
        login: "sw1".into(),
        role: domain::staff::Role::SocialWorker,
        team: Some(team),
        agency: None,
    };
    for i in 0..n {
        let input: ReferralInput = serde_json::from_value(serde_json::json!({
            "team": team.0, "source": "police", "concern": "domestic incident", "categories": ["emotional"],
            "children": [{"given_name": "Child", "family_name": format!("Number {i}"), "dob": "2015-01-01"}]
        }))
        .unwrap();
        svc.create_referral(&actor, &input).await.unwrap();
    }
}

/// A running `safeguard serve`, killed with SIGKILL (no shutdown, no flush) when stopped
/// or dropped, and always waited for.
struct Server(Child);

impl Server {
    fn start(db: &str) -> Server {
        Server::with_batch(db, commands::sweeper::BATCH)
    }

    fn with_batch(db: &str, batch: i64) -> Server {
        Server(
            Command::new(env!("CARGO_BIN_EXE_safeguard"))
                .args(["serve", "--db", db, "--bind", "127.0.0.1:0", "--sweep-batch", &batch.to_string()])
                .env("SAFEGUARD_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start safeguard serve"),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn escalations(store: &Store) -> usize {
    query::escalations(store, &query::EscalationFilter { include_resolved: true, limit: 100_000, ..Default::default() })
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_killed_server_fires_each_timer_exactly_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").display().to_string();
    let observer = Store::open(&db).await.unwrap();
    fixture(&observer, N).await;

    // First run: kill -9 as soon as the sweeper has committed some, but not all (small
    // batches, so there is a "some").
    let server = Server::with_batch(&db, 50);
    let started = Instant::now();
    let at_kill = loop {
        let n = escalations(&observer).await;
        if n > 0 {
            drop(server); // SIGKILL: no shutdown, no flush, mid-transaction.
            break n;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the sweeper never fired");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let after_kill = escalations(&observer).await;
    assert!(after_kill < N, "the kill came too late to test anything ({after_kill} of {N} already fired)");
    assert!(after_kill >= at_kill, "nothing committed was lost");

    // Second run: the rest fire.
    let server = Server::start(&db);
    let started = Instant::now();
    while escalations(&observer).await < N {
        assert!(started.elapsed() < Duration::from_secs(300), "the restarted sweeper did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the chance to appear, then stop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);

    assert_eq!(escalations(&observer).await, N, "exactly one escalation per referral");
    let entries = query::audit_entries(&observer, 1, 1_000_000).await.unwrap();
    let raised = entries.iter().filter(|e| e.entry.contains("\"type\":\"escalation_raised\"")).count();
    assert_eq!(raised, N, "each escalation raised exactly once on the trail");
    let fired = entries.iter().filter(|e| e.action == "timer.referral_decision_due").count();
    assert_eq!(fired, N, "each timer fired exactly once");
    query::verify_audit_chain(&observer).await.unwrap().unwrap();
}

/// Three `serve` processes on one PostgreSQL share the sweep while one after another is
/// killed with SIGKILL and started again: every timer fires exactly once between them,
/// and the trail they wrote together is one unbroken chain.
#[tokio::test]
async fn three_servers_on_postgres_killed_in_turn_fire_each_timer_exactly_once() {
    const M: usize = 3000;
    let Some(t) = store::testing::TestStore::postgres().await else { return };
    fixture(&t.store, M).await;
    let db = t.database_spec();
    // Batches of 50: many transactions, so the kills land in the middle of the sweep.
    let mut servers: Vec<Server> = (0..3).map(|_| Server::with_batch(&db, 50)).collect();
    let started = Instant::now();
    let mut kills = 0;
    let mut fired_at_kills = vec![];
    loop {
        let n = escalations(&t.store).await;
        if n >= M {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the servers did not finish ({n} of {M})");
        if n > 0 {
            // Once the sweep is under way, kill one server every 100 ms (in turn) and
            // start a new one in its place.
            let i = kills % servers.len();
            servers[i] = Server::with_batch(&db, 50); // the old one is killed as it is replaced
            kills += 1;
            fired_at_kills.push(n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        fired_at_kills.iter().filter(|n| **n < M).count() >= 2,
        "at least two kills fell mid-sweep (escalations at each kill: {fired_at_kills:?})"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(servers);

    assert_eq!(escalations(&t.store).await, M, "exactly one escalation per referral");
    let entries = query::audit_entries(&t.store, 1, 1_000_000).await.unwrap();
    let raised = entries.iter().filter(|e| e.entry.contains("\"type\":\"escalation_raised\"")).count();
    assert_eq!(raised, M, "each escalation raised exactly once on the trail");
    let fired = entries.iter().filter(|e| e.action == "timer.referral_decision_due").count();
    assert_eq!(fired, M, "each timer fired exactly once");
    query::verify_audit_chain(&t.store).await.unwrap().unwrap();
    t.teardown().await;
}
