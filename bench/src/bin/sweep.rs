#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sweep benchmark: a store with many open cases and scheduled timers, of which a block
//! falls due at once. Measures how long until every due timer has fired and its
//! escalation is committed, and what an idle sweeper tick costs.
//!
//! ```text
//! cargo run --release -p safeguard-bench --bin sweep -- --backend sqlite --cases 1000000 --timers 10000000 --due 100000
//! cargo run --release -p safeguard-bench --bin sweep -- --backend postgres --sweepers 2 ...
//! ```
//! The fixture is bulk-loaded with SQL (generate-series inserts): it stands for years of
//! commands, which would take hours to replay. Everything measured goes through the
//! real sweeper.

use anyhow::Context;
use clap::Parser;
use commands::{Config, Service};
use domain::clock::SimulatedClock;
use sqlx::{AssertSqlSafe, Executor, Row};
use std::sync::Arc;
use std::time::Instant;
use store::Backend;
use store::testing::TestStore;

#[derive(Debug, Parser)]
struct Args {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Open cases (one child and one referral each).
    #[arg(long, default_value_t = 1_000_000)]
    cases: i64,
    /// Scheduled timers in all.
    #[arg(long, default_value_t = 10_000_000)]
    timers: i64,
    /// Of which this many fall due at once (undecided referrals).
    #[arg(long, default_value_t = 100_000)]
    due: i64,
    /// Sweepers working at once (PostgreSQL shares the work between them).
    #[arg(long, default_value_t = 1)]
    sweepers: usize,
    /// Idle ticks to time.
    #[arg(long, default_value_t = 2000)]
    idle_ticks: u32,
}

/// Base moment: all fixture times are relative to it (micros).
const T0: i64 = 1_772_442_000_000_000; // 2026-03-02T09:00:00Z

fn series(backend: Backend, n: i64, select: &str, insert: &str) -> String {
    match backend {
        Backend::Postgres => format!("{insert} SELECT {select} FROM generate_series(CAST(1 AS BIGINT), {n}) AS s(n)"),
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) {insert} SELECT {select} FROM s"
        ),
    }
}

async fn load(store: &store::Store, a: &Args) -> anyhow::Result<()> {
    let b = store.backend();
    let pool = store.pool();
    let started = Instant::now();
    let exec = |sql: String| async move { pool.execute(AssertSqlSafe(sql)).await.map(|_| ()) };
    exec(format!("INSERT INTO teams (id, name, team_manager_id, service_manager_id, head_of_service_id, created_at) VALUES (1, 'North', 1, 2, 3, {T0})")).await?;
    for (id, login, role) in [
        (1, "tm1", "team_manager"),
        (2, "sm1", "service_manager"),
        (3, "hos", "head_of_service"),
        (4, "dir", "director"),
        (5, "sw1", "social_worker"),
    ] {
        exec(format!("INSERT INTO staff (id, login, name, role, team_id, fte, active, created_at) VALUES ({id}, '{login}', '{login}', '{role}', 1, 1.0, 1, {T0})")).await?;
    }
    exec(series(
        b,
        a.cases,
        &format!("n, 'child', 'Child', 'Number' || n, NULL, 'unknown', 'unknown', {T0}"),
        "INSERT INTO people (id, kind, given_name, family_name, dob, dob_precision, sex, created_at)",
    ))
    .await?;
    // The first `due` referrals are undecided and due now; the rest were decided and opened a case.
    exec(series(
        b,
        a.cases,
        &format!("n, 1, 'police', 5, {T0} - n, 'concern', 'neglect', CASE WHEN n <= {due} THEN NULL ELSE 'assessment' END, CASE WHEN n <= {due} THEN NULL ELSE 'assess' END, CASE WHEN n <= {due} THEN NULL ELSE 1 END, CASE WHEN n <= {due} THEN NULL ELSE {T0} END", due = a.due),
        "INSERT INTO referrals (id, team_id, source, recorded_by, received_at, concern, categories, decision, decision_reason, decided_by, decided_at)",
    ))
    .await?;
    exec(series(b, a.cases, "n, n", "INSERT INTO referral_children (referral_id, person_id)")).await?;
    exec(series(
        b,
        a.cases,
        &format!("n, n, 1, n, 'cin', {T0}, 5, {T0}"),
        "INSERT INTO cases (id, person_id, team_id, referral_id, stage, opened_at, worker_id, plan_started_at)",
    ))
    .await?;
    // Due timers: referral decisions due at T0. The rest fall due over the next year.
    exec(series(
        b,
        a.due,
        &format!("'referral_decision_due', 'referral:' || n, {T0}, 0, 'scheduled', {T0}, {T0}"),
        "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at)",
    ))
    .await?;
    let rest = a.timers - a.due;
    let kinds = [
        "visit_due",
        "assessment_due",
        "review_conference_due",
        "flag_window",
        "escalation_ack",
        "escalation_resolve",
        "escalation_reminder",
        "icpc_due",
        "case_unallocated_due",
        "threshold_review_due",
    ];
    let per_kind = rest / kinds.len() as i64;
    for (i, kind) in kinds.iter().enumerate() {
        let n = if i == kinds.len() - 1 { rest - per_kind * (kinds.len() as i64 - 1) } else { per_kind };
        let subject = if kind.starts_with("escalation") {
            "'escalation:' || (n + 1000000000)"
        } else {
            "'person:' || (n % 1000000 + 1)"
        };
        // Spread over a year, all strictly after the due block; unique per (kind, subject).
        let subject = format!("{subject} || ':' || n");
        exec(series(
            b,
            n,
            &format!(
                "'{kind}', {subject}, {T0} + 3600000000 + (n * 3153600) % 31536000000000, 0, 'scheduled', {T0}, {T0}"
            ),
            "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at)",
        ))
        .await?;
    }
    // A service this size has a history: one escalation (with its history row and
    // notification) for every tenth decided referral, a tenth of them acknowledged and
    // still being worked on. Without it the planner would see empty escalation tables
    // and plan their lookups as such.
    let past = (a.cases - a.due) / 10;
    // (A recursive CTE counts from 1 even to 0.)
    if past > 0 {
        exec(series(
            b,
            past,
            &format!("n, 'referral_decision_overdue', 'referral:' || ({due} + n), 1, 1, 1, CASE WHEN n % 10 = 0 THEN 'acknowledged' ELSE 'resolved' END, 'past', {T0} - 86400000000, {T0} - 86400000000", due = a.due),
            "INSERT INTO escalations (id, trigger, subject, team_id, level, assignee_id, state, detail, raised_at, level_reached_at)",
        ))
        .await?;
        exec(series(
            b,
            past,
            &format!("n, {T0} - 86400000000, 'raised', 1, 1"),
            "INSERT INTO escalation_history (escalation_id, at, what, level, assignee_id)",
        ))
        .await?;
        exec(series(
            b,
            past,
            &format!("1, n, 'inbox', 'past', {T0} - 86400000000"),
            "INSERT INTO notifications (staff_id, escalation_id, channel, body, created_at)",
        ))
        .await?;
        exec(format!("INSERT INTO id_counters (kind, last_id) VALUES ('escalation', {past})")).await?;
        if b == Backend::Postgres {
            exec(format!("SELECT setval('escalation_ids', {past} + 1, false)")).await?;
        }
    }
    exec("ANALYZE".into()).await?;
    println!(
        "fixture: {} cases, {} timers ({} due) loaded in {:.1} s",
        a.cases,
        a.timers,
        a.due,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let backend: Backend = a.backend.parse().map_err(anyhow::Error::msg)?;
    let test = TestStore::new(backend).await.context("PostgreSQL is not reachable (TEST_DATABASE_URL)")?;
    load(&test.store, &a).await?;
    let t0 = jiff::Timestamp::from_microsecond(T0)?;
    let clock = Arc::new(SimulatedClock::new(t0.checked_sub(jiff::SignedDuration::from_mins(1))?));
    let svc = Service::new(test.store.clone(), clock.clone(), Config::default());

    // Idle: nothing due.
    let started = Instant::now();
    for _ in 0..a.idle_ticks {
        let s = svc.sweep().await?;
        assert_eq!(s.fired, 0);
    }
    let idle = started.elapsed().as_secs_f64() * 1000.0 / f64::from(a.idle_ticks);
    println!("idle tick (nothing due, {} timers scheduled): {idle:.3} ms", a.timers);

    // The block falls due: every sweeper starts at once.
    clock.set(t0);
    let started = Instant::now();
    let mut handles = vec![];
    for _ in 0..a.sweepers {
        let svc = if a.sweepers == 1 {
            svc.clone()
        } else {
            Service::new(test.reconnect().await, clock.clone(), Config::default())
        };
        handles.push(tokio::spawn(async move { svc.sweep().await }));
    }
    let mut fired = 0;
    for h in handles {
        fired += h.await??.fired;
    }
    let secs = started.elapsed().as_secs_f64();
    let escalations: i64 = test
        .store
        .pool()
        .fetch_one("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM escalations WHERE detail <> 'past'")
        .await?
        .try_get("n")?;
    println!(
        "fired {fired} due timers with {} sweeper(s) in {secs:.2} s ({:.0} timers/s); escalations committed: {escalations}",
        a.sweepers,
        fired as f64 / secs
    );
    anyhow::ensure!(escalations == a.due, "expected {} escalations, found {escalations}", a.due);
    test.teardown().await;
    Ok(())
}
