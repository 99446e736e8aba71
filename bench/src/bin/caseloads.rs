#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Caseload benchmark: a service of `--workers` case-holding workers in `--teams` teams
//! holding `--open` open cases (and as many closed in the last year, for the forecast);
//! times the caseload dashboard page for a team and for the whole service (HTML through
//! the real router, signed in as a manager), its JSON, and the allocation candidates.
//!
//! ```text
//! cargo run --release -p safeguard-bench --bin caseloads -- --backend postgres
//! ```

use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use commands::{Caller, Config, Service};
use domain::clock::SimulatedClock;
use domain::ids::CaseId;
use http_body_util::BodyExt;
use sqlx::{AssertSqlSafe, Executor};
use std::sync::Arc;
use std::time::Instant;
use store::Backend;
use store::testing::TestStore;
use tower::ServiceExt;

#[derive(Debug, Parser)]
struct Args {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Teams.
    #[arg(long, default_value_t = 20)]
    teams: i64,
    /// Case-holding workers (spread over the teams).
    #[arg(long, default_value_t = 200)]
    workers: i64,
    /// Open cases (spread over the workers, a few unallocated).
    #[arg(long, default_value_t = 20_000)]
    open: i64,
    /// Timed repetitions of each request.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    /// Count brothers and sisters held by one worker as this much each after the first
    /// (the policy's `sibling_extra`); by default every child counts in full.
    #[arg(long)]
    sibling_extra: Option<f64>,
}

const T0: i64 = 1_772_442_000_000_000; // 2026-03-02T09:00:00Z, micros
const DAY: i64 = 86_400_000_000;
const PASSWORD: &str = "bench correct horse battery";

fn series(backend: Backend, n: i64, select: &str, insert: &str) -> String {
    match backend {
        Backend::Postgres => format!("{insert} SELECT {select} FROM generate_series(CAST(1 AS BIGINT), {n}) AS s(n)"),
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) {insert} SELECT {select} FROM s"
        ),
    }
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.95), ms[ms.len() - 1])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let backend = if a.backend == "postgres" { Backend::Postgres } else { Backend::Sqlite };
    let test = TestStore::new(backend).await.context("PostgreSQL is not reachable (TEST_DATABASE_URL)")?;
    let store = test.store.clone();
    let clock = Arc::new(SimulatedClock::new(jiff::Timestamp::from_microsecond(T0)?));
    let svc = Service::new(store.clone(), clock, Config::default());
    let loading = Instant::now();
    // Teams and a team manager each (through the commands: the manager signs in), then
    // the bulk of the service by SQL.
    let mut managers = vec![];
    for t in 0..a.teams {
        let team =
            svc.create_team(Caller::System("bench"), &commands::staff::TeamInput { name: format!("Team {t}") }).await?;
        let input = commands::staff::StaffInput {
            login: format!("tm{t}"),
            name: format!("Manager {t}"),
            role: "team_manager".into(),
            team: Some(team.0),
            password: if t == 0 { PASSWORD.into() } else { String::new() },
            ..Default::default()
        };
        managers.push((team, svc.add_staff(Caller::System("bench"), &input).await?));
    }
    let pool = store.pool();
    let exec = |sql: String| async move { pool.execute(AssertSqlSafe(sql)).await.map(|_| ()) };
    let first_worker = 10_000;
    exec(series(
        backend,
        a.workers,
        &format!("{first_worker} + n, 'sw' || n, 'Worker ' || n, 'social_worker', 1 + (n % {}), CASE WHEN n % 5 = 0 THEN 0.6 ELSE 1.0 END, 1, {T0}", a.teams),
        "INSERT INTO staff (id, login, name, role, team_id, fte, active, created_at)",
    ))
    .await?;
    let people = a.open * 2;
    exec(series(
        backend,
        people,
        &format!("n, 'child', 'Child', 'Number' || n, NULL, 'unknown', 'unknown', {T0}"),
        "INSERT INTO people (id, kind, given_name, family_name, dob, dob_precision, sex, created_at)",
    ))
    .await?;
    exec(series(
        backend,
        people,
        &format!("n, 1 + (n % {}), 'police', 1, {T0} - (n % 700) * {DAY}, 'concern', 'neglect', 'assessment', 'assess', 1, {T0} - (n % 700) * {DAY}", a.teams),
        "INSERT INTO referrals (id, team_id, source, recorded_by, received_at, concern, categories, decision, decision_reason, decided_by, decided_at)",
    ))
    .await?;
    // The first `open` cases are open (1 in 200 unallocated, stages mixed); the rest
    // closed within the last year after 30–200 days.
    let workers = a.workers;
    exec(series(
        backend,
        a.open,
        &format!(
            "n, n, 1 + (n % {teams}), n, CASE n % 4 WHEN 0 THEN 'assessment' WHEN 1 THEN 'cin' WHEN 2 THEN 'cp' ELSE 'lac' END, {T0} - (n % 700) * {DAY}, CASE WHEN n % 200 = 0 THEN NULL ELSE {first_worker} + CASE WHEN n % {teams} = 0 THEN {teams} ELSE n % {teams} END + ((n / {teams}) % ({workers} / {teams})) * {teams} END, NULL",
            teams = a.teams
        ),
        "INSERT INTO cases (id, person_id, team_id, referral_id, stage, opened_at, worker_id, closed_at)",
    ))
    .await?;
    exec(series(
        backend,
        a.open,
        &format!(
            "{open} + n, {open} + n, 1 + (n % {teams}), {open} + n, 'closed', {T0} - (n % 300) * {DAY} - (30 + n % 170) * {DAY}, NULL, {T0} - (n % 300) * {DAY}",
            open = a.open,
            teams = a.teams
        ),
        "INSERT INTO cases (id, person_id, team_id, referral_id, stage, opened_at, worker_id, closed_at)",
    ))
    .await?;
    // Their deadlines: every referral's decision (1 in 10 late), every case's assessment,
    // and a visiting clock for each child on a plan (1 in 10 overdue now).
    exec(series(
        backend,
        people,
        &format!("'referral_decision_due', 'referral:' || n, {T0} - (n % 700) * {DAY} + {DAY}, 0, 'done', {T0}, {T0} - (n % 700) * {DAY} + CASE WHEN n % 10 = 0 THEN 2 ELSE 0 END * {DAY}"),
        "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at)",
    ))
    .await?;
    exec(series(
        backend,
        people,
        &format!("'assessment_due', 'person:' || n, {T0} - (n % 700) * {DAY} + 63 * {DAY}, 0, CASE WHEN n % 700 < 63 THEN 'scheduled' ELSE 'done' END, {T0}, {T0} - (n % 700) * {DAY} + CASE WHEN n % 7 = 0 THEN 70 ELSE 40 END * {DAY}"),
        "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at)",
    ))
    .await?;
    exec(series(
        backend,
        a.open,
        &format!("'visit_due', 'person:' || n, {T0} + (n % 14) * {DAY}, 0, CASE WHEN n % 10 = 0 THEN 'fired' ELSE 'scheduled' END, {T0}, {T0}"),
        "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at)",
    ))
    .await?;
    // Each open case's stage history (plans starting 20 days after the case opened) and
    // a year of visits to every open case, one every ten days (1 in 12 not seeing the
    // child): what visit timeliness is worked out from.
    exec(series(
        backend,
        a.open,
        &format!("n, CASE n % 4 WHEN 0 THEN 'assessment' WHEN 1 THEN 'cin' WHEN 2 THEN 'cp' ELSE 'lac' END, {T0} - (n % 700) * {DAY} + 20 * {DAY}"),
        "INSERT INTO case_stages (case_id, stage, started_at)",
    ))
    .await?;
    exec(series(
        backend,
        a.open * 36,
        &format!(
            "n, 1 + (n % {open}), 1 + (n % {open}), 1, {T0} - (n / {open}) * 10 * {DAY} - ((n % {open}) % 9) * {DAY}, CASE WHEN n % 12 = 0 THEN 'no_access' ELSE 'seen' END, {T0}",
            open = a.open
        ),
        "INSERT INTO visits (id, case_id, person_id, by_staff_id, visited_at, outcome, recorded_at)",
    ))
    .await?;
    // Families: a third of the open cases' children have a brother or sister recorded
    // (held by the same worker), and a parent for every fifth child has two more children,
    // one held by the same worker and one whose case is closed.
    exec(series(
        backend,
        a.open / 3,
        &format!("n, 3 * n, 3 * n + {workers}, 'sibling', {T0}"),
        "INSERT INTO relationships (id, person_id, related_person_id, kind, created_at)",
    ))
    .await?;
    exec(series(
        backend,
        a.open / 5,
        &format!("{people} + n, 'adult', 'Parent', 'Number' || n, NULL, 'unknown', 'unknown', {T0}"),
        "INSERT INTO people (id, kind, given_name, family_name, dob, dob_precision, sex, created_at)",
    ))
    .await?;
    for (k, child, kind) in [
        (1, "5 * n".to_string(), "parent"),
        (2, format!("5 * n + 2 * {workers}"), "parent"),
        (3, format!("5 * n + {}", a.open), "step_parent"),
    ] {
        exec(series(
            backend,
            a.open / 5,
            &format!("{k}000000 + n, {people} + n, {child}, '{kind}', {T0}"),
            "INSERT INTO relationships (id, person_id, related_person_id, kind, created_at)",
        ))
        .await?;
    }
    if let Some(extra) = a.sibling_extra {
        let policy =
            domain::escalation::Policy::from_json(&format!(r#"{{"caseload_weights": {{"sibling_extra": {extra}}}}}"#))?;
        svc.set_policy(Caller::System("bench"), &policy).await?;
    }
    if backend == Backend::Postgres {
        exec("ANALYZE".into()).await?;
    }
    println!(
        "fixture: {} teams, {} workers, {} open and {} closed cases, loaded in {:.1} s",
        a.teams,
        a.workers,
        a.open,
        a.open,
        loading.elapsed().as_secs_f64()
    );

    let session = svc.sign_in("tm0", PASSWORD).await?;
    let cookie = format!("{}={}", web::SESSION_COOKIE, session.token);
    let token = svc.issue_token(&session.actor, "bench").await?.1;
    let app = web::router(web::AppState { svc: svc.clone(), secure_cookies: false });
    let team0 = managers[0].0;
    let get = |path: String, auth: (header::HeaderName, String)| {
        let app = app.clone();
        async move {
            let req = Request::builder().uri(&path).header(auth.0, auth.1).body(Body::empty()).unwrap();
            let res = app.oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            res.into_body().collect().await.unwrap().to_bytes().len()
        }
    };
    let cases = [
        ("dashboard page, one team", format!("/caseloads?team={}", team0.0), true),
        ("dashboard page, whole service", "/caseloads".to_string(), true),
        ("dashboard JSON, whole service", "/api/v1/caseloads".to_string(), false),
    ];
    for (what, path, page) in cases {
        let auth =
            if page { (header::COOKIE, cookie.clone()) } else { (header::AUTHORIZATION, format!("Bearer {token}")) };
        let cold = Instant::now();
        let bytes = get(path.clone(), auth.clone()).await; // the first, before anything is reused
        let cold = cold.elapsed().as_secs_f64() * 1000.0;
        let mut ms = vec![];
        for _ in 0..a.runs {
            let t = Instant::now();
            get(path.clone(), auth.clone()).await;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (p50, p95, max) = percentiles(ms);
        println!(
            "{what:32} ({bytes:>7} bytes): first {cold:6.1} ms; then p50 {p50:6.1} ms, p95 {p95:6.1} ms, max {max:6.1} ms"
        );
    }
    let d = svc.caseload_dashboard(&session.actor, None).await?;
    println!(
        "service: {} workers, load {:.0} against {:.0}, {} over the cap, {:.1} FTE needed today; forecast {:.1} FTE",
        d.gap.workers, d.gap.load, d.gap.capacity, d.gap.workers_over_cap, d.gap.fte_needed, d.forecast.fte_needed
    );
    println!("timeliness: {:?}", d.timeliness);
    // Allocation candidates for an unallocated case in team 0's neighbourhood.
    let mut ms = vec![];
    for i in 0..a.runs {
        let case = CaseId(200 * (1 + i as i64 % (a.open / 200)));
        let t = Instant::now();
        let (_, workers) = svc.allocation_candidates(&session.actor, case).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!workers.is_empty());
    }
    let (p50, p95, max) = percentiles(ms);
    println!(
        "{:32}              : p50 {p50:6.1} ms, p95 {p95:6.1} ms, max {max:6.1} ms",
        "allocation candidates (ranked)"
    );
    test.teardown().await;
    Ok(())
}
