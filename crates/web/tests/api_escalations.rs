//! Escalations through the API: a child not seen climbs from the team manager to the
//! service manager with a welfare check to the police, is acknowledged and resolved by
//! hand, and shows on the child's record; who may see and act on escalations; and that
//! refusals write nothing. Every reply is checked against the OpenAPI document.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, cp_case, no_access};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

fn ids(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn history(record: &Value) -> Vec<&str> {
    record["history"].as_array().unwrap().iter().map(|h| h["what"].as_str().unwrap()).collect()
}

app_test!(a_child_not_seen_climbs_and_is_resolved, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sm, pc) =
        (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.sm).await, app.token(&app.partner).await);
    // Monday 2 March 09:00: a child on a child protection plan, allocated to sw1.
    let (case, child) = cp_case(&api, &tm).await;

    // Tuesday 10:00: no access. The team manager holds a level-1 `child_not_seen`.
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let raised = no_access(&api, &sw, case, child).await;
    let esc = raised["id"].as_i64().unwrap();
    let mine = api.get_ok("/api/v1/escalations", &tm).await;
    assert_eq!(ids(&mine), [esc]);
    let e = &mine[0];
    assert_eq!(e["trigger"], "child_not_seen");
    assert_eq!(e["level"], 1);
    assert_eq!(e["state"], "open");
    assert_eq!(e["assignee"]["id"], app.tm.staff.0);
    assert_eq!(e["subject"], json!({"kind": "child", "id": child}));
    assert_eq!(e["child"], child);
    assert_eq!(e["subject_label"], "Alfie Scott");
    assert_eq!(e["team"]["id"], app.team.0);
    assert_eq!(e["raised_at"], "2026-03-03T10:00:00Z");
    assert_eq!(e["welfare_check_requested"], false);
    assert_eq!(api.get_ok("/api/v1/escalations", &sm).await, json!([]), "not the service manager's yet");
    assert_eq!(api.get_ok("/api/v1/welfare-checks", &pc).await, json!([]));

    // 4 working hours later nobody has acknowledged it: the service manager holds it at
    // level 2, and the police are asked to check on the child.
    app.clock.set("2026-03-03T13:59:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    assert_eq!(ids(&api.get_ok("/api/v1/escalations", &tm).await), [esc]);
    app.clock.set("2026-03-03T14:00:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    assert_eq!(api.get_ok("/api/v1/escalations", &tm).await, json!([]));
    let theirs = api.get_ok("/api/v1/escalations", &sm).await;
    assert_eq!(ids(&theirs), [esc]);
    assert_eq!(theirs[0]["level"], 2);
    assert_eq!(theirs[0]["assignee"]["id"], app.sm.staff.0);
    assert_eq!(theirs[0]["level_reached_at"], "2026-03-03T14:00:00Z");
    assert_eq!(theirs[0]["welfare_check_requested"], true);
    // The team manager still sees it in the team's line.
    let team = api.get_ok(&format!("/api/v1/escalations?team={}", app.team.0), &tm).await;
    assert_eq!(ids(&team), [esc]);
    let checks = api.get_ok("/api/v1/welfare-checks", &pc).await;
    assert_eq!(checks.as_array().unwrap().len(), 1);
    assert_eq!(checks[0]["child"]["id"], child);
    assert_eq!(checks[0]["escalation"], esc);
    assert_eq!(checks[0]["team"], "North");
    assert_eq!(checks[0]["requested_at"], "2026-03-03T14:00:00Z");
    assert_eq!(checks[0]["visited_since"], false);
    assert_eq!(api.get_ok("/api/v1/welfare-checks", &sm).await, checks);

    // The whole history so far.
    let record = api.get_ok(&format!("/api/v1/escalations/{esc}"), &sw).await;
    assert_eq!(history(&record), ["raised", "climbed", "welfare_check_requested"]);
    assert_eq!(record["history"][1]["reason"], "unacknowledged");
    assert_eq!(record["history"][1]["level"], 2);
    assert_eq!(record["history"][2]["reason"], "police");

    // The service manager acknowledges, then resolves it with the action taken.
    app.clock.set("2026-03-03T14:20:00Z".parse().unwrap());
    let url = format!("/api/v1/escalations/{esc}");
    let acked = api
        .command(
            Method::POST,
            &format!("{url}/acknowledgement"),
            &sm,
            json!({"note": "asked the police to go today"}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(acked["escalation"]["state"], "acknowledged");
    let last = acked["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["what"], "acknowledged");
    assert_eq!(last["by"]["id"], app.sm.staff.0);
    assert_eq!(last["note"], "asked the police to go today");
    app.clock.set("2026-03-03T15:30:00Z".parse().unwrap());
    let resolved = api
        .command(
            Method::POST,
            &format!("{url}/resolution"),
            &sm,
            json!({"action": "police saw him at his aunt's; visit booked for tomorrow"}),
            StatusCode::OK,
        )
        .await;
    let r = &resolved["escalation"];
    assert_eq!(r["state"], "resolved");
    assert_eq!(r["resolution"], "manual");
    assert_eq!(r["action"], "police saw him at his aunt's; visit booked for tomorrow");
    assert_eq!(r["resolved_at"], "2026-03-03T15:30:00Z");
    assert_eq!(api.get_ok("/api/v1/escalations", &sm).await, json!([]));
    let url_team = format!("/api/v1/escalations?team={}", app.team.0);
    assert_eq!(api.get_ok(&url_team, &tm).await, json!([]));
    let all = api.get_ok(&format!("{url_team}&include_resolved=true"), &tm).await;
    assert_eq!(ids(&all), [esc]);
    assert_eq!(all[0]["state"], "resolved");

    // The child's record shows it resolved, with the whole history.
    let on_record = api.get_ok(&format!("/api/v1/people/{child}/escalations"), &sw).await;
    assert_eq!(on_record.as_array().unwrap().len(), 1);
    assert_eq!(on_record[0]["escalation"]["id"], esc);
    assert_eq!(on_record[0]["escalation"]["state"], "resolved");
    assert_eq!(history(&on_record[0]), ["raised", "climbed", "welfare_check_requested", "acknowledged", "resolved"]);
    let done = on_record[0]["history"][4].clone();
    assert_eq!(done["by"]["id"], app.sm.staff.0);
    assert_eq!(done["reason"], "manual");

    // The next visit is still due: 10 working days from the plan's start.
    let due = api.get_ok(&format!("/api/v1/people/{child}/due"), &sw).await;
    let visit: Vec<&Value> = due.as_array().unwrap().iter().filter(|d| d["kind"] == "visit_due").collect();
    assert_eq!(visit.len(), 1, "{due:#}");
    assert_eq!(visit[0]["due_at"], "2026-03-16T09:00:00Z");
    assert_eq!(visit[0]["overdue"], false);
    assert_eq!(visit[0]["child"]["id"], child);
    let my_due = api.get_ok("/api/v1/my/due", &sw).await;
    assert!(my_due.as_array().unwrap().contains(visit[0]), "{my_due:#}");

    // Everyone it passed through was told; the worker was told too.
    for (token, who) in [(&tm, "tm1"), (&sm, "sm1"), (&sw, "sw1")] {
        let inbox = api.get_ok("/api/v1/my/inbox", token).await;
        assert!(inbox.as_array().unwrap().iter().any(|n| n["escalation"] == esc), "{who} was not told: {inbox:#}");
    }
    let worker = api.get_ok("/api/v1/my/inbox", &sw).await;
    assert!(worker.as_array().unwrap().len() >= 2, "raise and climb: {worker:#}");

    let n = i64::try_from(store::trail::verify_entries(&app.store).await.unwrap().unwrap().entries).unwrap();
    assert_eq!(n, app.audit_len().await);
});

app_test!(who_may_see_and_act_on_escalations, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sw2, sm, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.sw2).await,
        app.token(&app.sm).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );
    let (case, child) = cp_case(&api, &tm).await;
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let esc = no_access(&api, &sw, case, child).await["id"].as_i64().unwrap();
    let url = format!("/api/v1/escalations/{esc}");
    let forbidden = StatusCode::FORBIDDEN;

    // Administrators and partner agencies see no escalations, deadlines or flags.
    for token in [&admin, &pc] {
        for path in [
            "/api/v1/escalations".to_string(),
            url.clone(),
            format!("/api/v1/people/{child}/escalations"),
            format!("/api/v1/people/{child}/flags"),
            format!("/api/v1/people/{child}/due"),
            "/api/v1/my/due".to_string(),
        ] {
            api.refused(Method::GET, &path, Some(token), None, forbidden, None).await;
        }
    }
    // Only managers see a team's line; only the police and managers the welfare checks.
    let team = format!("/api/v1/escalations?team={}", app.team.0);
    api.refused(Method::GET, &team, Some(&sw), None, forbidden, None).await;
    for token in [&sw, &admin] {
        api.refused(Method::GET, "/api/v1/welfare-checks", Some(token), None, forbidden, None).await;
    }
    // Anyone has an inbox, even if it is empty.
    assert_eq!(api.get_ok("/api/v1/my/inbox", &admin).await, json!([]));

    // Bad filters are named.
    for (query, field) in [
        ("include_resolved=true", "include_resolved"),
        ("team=abc&include_resolved=true", "team"),
        ("team=1&include_resolved=yes", "include_resolved"),
        ("team=0", "team"),
        ("level=2", "level"),
    ] {
        api.refused(Method::GET, &format!("/api/v1/escalations?{query}"), Some(&tm), None, UNPROCESSABLE, Some(field))
            .await;
    }
    for path in [
        "/api/v1/escalations/999",
        "/api/v1/people/999/escalations",
        "/api/v1/people/999/flags",
        "/api/v1/people/999/due",
    ] {
        api.refused(Method::GET, path, Some(&sw), None, StatusCode::NOT_FOUND, None).await;
    }
    api.refused(
        Method::POST,
        "/api/v1/escalations/999/acknowledgement",
        Some(&tm),
        Some(json!({})),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    // At level 1: a worker who does not hold it, a partner and an administrator may not
    // act on it.
    let ack = format!("{url}/acknowledgement");
    let resolve = format!("{url}/resolution");
    for token in [&sw, &sw2, &pc, &admin] {
        api.refused(Method::POST, &ack, Some(token), Some(json!({})), forbidden, None).await;
        api.refused(Method::POST, &resolve, Some(token), Some(json!({"action": "done"})), forbidden, None).await;
    }
    // Bad bodies are named.
    for (body, field) in [(json!({"note": "x".repeat(4001)}), "note"), (json!({"note": 5}), "note")] {
        api.refused(Method::POST, &ack, Some(&tm), Some(body), UNPROCESSABLE, Some(field)).await;
    }
    for body in [json!({}), json!({"action": "   "}), json!({"action": ["a"]})] {
        api.refused(Method::POST, &resolve, Some(&tm), Some(body), UNPROCESSABLE, Some("action")).await;
    }

    // At level 2 the team manager is below it; the service manager, above, may act.
    app.clock.set("2026-03-03T14:00:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    app.clock.set("2026-03-03T14:10:00Z".parse().unwrap());
    api.refused(Method::POST, &ack, Some(&tm), Some(json!({})), forbidden, None).await;
    api.refused(Method::POST, &resolve, Some(&tm), Some(json!({"action": "done"})), forbidden, None).await;
    let acked = api.command(Method::POST, &ack, &sm, json!({}), StatusCode::OK).await;
    assert_eq!(acked["escalation"]["state"], "acknowledged");
    assert_eq!(acked["history"].as_array().unwrap().last().unwrap()["note"], Value::Null);

    // Acknowledging twice is a conflict; so is acting on a resolved escalation.
    let p = api.refused(Method::POST, &ack, Some(&sm), Some(json!({})), StatusCode::CONFLICT, Some("escalation")).await;
    assert!(p["detail"].as_str().unwrap().contains("already acknowledged"), "{p}");
    api.command(Method::POST, &resolve, &sm, json!({"action": "seen by the police"}), StatusCode::OK).await;
    for (path, body) in [(&resolve, json!({"action": "again"})), (&ack, json!({"note": "late"}))] {
        api.refused(Method::POST, path, Some(&sm), Some(body), StatusCode::CONFLICT, Some("escalation")).await;
    }
});

app_test!(the_police_asked_to_check_get_back_the_visit_they_record, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc) = (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.partner).await);
    let (case, child) = cp_case(&api, &tm).await;
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    no_access(&api, &sw, case, child).await;
    // Unacknowledged for 4 working hours: the police are asked to check on the child.
    app.clock.set("2026-03-03T14:00:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    assert_eq!(api.get_ok("/api/v1/welfare-checks", &pc).await.as_array().unwrap().len(), 1);

    // They record their visit on the case and are answered with it, though the record
    // itself stays closed to them.
    let visits = format!("/api/v1/cases/{case}/visits");
    let seen = json!({"outcome": "seen", "note": "seen at his aunt's"});
    let visit = api.command(Method::POST, &visits, &pc, seen, StatusCode::CREATED).await;
    assert_eq!(visit["case"], case);
    assert_eq!(visit["by"]["id"], app.partner.staff.0);
    assert_eq!(visit["note"], "seen at his aunt's");
    let forbidden = StatusCode::FORBIDDEN;
    api.refused(Method::GET, &format!("/api/v1/cases/{case}"), Some(&pc), None, forbidden, None).await;
    api.refused(Method::GET, &format!("/api/v1/people/{child}"), Some(&pc), None, forbidden, None).await;
});
