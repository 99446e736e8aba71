//! The statutory steps of a case through the API (plans, strategy discussions,
//! conferences, assessments), threshold decisions and new concerns: who may record
//! each, what each starts or stops, and that refusals write nothing.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, open_case};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The kinds of deadline outstanding for a child.
async fn due_kinds(api: &Api<'_>, child: i64, token: &str) -> Vec<String> {
    api.get_ok(&format!("/api/v1/people/{child}/due"), token)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect()
}

app_test!(plans_discussions_conferences_and_assessments, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sw2, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.sw2).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );
    let (case, child) = open_case(&api, &tm, "assessment").await;
    api.command(
        Method::POST,
        &format!("/api/v1/cases/{case}/allocation"),
        &tm,
        json!({"worker": app.sw.staff.0}),
        StatusCode::OK,
    )
    .await;
    let url = |step: &str| format!("/api/v1/cases/{case}/{step}");
    let forbidden = StatusCode::FORBIDDEN;

    // Only managers start plans, hold discussions and record conferences.
    for token in [&sw, &pc, &admin] {
        for (step, body) in [
            ("plan", json!({"plan": "cin"})),
            ("strategy-discussion", json!({"s47": true})),
            ("icpc", json!({})),
            ("review-conference", json!({})),
        ] {
            api.refused(Method::POST, &url(step), Some(token), Some(body), forbidden, None).await;
        }
    }
    // Bad input is named.
    for (body, field) in [
        (json!({}), "plan"),
        (json!({"plan": "foster"}), "plan"),
        (json!({"plan": "cp"}), "category"),
        (json!({"plan": "cp", "category": "bullying"}), "category"),
        (json!({"plan": "cin", "at": "next week"}), "at"),
        (json!({"plan": "cin", "at": "2026-03-09T09:00:00Z"}), "at"),
        (json!({"plan": 3}), "plan"),
    ] {
        api.refused(Method::POST, &url("plan"), Some(&tm), Some(body), UNPROCESSABLE, Some(field)).await;
    }
    api.refused(
        Method::POST,
        &url("strategy-discussion"),
        Some(&tm),
        Some(json!({"s47": "yes"})),
        UNPROCESSABLE,
        Some("s47"),
    )
    .await;
    for step in ["icpc", "review-conference", "assessment-completion"] {
        api.refused(Method::POST, &url(step), Some(&tm), Some(json!({"at": "yesterday"})), UNPROCESSABLE, Some("at"))
            .await;
    }
    api.refused(
        Method::POST,
        "/api/v1/cases/999/plan",
        Some(&tm),
        Some(json!({"plan": "cin"})),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    // A review conference is for a child on a child protection plan.
    api.refused(
        Method::POST,
        &url("review-conference"),
        Some(&tm),
        Some(json!({})),
        StatusCode::CONFLICT,
        Some("case"),
    )
    .await;

    // A strategy discussion starting a s47 enquiry starts the conference clock.
    assert!(!due_kinds(&api, child, &sw).await.contains(&"icpc_due".into()));
    app.clock.set("2026-03-02T10:00:00Z".parse().unwrap());
    let c = api
        .command(
            Method::POST,
            &url("strategy-discussion"),
            &tm,
            json!({"s47": true, "at": "2026-03-02T09:30"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(c["id"], case);
    let due = api.get_ok(&format!("/api/v1/people/{child}/due"), &sw).await;
    let icpc: Vec<&Value> = due.as_array().unwrap().iter().filter(|d| d["kind"] == "icpc_due").collect();
    assert_eq!(icpc.len(), 1, "{due:#}");
    assert_eq!(icpc[0]["due_at"], "2026-03-23T09:30:00Z", "15 working days from the discussion");

    // A child protection plan needs a category; starting it twice is a conflict.
    let c = api
        .command(Method::POST, &url("plan"), &tm, json!({"plan": "cp", "category": "physical"}), StatusCode::OK)
        .await;
    assert_eq!(c["stage"], "cp");
    assert!(due_kinds(&api, child, &sw).await.contains(&"visit_due".into()));
    api.refused(
        Method::POST,
        &url("plan"),
        Some(&tm),
        Some(json!({"plan": "cp", "category": "neglect"})),
        StatusCode::CONFLICT,
        Some("plan"),
    )
    .await;

    // The conference stops its clock; a review conference sets the next.
    api.command(Method::POST, &url("icpc"), &tm, json!({}), StatusCode::OK).await;
    let kinds = due_kinds(&api, child, &sw).await;
    assert!(!kinds.contains(&"icpc_due".into()), "{kinds:?}");
    assert!(kinds.contains(&"review_conference_due".into()), "{kinds:?}");
    api.command(Method::POST, &url("review-conference"), &tm, json!({"at": null}), StatusCode::OK).await;

    // The assessment: its worker (not another) completes it, once.
    assert!(due_kinds(&api, child, &sw).await.contains(&"assessment_due".into()));
    api.refused(Method::POST, &url("assessment-completion"), Some(&sw2), Some(json!({})), forbidden, None).await;
    api.command(Method::POST, &url("assessment-completion"), &sw, json!({}), StatusCode::OK).await;
    assert!(!due_kinds(&api, child, &sw).await.contains(&"assessment_due".into()));
    api.refused(
        Method::POST,
        &url("assessment-completion"),
        Some(&tm),
        Some(json!({})),
        StatusCode::CONFLICT,
        Some("case"),
    )
    .await;

    // The record shows the stages in order.
    let record = api.get_ok(&format!("/api/v1/people/{child}"), &sw).await;
    let stages: Vec<&str> = record["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["assessment", "cp"]);
    assert_eq!(record["stages"][1]["category"], "physical");

    // Nothing happens to a closed case.
    api.command(Method::POST, &url("closure"), &tm, json!({"reason": "family moved away"}), StatusCode::OK).await;
    for (step, body) in [("plan", json!({"plan": "cin"})), ("strategy-discussion", json!({})), ("icpc", json!({}))] {
        api.refused(Method::POST, &url(step), Some(&tm), Some(body), StatusCode::CONFLICT, None).await;
    }
});

app_test!(threshold_decisions_and_concerns, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );
    let (_, child) = open_case(&api, &tm, "assessment").await;
    let decisions = format!("/api/v1/people/{child}/threshold-decisions");
    let concerns = format!("/api/v1/people/{child}/concerns");
    let not_met = json!({
        "forum": "strategy_discussion", "outcome": "not_met", "reason": "parents engaging well",
        "cooperation_noted": true, "review_by": "2026-03-16"
    });

    // Only managers decide thresholds.
    for token in [&sw, &pc, &admin] {
        api.refused(Method::POST, &decisions, Some(token), Some(not_met.clone()), StatusCode::FORBIDDEN, None).await;
    }
    let with = |field: &str, value: Value| {
        let mut b = not_met.clone();
        b[field] = value;
        b
    };
    for (body, field) in [
        (with("forum", json!("case_conference")), "forum"),
        (with("outcome", json!("maybe")), "outcome"),
        (with("reason", json!(" ")), "reason"),
        (with("review_by", json!(null)), "review_by"),
        (with("review_by", json!("16/03/2026")), "review_by"),
        (with("review_by", json!("2026-03-01")), "review_by"),
        (with("cooperation_noted", json!("yes")), "cooperation_noted"),
    ] {
        api.refused(Method::POST, &decisions, Some(&tm), Some(body), UNPROCESSABLE, Some(field)).await;
    }
    api.refused(
        Method::POST,
        "/api/v1/people/999/threshold-decisions",
        Some(&tm),
        Some(not_met.clone()),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let d = api.command(Method::POST, &decisions, &tm, not_met.clone(), StatusCode::CREATED).await;
    assert!(d["id"].as_i64().unwrap() > 0);
    assert_eq!(d["child"], child);
    assert_eq!(d["forum"], "strategy_discussion");
    assert_eq!(d["outcome"], "not_met");
    assert_eq!(d["reason"], "parents engaging well");
    assert_eq!(d["cooperation_noted"], true);
    assert_eq!(d["review_by"], "2026-03-16");
    assert_eq!(d["by"]["id"], app.tm.staff.0);
    assert_eq!(d["decided_at"], "2026-03-02T09:00:00Z");
    assert!(due_kinds(&api, child, &sw).await.contains(&"threshold_review_due".into()));

    // Concerns: practice staff and partners record them; each bad field is named.
    for (body, field) in [
        (json!({"source": "school", "concern": "late again", "categories": []}), "categories"),
        (json!({"source": "school", "concern": "late again", "categories": ["lateness"]}), "categories"),
        (json!({"source": "carrier pigeon", "concern": "late again", "categories": ["neglect"]}), "source"),
        (json!({"source": "school", "concern": "", "categories": ["neglect"]}), "concern"),
        (
            json!({"source": "school", "concern": "late", "categories": ["neglect"], "received_at": "2026-03-09T09:00:00Z"}),
            "received_at",
        ),
    ] {
        api.refused(Method::POST, &concerns, Some(&pc), Some(body), UNPROCESSABLE, Some(field)).await;
    }
    let concern = json!({"source": "police", "concern": "shouting heard at the house", "categories": ["emotional"]});
    api.refused(Method::POST, &concerns, Some(&admin), Some(concern.clone()), StatusCode::FORBIDDEN, None).await;
    api.refused(
        Method::POST,
        "/api/v1/people/999/concerns",
        Some(&pc),
        Some(concern.clone()),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    app.clock.set("2026-03-03T11:00:00Z".parse().unwrap());
    let c = api.command(Method::POST, &concerns, &pc, concern.clone(), StatusCode::CREATED).await;
    assert_eq!(c["child"], child);
    assert_eq!(c["source"], "police");
    assert_eq!(c["concern"], "shouting heard at the house");
    assert_eq!(c["categories"], json!(["emotional"]));
    assert_eq!(c["by"]["id"], app.partner.staff.0);
    assert_eq!(c["received_at"], "2026-03-03T11:00:00Z");

    // A concern soon after "threshold not met" goes straight to the service manager,
    // with the decision in front of them.
    let esc = api.get_ok(&format!("/api/v1/people/{child}/escalations"), &sw).await;
    let after: Vec<&Value> = esc
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["escalation"])
        .filter(|e| e["trigger"] == "concern_after_threshold_not_met")
        .collect();
    assert_eq!(after.len(), 1, "{esc:#}");
    assert_eq!(after[0]["level"], 2);
    assert_eq!(after[0]["assignee"]["id"], app.sm.staff.0);

    // Referral and concerns add up: the referral and four concerns within 24 months
    // raise `cumulative_harm`, with the rule and the evidence.
    let flags = format!("/api/v1/people/{child}/flags");
    for _ in 0..2 {
        api.command(Method::POST, &concerns, &sw, concern.clone(), StatusCode::CREATED).await;
    }
    let now = api.get_ok(&flags, &sw).await;
    let raised: Vec<&str> = now.as_array().unwrap().iter().map(|f| f["flag"].as_str().unwrap()).collect();
    // Cooperation was a reason, and further concerns followed within six months.
    assert_eq!(raised, ["disguised_compliance"], "{now:#}");
    api.command(Method::POST, &concerns, &sw, concern.clone(), StatusCode::CREATED).await;
    let now = api.get_ok(&flags, &tm).await;
    let harm: Vec<&Value> = now.as_array().unwrap().iter().filter(|f| f["flag"] == "cumulative_harm").collect();
    assert_eq!(harm.len(), 1, "{now:#}");
    assert_eq!(harm[0]["label"], "Cumulative harm");
    assert_eq!(harm[0]["rule"], "5 or more concerns within 24mo, whatever each one's outcome.");
    assert_eq!(harm[0]["evidence"].as_array().unwrap().len(), 5);
    assert_eq!(harm[0]["raised_at"], "2026-03-03T11:00:00Z");
});
