//! The first slice end to end through the JSON API, every reply checked against the
//! OpenAPI document: a token, a referral about a new child, the decision, allocation
//! with workloads in view, a visit, and the child's record showing all of it.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, assert_chained, referral_body};
use axum::http::{Method, StatusCode};
use serde_json::json;

app_test!(referral_to_visit_through_the_api, |app| async move {
    let api = Api::new(app);

    // Tokens: signing in and issuing the token are both on the trail, chained.
    let mut tokens = vec![];
    for login in ["tm1", "sw1", "pc1"] {
        let (seq, hash) = store::query::audit_head(&app.store).await.unwrap();
        let r = api
            .call(
                Method::POST,
                "/api/v1/auth/token",
                None,
                Some(json!({"login": login, "password": support::PASSWORD, "name": "story"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_chained(app, seq, &hash, 2).await;
        tokens.push(r.json()["token"].as_str().unwrap().to_string());
    }
    let [tm, sw, pc] = [&tokens[0], &tokens[1], &tokens[2]];
    assert_eq!(api.get_ok("/api/v1/me", tm).await["login"], "tm1");
    assert_eq!(api.get_ok("/api/v1/me", pc).await["agency"], "police");

    // The police refer a child nobody has recorded yet.
    let referral =
        api.command(Method::POST, "/api/v1/referrals", pc, referral_body(app.team.0), StatusCode::CREATED).await;
    let rid = referral["id"].as_i64().unwrap();
    assert_eq!(referral["decision"], serde_json::Value::Null);
    assert_eq!(referral["recorded_by"]["id"], app.partner.staff.0);
    assert_eq!(referral["children"][0]["name"], "Alfie Scott");
    let child = referral["children"][0]["id"].as_i64().unwrap();
    let listed = api.get_ok("/api/v1/referrals?undecided=true", tm).await;
    assert!(listed.as_array().unwrap().iter().any(|r| r["id"] == rid));

    // The team manager decides: an assessment opens a case.
    app.clock.set("2026-03-02T11:00:00Z".parse().unwrap());
    let decided = api
        .command(
            Method::POST,
            &format!("/api/v1/referrals/{rid}/decision"),
            tm,
            json!({"decision": "assessment", "reason": "injury needs assessing"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(decided["referral"]["decision"], "assessment");
    assert_eq!(decided["linked"], json!([]));
    let case = decided["opened"][0].as_i64().unwrap();
    let unallocated = api.get_ok("/api/v1/cases?unallocated=true", tm).await;
    assert!(unallocated.as_array().unwrap().iter().any(|c| c["id"] == case));

    // Allocation with workloads in view.
    let candidates = api.get_ok(&format!("/api/v1/cases/{case}/allocation-candidates"), tm).await;
    assert_eq!(candidates["case"]["id"], case);
    let workers = candidates["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2, "the team's two social workers: {workers:?}");
    assert!(workers.iter().all(|w| w["open_cases"] == 0));
    let allocated = api
        .command(
            Method::POST,
            &format!("/api/v1/cases/{case}/allocation"),
            tm,
            json!({"worker": app.sw.staff.0}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(allocated["worker"]["id"], app.sw.staff.0);
    let candidates = api.get_ok(&format!("/api/v1/cases/{case}/allocation-candidates"), tm).await;
    let sw1 = candidates["workers"].as_array().unwrap().iter().find(|w| w["id"] == app.sw.staff.0).cloned().unwrap();
    assert_eq!(sw1["open_cases"], 1);

    // The worker visits and sees the child alone.
    app.clock.set("2026-03-04T16:00:00Z".parse().unwrap());
    let visit = api
        .command(
            Method::POST,
            &format!("/api/v1/cases/{case}/visits"),
            sw,
            json!({"visited_at": "2026-03-04T15:00", "outcome": "seen_alone", "note": "seen in her room"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(visit["visited_at"], "2026-03-04T15:00:00Z", "a local time is read as London (GMT in March)");
    assert_eq!(visit["by"]["id"], app.sw.staff.0);
    let note = api
        .command(
            Method::POST,
            &format!("/api/v1/cases/{case}/notes"),
            sw,
            json!({"text": "spoke to the school"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(note["case"], case);
    let caseload = api.get_ok("/api/v1/my/caseload", sw).await;
    assert_eq!(caseload.as_array().unwrap().len(), 1);
    assert_eq!(caseload[0]["last_seen_alone_at"], "2026-03-04T15:00:00Z");

    // The child's record shows it all.
    let record = api.get_ok(&format!("/api/v1/people/{child}"), sw).await;
    assert_eq!(record["person"]["given_name"], "Alfie");
    assert_eq!(record["person"]["nhs_number"], "9434765919");
    assert_eq!(record["person"]["dob"], json!({"precision": "known", "date": "2014-01-01"}));
    assert_eq!(record["referrals"][0]["id"], rid);
    assert_eq!(record["referrals"][0]["decision"], "assessment");
    assert_eq!(record["referrals"][0]["decided_by"]["id"], app.tm.staff.0);
    assert_eq!(record["cases"][0]["id"], case);
    assert_eq!(record["cases"][0]["worker"]["id"], app.sw.staff.0);
    assert_eq!(record["stages"][0]["stage"], "assessment");
    assert_eq!(record["allocations"][0]["worker"]["id"], app.sw.staff.0);
    assert_eq!(record["allocations"][0]["allocated_by"]["id"], app.tm.staff.0);
    assert_eq!(record["visits"][0]["outcome"], "seen_alone");
    assert_eq!(record["visits"][0]["note"], "seen in her room");
    assert_eq!(record["notes"][0]["body"], "spoke to the school");

    // The police see what happened to their referral.
    let theirs = api.get_ok(&format!("/api/v1/referrals/{rid}"), pc).await;
    assert_eq!(theirs["decision"], "assessment");

    let n = i64::try_from(store::trail::verify_entries(&app.store).await.unwrap().unwrap().entries).unwrap();
    assert_eq!(n, app.audit_len().await);
});
