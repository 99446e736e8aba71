//! Professional disagreements through the API: a partner disagrees with the decision on
//! their referral; it escalates in stages and the partner sees the stage it has reached.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, referral_body};
use axum::http::{Method, StatusCode};
use serde_json::json;

app_test!(a_partner_disagrees_and_sees_the_stage, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sm, pc) =
        (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.sm).await, app.token(&app.partner).await);
    // The police make a referral; the team manager decides no further action.
    let r = api.command(Method::POST, "/api/v1/referrals", &pc, referral_body(app.team.0), StatusCode::CREATED).await;
    let path = format!("/api/v1/referrals/{}/disagreements", r["id"]);
    let body = json!({"text": "We disagree with NFA: third domestic incident this month."});
    // Not decided yet: nothing to disagree with.
    api.refused(Method::POST, &path, Some(&pc), Some(body.clone()), StatusCode::CONFLICT, Some("referral")).await;
    api.command(
        Method::POST,
        &format!("/api/v1/referrals/{}/decision", r["id"]),
        &tm,
        json!({"decision": "nfa", "reason": "parents engaging"}),
        StatusCode::OK,
    )
    .await;
    // Only partners raise them, and only about their own referrals; the text is required.
    api.refused(Method::POST, &path, Some(&sw), Some(body.clone()), StatusCode::FORBIDDEN, None).await;
    api.refused(
        Method::POST,
        &path,
        Some(&pc),
        Some(json!({"text": " "})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("text"),
    )
    .await;
    let other =
        api.command(Method::POST, "/api/v1/referrals", &sw, referral_body(app.team.0), StatusCode::CREATED).await;
    api.command(
        Method::POST,
        &format!("/api/v1/referrals/{}/decision", other["id"]),
        &tm,
        json!({"decision": "nfa", "reason": "x"}),
        StatusCode::OK,
    )
    .await;
    api.refused(
        Method::POST,
        &format!("/api/v1/referrals/{}/disagreements", other["id"]),
        Some(&pc),
        Some(body.clone()),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    let d = api.command(Method::POST, &path, &pc, body, StatusCode::CREATED).await;
    assert_eq!(d["stage"], 1);
    assert_eq!(d["state"], "open");
    // The team manager has it waiting; the social worker may not list disagreements.
    let waiting = api.get_ok("/api/v1/escalations", &tm).await;
    assert!(waiting.as_array().unwrap().iter().any(|e| e["trigger"] == "professional_disagreement"));
    api.refused(Method::GET, "/api/v1/disagreements", Some(&sw), None, StatusCode::FORBIDDEN, None).await;

    // Nobody acknowledges within a working day: stage 2, the service manager.
    app.clock.set("2026-03-03T09:30:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    let mine = api.get_ok("/api/v1/disagreements", &pc).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["stage"], 2);
    let held = api.get_ok("/api/v1/escalations", &sm).await;
    let esc = held.as_array().unwrap().iter().find(|e| e["trigger"] == "professional_disagreement").unwrap().clone();
    api.command(
        Method::POST,
        &format!("/api/v1/escalations/{}/resolution", esc["id"]),
        &sm,
        json!({"action": "Reviewed with the police: strategy discussion arranged."}),
        StatusCode::OK,
    )
    .await;
    let mine = api.get_ok("/api/v1/disagreements", &pc).await;
    assert_eq!(mine[0]["state"], "resolved");
    assert_eq!(mine[0]["response"], "Reviewed with the police: strategy discussion arranged.");
});
