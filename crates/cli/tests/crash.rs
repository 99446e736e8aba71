#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Killing the server while timers fall due and their emails go out loses nothing and
//! doubles nothing on the record: after a restart every due timer has fired exactly once,
//! every email was accepted by the mail server at least once (a retry after a kill
//! carries the same idempotency key) and is recorded as sent exactly once.

use commands::input::ReferralInput;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Config, Service};
use domain::clock::SimulatedClock;
use notify::testing::SmtpSink;
use rand::Rng;
use std::collections::HashSet;
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
    // The managers, who hold every escalation between them (routing moves escalations
    // up the line once the team manager holds more than ten), have notifications emailed.
    for (id, login) in ids.iter().zip(["tm1", "sm1", "hos1"]) {
        let contact = commands::notifications::ContactInput {
            email: Some(format!("{login}@council.gov.uk")),
            email_notifications: Some(true),
        };
        svc.set_contact(sys, *id, &contact).await.unwrap();
    }
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
    fn start(db: &str, smtp: &str) -> Server {
        Server::with_batch(db, smtp, commands::sweeper::BATCH)
    }

    fn with_batch(db: &str, smtp: &str, batch: i64) -> Server {
        let batch = batch.to_string();
        Server(
            Command::new(env!("CARGO_BIN_EXE_safeguard"))
                .args(["serve", "--db", db, "--bind", "127.0.0.1:0", "--sweep-batch", &batch])
                .args(["--smtp", smtp, "--delivery-batch", &batch])
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

/// Emails recorded as sent.
async fn sent(store: &Store) -> usize {
    store.deliveries("sent", 1_000_000).await.unwrap().len()
}

/// Every email was accepted at least once, and recorded as sent exactly once.
async fn check_deliveries(store: &Store, sink: &SmtpSink, n: usize) {
    let rows = store.deliveries("sent", 1_000_000).await.unwrap();
    assert_eq!(rows.len(), n, "one email per escalation, each recorded as sent");
    let accepted: HashSet<String> = sink.messages().iter().filter_map(|m| m.header("X-Safeguard-Delivery")).collect();
    let missing = rows.iter().filter(|d| !accepted.contains(&d.idempotency_key)).count();
    assert_eq!(missing, 0, "every email recorded as sent reached the mail server");
    let entries = query::audit_entries(store, 1, 10_000_000).await.unwrap();
    let mut recorded: Vec<&str> =
        entries.iter().filter(|e| e.action == "delivery.sent").map(|e| e.subject.as_str()).collect();
    assert_eq!(recorded.len(), n, "each delivery recorded as sent exactly once on the trail");
    recorded.sort_unstable();
    recorded.dedup();
    assert_eq!(recorded.len(), n, "no delivery recorded twice");
    // At least once: a kill between the server accepting an email and the commit sends it
    // again, with the same key (so the receiver can tell).
    eprintln!("{} emails accepted for {n} deliveries ({} resent after a kill)", sink.count(), sink.count() - n);
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
    let sink = SmtpSink::start().await;
    let smtp = sink.url();

    // First run: kill -9 as soon as the sweeper has committed some, but not all (small
    // batches, so there is a "some").
    let server = Server::with_batch(&db, &smtp, 50);
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

    // Second run: killed again once some emails are out but not all.
    let server = Server::with_batch(&db, &smtp, 50);
    let started = Instant::now();
    loop {
        let s = sent(&observer).await;
        if s > 0 {
            drop(server);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no email went out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(sent(&observer).await < N, "the second kill came too late to test anything");

    // Third run: the rest fire and go out.
    let server = Server::start(&db, &smtp);
    let started = Instant::now();
    while escalations(&observer).await < N || sent(&observer).await < N {
        assert!(started.elapsed() < Duration::from_secs(300), "the restarted server did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the chance to appear, then stop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    check_deliveries(&observer, &sink, N).await;

    assert_eq!(escalations(&observer).await, N, "exactly one escalation per referral");
    let entries = query::audit_entries(&observer, 1, 1_000_000).await.unwrap();
    let raised = entries.iter().filter(|e| e.entry.contains("\"type\":\"escalation_raised\"")).count();
    assert_eq!(raised, N, "each escalation raised exactly once on the trail");
    let fired = entries.iter().filter(|e| e.action == "timer.referral_decision_due").count();
    assert_eq!(fired, N, "each timer fired exactly once");
    store::trail::verify_entries(&observer).await.unwrap().unwrap();
}

/// Three `serve` processes on one PostgreSQL share the sweep and the deliveries while
/// random ones are killed with SIGKILL and started again: every timer fires exactly once
/// between them, every email is accepted at least once and recorded as sent once, and
/// the trail they wrote together is one unbroken chain.
#[tokio::test]
async fn three_servers_on_postgres_killed_at_random_fire_each_timer_and_send_each_email() {
    const M: usize = 10_000;
    let Some(t) = store::testing::TestStore::postgres().await else { return };
    fixture(&t.store, M).await;
    let db = t.database_spec();
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    // Batches of 50: many transactions, so the kills land in the middle of the work.
    let mut servers: Vec<Server> = (0..3).map(|_| Server::with_batch(&db, &smtp, 50)).collect();
    let started = Instant::now();
    let mut rng = rand::rng();
    let (mut mid_sweep, mut mid_delivery) = (0, 0);
    loop {
        let (n, s) = (escalations(&t.store).await, sent(&t.store).await);
        if n >= M && s >= M {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the servers did not finish ({n} fired, {s} sent)");
        if n > 0 {
            // Once work is under way, kill a random server every 50–250 ms and start a
            // new one in its place.
            let i = rng.random_range(0..servers.len());
            servers[i] = Server::with_batch(&db, &smtp, 50); // the old one is killed as it is replaced
            if n < M {
                mid_sweep += 1;
            }
            if s > 0 && s < M {
                mid_delivery += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..250))).await;
    }
    assert!(mid_sweep >= 2, "at least two kills fell mid-sweep ({mid_sweep})");
    assert!(mid_delivery >= 2, "at least two kills fell mid-delivery ({mid_delivery})");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(servers);
    check_deliveries(&t.store, &sink, M).await;

    assert_eq!(escalations(&t.store).await, M, "exactly one escalation per referral");
    let entries = query::audit_entries(&t.store, 1, 1_000_000).await.unwrap();
    let raised = entries.iter().filter(|e| e.entry.contains("\"type\":\"escalation_raised\"")).count();
    assert_eq!(raised, M, "each escalation raised exactly once on the trail");
    let fired = entries.iter().filter(|e| e.action == "timer.referral_decision_due").count();
    assert_eq!(fired, M, "each timer fired exactly once");
    store::trail::verify_entries(&t.store).await.unwrap().unwrap();
    t.teardown().await;
}
