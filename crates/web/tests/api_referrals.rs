//! Referrals through the API: recording, listing, reading and deciding; who may do each;
//! and that refusals write nothing.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, referral_body};
use axum::http::{Method, StatusCode};
use commands::Caller;
use commands::staff::StaffInput;
use serde_json::json;

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

app_test!(recording_a_referral, |app| async move {
    let api = Api::new(app);
    let (sw, pc, admin) = (app.token(&app.sw).await, app.token(&app.partner).await, app.token(&app.admin).await);
    let url = "/api/v1/referrals";

    // Every bad field is named, nested ones by their path.
    let mut bad = referral_body(app.team.0);
    bad["children"][0]["nhs_number"] = json!("943 476 5918");
    bad["categories"] = json!([]);
    let p = api.refused(Method::POST, url, Some(&pc), Some(bad), UNPROCESSABLE, Some("children[0].nhs_number")).await;
    let fields: Vec<_> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["categories", "children[0].nhs_number"]);
    let mut bad = referral_body(app.team.0);
    bad["team"] = json!("abc");
    let p = api.refused(Method::POST, url, Some(&pc), Some(bad), UNPROCESSABLE, Some("team")).await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("invalid type"), "{p}");
    let mut bad = referral_body(app.team.0);
    bad["team"] = json!(999);
    api.refused(Method::POST, url, Some(&pc), Some(bad), UNPROCESSABLE, Some("team")).await;
    let mut bad = referral_body(app.team.0);
    bad["children"] = json!([{"person_id": 999}]);
    api.refused(Method::POST, url, Some(&pc), Some(bad), UNPROCESSABLE, Some("children[0].person_id")).await;
    let mut bad = referral_body(app.team.0);
    bad["received_at"] = json!("2026-03-09T09:00:00Z");
    api.refused(Method::POST, url, Some(&pc), Some(bad), UNPROCESSABLE, Some("received_at")).await;
    api.refused(Method::POST, url, Some(&admin), Some(referral_body(app.team.0)), StatusCode::FORBIDDEN, None).await;

    let created = api.command_reply(Method::POST, url, &sw, referral_body(app.team.0), StatusCode::CREATED).await;
    let r = created.json();
    let location = created.headers.get("location").unwrap().to_str().unwrap();
    assert_eq!(location, format!("/api/v1/referrals/{}", r["id"]));
    assert_eq!(api.get_ok(location, &sw).await, r);
    assert_eq!(r["source"], "school");
    assert_eq!(r["categories"], json!(["physical"]));
    assert_eq!(r["received_at"], "2026-03-02T09:00:00Z");
    assert_eq!(r["team"], json!({"id": app.team.0, "name": "North"}));

    // A second referral about the same child names them by id.
    let child = r["children"][0]["id"].as_i64().unwrap();
    let mut again = referral_body(app.team.0);
    again["children"] = json!([{"person_id": child}]);
    again["source"] = json!("police");
    again["categories"] = json!(["neglect", "physical", "neglect"]);
    let second = api.command(Method::POST, url, &pc, again, StatusCode::CREATED).await;
    assert_eq!(second["children"], r["children"]);
    assert_eq!(second["categories"], json!(["physical", "neglect"]));
});

app_test!(who_sees_which_referrals, |app| async move {
    let api = Api::new(app);
    app.svc
        .add_staff(
            Caller::System("test"),
            &StaffInput {
                login: "school1".into(),
                name: "School Person".into(),
                role: "partner".into(),
                agency: Some("school".into()),
                password: support::PASSWORD.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let school = app.svc.sign_in("school1", support::PASSWORD).await.unwrap().actor;
    let (tm, pc, school, admin) = (
        app.token(&app.tm).await,
        app.token(&app.partner).await,
        app.token(&school).await,
        app.token(&app.admin).await,
    );

    let police_ref =
        api.command(Method::POST, "/api/v1/referrals", &pc, referral_body(app.team.0), StatusCode::CREATED).await;
    let school_ref =
        api.command(Method::POST, "/api/v1/referrals", &school, referral_body(app.team.0), StatusCode::CREATED).await;
    let (pid, sid) = (police_ref["id"].as_i64().unwrap(), school_ref["id"].as_i64().unwrap());

    // A partner sees their own; another partner's is "not found", not "forbidden".
    assert_eq!(api.get_ok(&format!("/api/v1/referrals/{pid}"), &pc).await["id"], pid);
    let p = api
        .refused(Method::GET, &format!("/api/v1/referrals/{sid}"), Some(&pc), None, StatusCode::NOT_FOUND, None)
        .await;
    let missing = api.refused(Method::GET, "/api/v1/referrals/999", Some(&pc), None, StatusCode::NOT_FOUND, None).await;
    assert_eq!(p["title"], missing["title"]);
    let ids =
        |v: serde_json::Value| v.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(api.get_ok("/api/v1/referrals", &pc).await), [pid]);
    assert_eq!(ids(api.get_ok("/api/v1/referrals", &school).await), [sid]);
    // The manager sees both, newest first, and can filter.
    assert_eq!(ids(api.get_ok("/api/v1/referrals", &tm).await), [sid, pid]);
    assert_eq!(ids(api.get_ok("/api/v1/referrals?limit=1", &tm).await), [sid]);
    assert_eq!(
        ids(api.get_ok(&format!("/api/v1/referrals?team={}&undecided=true", app.team.0), &tm).await),
        [sid, pid]
    );
    let child = police_ref["children"][0]["id"].as_i64().unwrap();
    assert_eq!(ids(api.get_ok(&format!("/api/v1/referrals?child={child}"), &tm).await), [pid]);
    assert_eq!(ids(api.get_ok("/api/v1/referrals?team=42", &tm).await), Vec::<i64>::new());
    // Bad filters are named.
    api.refused(Method::GET, "/api/v1/referrals?team=abc", Some(&tm), None, UNPROCESSABLE, Some("team")).await;
    api.refused(Method::GET, "/api/v1/referrals?limit=0", Some(&tm), None, UNPROCESSABLE, Some("limit")).await;
    api.refused(Method::GET, "/api/v1/referrals?undecided=maybe", Some(&tm), None, UNPROCESSABLE, Some("undecided"))
        .await;
    api.refused(Method::GET, "/api/v1/referrals?team=1&team=2", Some(&tm), None, UNPROCESSABLE, Some("team")).await;
    // An administrator sees no referrals at all.
    api.refused(Method::GET, "/api/v1/referrals", Some(&admin), None, StatusCode::FORBIDDEN, None).await;
    api.refused(Method::GET, &format!("/api/v1/referrals/{pid}"), Some(&admin), None, StatusCode::FORBIDDEN, None)
        .await;
});

app_test!(deciding_a_referral, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc) = (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.partner).await);
    let r = api.command(Method::POST, "/api/v1/referrals", &pc, referral_body(app.team.0), StatusCode::CREATED).await;
    let url = format!("/api/v1/referrals/{}/decision", r["id"]);
    let assess = json!({"decision": "assessment", "reason": "injury needs assessing"});

    api.refused(Method::POST, &url, Some(&sw), Some(assess.clone()), StatusCode::FORBIDDEN, None).await;
    api.refused(Method::POST, &url, Some(&pc), Some(assess.clone()), StatusCode::FORBIDDEN, None).await;
    let p = api
        .refused(
            Method::POST,
            &url,
            Some(&tm),
            Some(json!({"decision": "maybe", "reason": ""})),
            UNPROCESSABLE,
            Some("decision"),
        )
        .await;
    assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == "reason"), "{p}");
    api.refused(
        Method::POST,
        "/api/v1/referrals/999/decision",
        Some(&tm),
        Some(assess.clone()),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    let made = api.command(Method::POST, &url, &tm, assess.clone(), StatusCode::OK).await;
    assert_eq!(made["opened"].as_array().unwrap().len(), 1);
    assert_eq!(made["referral"]["decided_by"]["id"], app.tm.staff.0);
    assert_eq!(made["referral"]["decision_reason"], "injury needs assessing");
    // Deciding twice is a conflict, and changes nothing.
    api.refused(Method::POST, &url, Some(&tm), Some(assess.clone()), StatusCode::CONFLICT, None).await;

    // A later referral about the same child joins the open case instead of opening another.
    let mut again = referral_body(app.team.0);
    again["children"] = json!([{"person_id": r["children"][0]["id"]}]);
    let r2 = api.command(Method::POST, "/api/v1/referrals", &pc, again, StatusCode::CREATED).await;
    let made2 = api
        .command(
            Method::POST,
            &format!("/api/v1/referrals/{}/decision", r2["id"]),
            &tm,
            json!({"decision": "strategy_discussion", "reason": "second injury"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(made2["opened"], json!([]));
    assert_eq!(made2["linked"], made["opened"]);
});
