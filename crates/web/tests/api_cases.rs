//! Cases through the API: listing, allocation, visits, notes and closure; who may do
//! each; and that refusals write nothing.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, referral_body};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// A referral decided for assessment: the case it opened.
async fn open_case(api: &Api<'_>, tm: &str) -> i64 {
    let r =
        api.command(Method::POST, "/api/v1/referrals", tm, referral_body(api.app.team.0), StatusCode::CREATED).await;
    let made = api
        .command(
            Method::POST,
            &format!("/api/v1/referrals/{}/decision", r["id"]),
            tm,
            json!({"decision": "assessment", "reason": "assess"}),
            StatusCode::OK,
        )
        .await;
    made["opened"][0].as_i64().unwrap()
}

fn ids(v: Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

app_test!(listing_and_reading_cases, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );
    let (a, b) = (open_case(&api, &tm).await, open_case(&api, &tm).await);
    api.command(
        Method::POST,
        &format!("/api/v1/cases/{a}/allocation"),
        &tm,
        json!({"worker": app.sw.staff.0}),
        StatusCode::OK,
    )
    .await;

    assert_eq!(ids(api.get_ok("/api/v1/cases", &sw).await).len(), 2);
    assert_eq!(ids(api.get_ok("/api/v1/cases?unallocated=true", &tm).await), [b]);
    assert_eq!(ids(api.get_ok(&format!("/api/v1/cases?worker={}", app.sw.staff.0), &tm).await), [a]);
    assert_eq!(ids(api.get_ok(&format!("/api/v1/cases?team={}&open=true&limit=5", app.team.0), &tm).await).len(), 2);
    let case = api.get_ok(&format!("/api/v1/cases/{a}"), &sw).await;
    assert_eq!(ids(api.get_ok(&format!("/api/v1/cases?child={}", case["child"]["id"]), &tm).await), [a]);
    assert_eq!(case["stage"], "assessment");
    assert_eq!(case["worker"]["id"], app.sw.staff.0);
    assert_eq!(case["child_dob"], json!({"precision": "known", "date": "2014-01-01"}));
    assert_eq!(ids(api.get_ok("/api/v1/my/caseload", &sw).await), [a]);
    assert_eq!(ids(api.get_ok("/api/v1/my/caseload", &tm).await), Vec::<i64>::new());

    for bad in ["open=yes", "open=", "worker=abc", "child=0", "unallocated=1", "limit=1001", "sort=age"] {
        let field = bad.split('=').next().unwrap();
        api.refused(Method::GET, &format!("/api/v1/cases?{bad}"), Some(&tm), None, UNPROCESSABLE, Some(field)).await;
    }
    // Partners and administrators see no cases.
    for token in [&pc, &admin] {
        api.refused(Method::GET, "/api/v1/cases", Some(token), None, StatusCode::FORBIDDEN, None).await;
        api.refused(Method::GET, &format!("/api/v1/cases/{a}"), Some(token), None, StatusCode::FORBIDDEN, None).await;
        api.refused(Method::GET, "/api/v1/my/caseload", Some(token), None, StatusCode::FORBIDDEN, None).await;
    }
    api.refused(Method::GET, "/api/v1/cases/999", Some(&sw), None, StatusCode::NOT_FOUND, None).await;
});

app_test!(allocating_a_case, |app| async move {
    let api = Api::new(app);
    let (tm, sw) = (app.token(&app.tm).await, app.token(&app.sw).await);
    let case = open_case(&api, &tm).await;
    let url = format!("/api/v1/cases/{case}/allocation");

    api.refused(
        Method::GET,
        &format!("/api/v1/cases/{case}/allocation-candidates"),
        Some(&sw),
        None,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    api.refused(Method::GET, "/api/v1/cases/999/allocation-candidates", Some(&tm), None, StatusCode::NOT_FOUND, None)
        .await;
    api.refused(Method::POST, &url, Some(&sw), Some(json!({"worker": app.sw.staff.0})), StatusCode::FORBIDDEN, None)
        .await;
    api.refused(Method::POST, &url, Some(&tm), Some(json!({})), UNPROCESSABLE, Some("worker")).await;
    api.refused(Method::POST, &url, Some(&tm), Some(json!({"worker": "sw1"})), UNPROCESSABLE, Some("worker")).await;
    api.refused(Method::POST, &url, Some(&tm), Some(json!({"worker": 999})), UNPROCESSABLE, Some("worker")).await;
    api.refused(
        Method::POST,
        "/api/v1/cases/999/allocation",
        Some(&tm),
        Some(json!({"worker": app.sw.staff.0})),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    let candidates = api.get_ok(&format!("/api/v1/cases/{case}/allocation-candidates"), &tm).await;
    let names: Vec<_> = candidates["workers"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["SW1 Person", "SW2 Person"]);
    let allocated = api.command(Method::POST, &url, &tm, json!({"worker": app.sw.staff.0}), StatusCode::OK).await;
    assert_eq!(allocated["worker"]["id"], app.sw.staff.0);
    assert_eq!(allocated["allocated_at"], "2026-03-02T09:00:00Z");
    // The lightest worker comes first now.
    let candidates = api.get_ok(&format!("/api/v1/cases/{case}/allocation-candidates"), &tm).await;
    assert_eq!(candidates["workers"][0]["id"], app.sw2.staff.0);
    // Reallocation is recorded too.
    let moved = api.command(Method::POST, &url, &tm, json!({"worker": app.sw2.staff.0}), StatusCode::OK).await;
    assert_eq!(moved["worker"]["id"], app.sw2.staff.0);
});

app_test!(visits_notes_and_closure, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sw2, pc) =
        (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.sw2).await, app.token(&app.partner).await);
    let case = open_case(&api, &tm).await;
    api.command(
        Method::POST,
        &format!("/api/v1/cases/{case}/allocation"),
        &tm,
        json!({"worker": app.sw.staff.0}),
        StatusCode::OK,
    )
    .await;

    app.clock.set("2026-03-02T11:00:00Z".parse().unwrap());
    let visits = format!("/api/v1/cases/{case}/visits");
    let seen = json!({"outcome": "seen", "visited_at": "2026-03-02T10:30:00Z"});
    let too_early = json!({"outcome": "seen", "visited_at": "2026-03-02T08:30:00Z"});
    api.refused(Method::POST, &visits, Some(&sw), Some(too_early), UNPROCESSABLE, Some("visited_at")).await;
    api.refused(Method::POST, &visits, Some(&sw), Some(json!({"outcome": "maybe"})), UNPROCESSABLE, Some("outcome"))
        .await;
    api.refused(
        Method::POST,
        &visits,
        Some(&sw),
        Some(json!({"outcome": "seen", "visited_at": "yesterday"})),
        UNPROCESSABLE,
        Some("visited_at"),
    )
    .await;
    api.refused(Method::POST, &visits, Some(&sw), Some(json!({"outcome": ["seen"]})), UNPROCESSABLE, Some("outcome"))
        .await;
    api.refused(Method::POST, &visits, Some(&sw2), Some(seen.clone()), StatusCode::FORBIDDEN, None).await;
    api.refused(Method::POST, &visits, Some(&pc), Some(seen.clone()), StatusCode::FORBIDDEN, None).await;
    api.refused(Method::POST, "/api/v1/cases/999/visits", Some(&sw), Some(seen.clone()), StatusCode::NOT_FOUND, None)
        .await;
    let visit = api.command(Method::POST, &visits, &sw, json!({"outcome": "no_access"}), StatusCode::CREATED).await;
    assert_eq!(visit["outcome"], "no_access");
    assert_eq!(visit["note"], Value::Null);
    assert_eq!(visit["visited_at"], "2026-03-02T11:00:00Z", "now, when left out");
    api.command(Method::POST, &visits, &sw, seen.clone(), StatusCode::CREATED).await;
    let c = api.get_ok(&format!("/api/v1/cases/{case}"), &sw).await;
    assert_eq!(c["last_seen_at"], "2026-03-02T10:30:00Z");
    assert_eq!(c["last_visit_at"], "2026-03-02T11:00:00Z");
    assert_eq!(c["last_seen_alone_at"], Value::Null);

    let notes = format!("/api/v1/cases/{case}/notes");
    api.refused(Method::POST, &notes, Some(&sw), Some(json!({"text": "  "})), UNPROCESSABLE, Some("text")).await;
    api.refused(Method::POST, &notes, Some(&pc), Some(json!({"text": "hello"})), StatusCode::FORBIDDEN, None).await;
    let note = api.command(Method::POST, &notes, &sw, json!({"text": "called the school"}), StatusCode::CREATED).await;
    assert_eq!(note["author"]["id"], app.sw.staff.0);

    let closure = format!("/api/v1/cases/{case}/closure");
    api.refused(Method::POST, &closure, Some(&sw), Some(json!({"reason": "moved away"})), StatusCode::FORBIDDEN, None)
        .await;
    api.refused(Method::POST, &closure, Some(&tm), Some(json!({"reason": ""})), UNPROCESSABLE, Some("reason")).await;
    let closed = api.command(Method::POST, &closure, &tm, json!({"reason": "family moved away"}), StatusCode::OK).await;
    assert_eq!(closed["stage"], "closed");
    assert_eq!(closed["closure_reason"], "family moved away");
    assert_eq!(closed["closed_at"], "2026-03-02T11:00:00Z");
    // A closed case takes nothing more.
    api.refused(Method::POST, &closure, Some(&tm), Some(json!({"reason": "again"})), StatusCode::CONFLICT, None).await;
    api.refused(Method::POST, &visits, Some(&sw), Some(seen), StatusCode::CONFLICT, None).await;
    assert_eq!(api.get_ok("/api/v1/my/caseload", &sw).await, json!([]));
});
