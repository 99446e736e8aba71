//! Operations: `/ready` answers load balancers without sign-in; `/metrics` gives
//! administrators (and no one else) the sweeper's backlog, open escalations by level,
//! the trail's length and request latencies by route pattern, in Prometheus' format.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, referral_body};
use axum::http::{Method, StatusCode, header};

/// The value of an unlabelled (or fully labelled) series in a metrics page.
fn value(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {series} in\n{page}"))
        .parse()
        .unwrap()
}

app_test!(ready_and_metrics, |app| async move {
    let api = Api::new(app);
    // Ready without signing in (a load balancer has no account), and it writes nothing.
    let before = app.audit_len().await;
    let ready = app.api(Method::GET, "/ready", None, None).await;
    assert_eq!((ready.status, ready.body.as_str()), (StatusCode::OK, "ready"));

    // Metrics: administrators only.
    let (tm, sw, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );
    assert_eq!(app.api(Method::GET, "/metrics", None, None).await.status, StatusCode::UNAUTHORIZED);
    for who in [&tm, &sw, &pc] {
        assert_eq!(app.api(Method::GET, "/metrics", Some(who), None).await.status, StatusCode::FORBIDDEN);
    }
    let page = app.api(Method::GET, "/metrics", Some(&admin), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert_eq!(value(&page.body, "safeguard_timers_due"), 0.0);
    assert_eq!(value(&page.body, "safeguard_escalations_open{level=\"1\"}"), 0.0);
    assert_eq!(app.audit_len().await, before + 4, "only the four tokens went on the trail");
    assert_eq!(value(&page.body, "safeguard_audit_entries"), (before + 4) as f64);

    // A referral nobody decides: once its day is up the timer is due (the backlog), and
    // once swept it is an open level-1 escalation.
    let r = api.command(Method::POST, "/api/v1/referrals", &tm, referral_body(app.team.0), StatusCode::CREATED).await;
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let page = app.api(Method::GET, "/metrics", Some(&admin), None).await.body;
    assert_eq!(value(&page, "safeguard_timers_due"), 1.0);
    assert_eq!(value(&page, "safeguard_timers_oldest_due_age_seconds"), 3600.0, "due at 09:00, read at 10:00");
    app.svc.sweep().await.unwrap();
    let page = app.api(Method::GET, "/metrics", Some(&admin), None).await.body;
    assert_eq!(value(&page, "safeguard_timers_due"), 0.0);
    assert_eq!(value(&page, "safeguard_escalations_open{level=\"1\"}"), 1.0);
    assert_eq!(value(&page, "safeguard_escalations_open{level=\"2\"}"), 0.0);

    // Latencies are labelled by route pattern, never by a record's id.
    let id = r["id"].as_i64().unwrap();
    api.get_ok(&format!("/api/v1/referrals/{id}"), &tm).await;
    let page = app.api(Method::GET, "/metrics", Some(&admin), None).await.body;
    assert!(
        page.contains(r#"safeguard_http_request_duration_seconds_count{method="GET",route="/api/v1/referrals/{id}",status="2xx"} 1"#),
        "{page}"
    );
    assert!(page.contains(r#"route="/metrics",status="4xx""#), "refusals are timed too:\n{page}");
    assert!(!page.contains(&format!("/api/v1/referrals/{id}\"")), "no concrete ids as labels");
});

// A database that cannot take writes (its disk full: SQLite capped at a few pages more
// than it holds) refuses each write with 503 and Retry-After, never 500; `/ready` says so
// until space is freed, and then everything works again without a restart.
#[tokio::test]
async fn a_full_database_is_503_with_retry_after_and_not_ready_until_space_is_freed() {
    let app = support::TestApp::new(store::Backend::Sqlite).await.expect("sqlite");
    let tm = app.token(&app.tm).await;
    let pages = app.store.page_count().await.unwrap();
    app.store.limit_pages(Some(pages + 2)).await.unwrap();
    let mut refused = None;
    for _ in 0..500 {
        let r = app.api(Method::POST, "/api/v1/referrals", Some(&tm), Some(referral_body(app.team.0))).await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = refused.expect("the capped database filled up");
    assert_eq!(r.headers[header::RETRY_AFTER], "30");
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(r.json()["type"], "https://safeguard.invalid/problems/unavailable");
    let ready = app.api(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.body);

    app.store.limit_pages(None).await.unwrap();
    let ready = app.api(Method::GET, "/ready", None, None).await;
    assert_eq!((ready.status, ready.body.as_str()), (StatusCode::OK, "ready"));
    for _ in 0..6 {
        let r = app.api(Method::POST, "/api/v1/referrals", Some(&tm), Some(referral_body(app.team.0))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    app.teardown().await;
}
