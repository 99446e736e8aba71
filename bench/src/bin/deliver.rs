#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Delivery benchmark: how fast the notifier empties the outbox into a real SMTP server
//! and a real webhook receiver (both local), with one or several workers sharing one
//! database, and how long a notification takes from its timer falling due to its email
//! being accepted, with everything a `serve` process runs (sweeper, notifier,
//! housekeeping) on the real clock.
//!
//! ```text
//! cargo run --release -p safeguard-bench --bin deliver -- --backend postgres --workers 3
//! ```

use anyhow::Context;
use clap::Parser;
use commands::delivery::Couriers;
use commands::input::ReferralInput;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Config, Service};
use domain::clock::{Clock, SimulatedClock};
use jiff::{SignedDuration, Timestamp};
use notify::testing::{SmtpSink, WebhookReceiver};
use notify::{Mailer, SmtpConfig, WebhookClient};
use sqlx::{AssertSqlSafe, Executor, Row};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Backend;
use store::testing::TestStore;

#[derive(Debug, Parser)]
struct Args {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Workers sending at once, each with its own connection pool (as separate `serve`
    /// processes would have).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Emails in the throughput run.
    #[arg(long, default_value_t = 20_000)]
    emails: i64,
    /// Webhooks in the throughput run.
    #[arg(long, default_value_t = 10_000)]
    webhooks: i64,
    /// Latency run: timers falling due per second…
    #[arg(long, default_value_t = 200)]
    rate: i64,
    /// …for this many seconds.
    #[arg(long, default_value_t = 20)]
    seconds: i64,
}

const SECRET: &str = "bench-secret-bench-secret-bench-secret";
const T0: i64 = 1_772_442_000_000_000; // 2026-03-02T09:00:00Z, micros

fn series(backend: Backend, n: i64, select: &str, insert: &str) -> String {
    match backend {
        Backend::Postgres => format!("{insert} SELECT {select} FROM generate_series(CAST(1 AS BIGINT), {n}) AS s(n)"),
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) {insert} SELECT {select} FROM s"
        ),
    }
}

async fn couriers(sink: &SmtpSink) -> Couriers {
    let mut cfg = SmtpConfig::parse(&sink.url(), "safeguard <safeguard@example.gov.uk>").unwrap();
    cfg.pool_size = 16;
    Couriers { mailer: Some(Mailer::new(&cfg).unwrap()), webhooks: WebhookClient::new(Duration::from_secs(10)) }
}

/// Runs `workers` notifiers until the outbox is empty; returns the wall time.
async fn drain(test: &TestStore, workers: usize, couriers: &Couriers, now: Timestamp) -> Duration {
    let clock = Arc::new(SimulatedClock::new(now));
    let mut services = vec![];
    for _ in 0..workers {
        services.push(Service::new(test.reconnect().await, clock.clone(), Config::default()));
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for svc in services {
        let couriers = couriers.clone();
        tasks.spawn(async move {
            let mut idle = 0;
            // Several idle rounds in a row: the others may hold the last rows.
            while idle < 3 {
                let r = svc.deliver_due(&couriers).await.unwrap();
                assert_eq!(r.deferred + r.failed, 0, "nothing should fail against local receivers: {r:?}");
                if r.handled() == 0 {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                } else {
                    idle = 0;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    started.elapsed()
}

async fn count(store: &store::Store, sql: &str) -> i64 {
    store.pool().fetch_one(AssertSqlSafe(sql.to_string())).await.unwrap().get::<i64, _>(0)
}

/// The outbox filled in bulk with escalation emails (each naming a child and an
/// escalation, so rendering reads what it would in life) and welfare-check webhooks.
async fn throughput(a: &Args, backend: Backend) -> anyhow::Result<()> {
    let test = TestStore::new(backend).await.context("PostgreSQL is not reachable (TEST_DATABASE_URL)")?;
    let store = &test.store;
    let pool = store.pool();
    let exec = |sql: String| async move { pool.execute(AssertSqlSafe(sql)).await.map(|_| ()) };
    exec(format!("INSERT INTO teams (id, name, team_manager_id, created_at) VALUES (1, 'North', 1, {T0})")).await?;
    exec(format!("INSERT INTO staff (id, login, name, role, team_id, fte, active, created_at, email) VALUES (1, 'tm1', 'tm1', 'team_manager', 1, 1.0, 1, {T0}, 'tm1@council.gov.uk')")).await?;
    let n = a.emails.max(a.webhooks);
    exec(series(
        backend,
        n,
        &format!("n, 'child', 'Child', 'Number' || n, NULL, 'unknown', 'unknown', {T0}"),
        "INSERT INTO people (id, kind, given_name, family_name, dob, dob_precision, sex, created_at)",
    ))
    .await?;
    exec(series(
        backend,
        n,
        &format!("n, 'child_not_seen', 'person:' || n, 1, 1, 1, 'open', 'Visit: no access', {T0}, {T0}"),
        "INSERT INTO escalations (id, trigger, subject, team_id, level, assignee_id, state, detail, raised_at, level_reached_at)",
    ))
    .await?;
    let sink = SmtpSink::start().await;
    let hooks = WebhookReceiver::start(SECRET).await;
    // Signed on the fixture's (simulated) clock, in March 2026.
    hooks.set_tolerance(20 * 365 * 24 * 3600);
    let couriers = couriers(&sink).await;
    let now = Timestamp::from_microsecond(T0 + 1_000_000)?;

    exec(series(
        backend,
        a.emails,
        &format!("'e' || n, 'email', 1, 'tm1@council.gov.uk', 'escalation', n, 'pending', {T0}, {T0}"),
        "INSERT INTO deliveries (idempotency_key, channel, staff_id, recipient, kind, escalation_id, state, created_at, due_at)",
    ))
    .await?;
    let wall = drain(&test, a.workers, &couriers, now).await;
    let sent = count(store, "SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries WHERE state = 'sent'").await;
    assert_eq!(sent, a.emails);
    assert!(sink.count() >= a.emails as usize);
    println!(
        "emails:   {} sent by {} worker(s) in {:.2} s = {:.0}/s (SMTP server accepted {})",
        a.emails,
        a.workers,
        wall.as_secs_f64(),
        a.emails as f64 / wall.as_secs_f64(),
        sink.count()
    );

    exec(format!(
        "INSERT INTO webhook_endpoints (agency, url, secret, updated_at) VALUES ('police', '{}', '{SECRET}', {T0})",
        hooks.url()
    ))
    .await?;
    let payload =
        r#"{"event":"welfare_check.requested","escalation":"E-' || n || '","child":{"reference":"P-' || n || '"}}"#;
    exec(series(
        backend,
        a.webhooks,
        &format!("'w' || n, 'webhook', 'police', 'welfare_check', n, '{payload}', 'pending', {T0}, {T0}"),
        "INSERT INTO deliveries (idempotency_key, channel, recipient, kind, escalation_id, payload, state, created_at, due_at)",
    ))
    .await?;
    let wall = drain(&test, a.workers, &couriers, now).await;
    let sent =
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries WHERE state = 'sent' AND channel = 'webhook'")
            .await;
    assert_eq!(sent, a.webhooks);
    assert!(hooks.calls().iter().all(|c| c.signature_ok), "every webhook signature verified at the receiver");
    println!(
        "webhooks: {} sent by {} worker(s) in {:.2} s = {:.0}/s (receiver took {}, all signatures verified)",
        a.webhooks,
        a.workers,
        wall.as_secs_f64(),
        a.webhooks as f64 / wall.as_secs_f64(),
        hooks.count()
    );
    test.teardown().await;
    Ok(())
}

/// Simulated time that runs at the speed of real time from a chosen moment.
struct RunningClock {
    from: Timestamp,
    started: Instant,
}

impl Clock for RunningClock {
    fn now(&self) -> Timestamp {
        let elapsed = SignedDuration::try_from(self.started.elapsed()).unwrap_or_default();
        self.from.checked_add(elapsed).unwrap_or(self.from)
    }
}

/// Referrals received a working day ago at `rate` a second fall due one after another;
/// `workers` full servers' background work (sweeper every second, notifier, housekeeping)
/// run on a clock moving at real speed. Latency: from each timer's due moment to its
/// email being recorded as sent (after the SMTP server accepted it).
async fn latency(a: &Args, backend: Backend) -> anyhow::Result<()> {
    let test = TestStore::new(backend).await.context("PostgreSQL is not reachable (TEST_DATABASE_URL)")?;
    let monday = Timestamp::from_microsecond(T0)?;
    let setup = Service::new(test.store.clone(), Arc::new(SimulatedClock::new(monday)), Config::default());
    let sys = Caller::System("bench");
    let team = setup.create_team(sys, &TeamInput { name: "North".into() }).await?;
    let mut ids = vec![];
    for (login, role) in [("tm1", "team_manager"), ("sm1", "service_manager"), ("sw1", "social_worker")] {
        let input = StaffInput {
            login: login.into(),
            name: login.into(),
            role: role.into(),
            team: Some(team.0),
            ..Default::default()
        };
        ids.push(setup.add_staff(sys, &input).await?);
    }
    let line = LeadershipInput { team_manager: Some(ids[0].0), service_manager: Some(ids[1].0), head_of_service: None };
    setup.set_team_leadership(sys, team, &line).await?;
    // Both managers have email: once the team manager holds more than ten open
    // escalations, routing sends the next ones to the service manager.
    for (id, login) in ids.iter().zip(["tm1", "sm1"]) {
        let contact = commands::notifications::ContactInput {
            email: Some(format!("{login}@council.gov.uk")),
            email_notifications: Some(true),
        };
        setup.set_contact(sys, *id, &contact).await?;
    }
    let sw = domain::authz::Actor {
        staff: ids[2],
        login: "sw1".into(),
        role: domain::staff::Role::SocialWorker,
        team: Some(team),
        agency: None,
    };
    let n = a.rate * a.seconds;
    let step = 1_000_000 / a.rate; // micros between referrals
    let loading = Instant::now();
    for i in 0..n {
        let at = Timestamp::from_microsecond(T0 + i * step)?;
        let input: ReferralInput = serde_json::from_value(serde_json::json!({
            "team": team.0, "source": "police", "concern": "domestic incident", "categories": ["emotional"],
            "received_at": at.to_string(),
            "children": [{"given_name": "Child", "family_name": format!("Number {i}"), "dob": "2015-01-01"}]
        }))?;
        setup.create_referral(&sw, &input).await?;
    }
    eprintln!("latency fixture: {n} referrals in {:.1} s", loading.elapsed().as_secs_f64());
    // Each is due one working day after it arrived: Tuesday 09:00 plus its offset.
    let tuesday = monday.checked_add(SignedDuration::from_hours(24))?;
    let sink = SmtpSink::start().await;
    let couriers = couriers(&sink).await;
    let clock: Arc<dyn Clock> =
        Arc::new(RunningClock { from: tuesday.checked_sub(SignedDuration::from_secs(2))?, started: Instant::now() });
    let mut servers = vec![];
    for _ in 0..a.workers {
        let svc = Service::new(test.reconnect().await, clock.clone(), Config::default());
        servers.push(safeguard::workers::start(svc, couriers.clone()));
    }
    let started = Instant::now();
    loop {
        let sent = count(&test.store, "SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries WHERE state = 'sent'").await;
        if sent >= n {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120 + a.seconds as u64), "only {sent} of {n} sent");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(servers);
    let rows = test
        .store
        .pool()
        .fetch_all(
            "SELECT e.subject AS subject, d.sent_at AS sent_at FROM deliveries d JOIN escalations e ON e.id = d.escalation_id",
        )
        .await?;
    let mut ms: Vec<f64> = rows
        .iter()
        .map(|r| {
            let referral: i64 = r.get::<String, _>("subject").trim_start_matches("referral:").parse().unwrap();
            let due = tuesday.as_microsecond() + (referral - 1) * step;
            (r.get::<i64, _>("sent_at") - due) as f64 / 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "due → email accepted and recorded, {n} timers at {}/s, {} server(s): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        a.rate,
        a.workers,
        pct(0.5),
        pct(0.99),
        ms[ms.len() - 1]
    );
    test.teardown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let backend = match a.backend.as_str() {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    throughput(&a, backend).await?;
    latency(&a, backend).await?;
    Ok(())
}
