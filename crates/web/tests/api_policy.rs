//! The escalation policy and absences through the API: reading and replacing the policy
//! (administrators only, every bad value named), marking people away, and that both
//! steer escalations.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, cp_case, no_access};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

app_test!(reading_and_replacing_the_policy, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sm, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.sm).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );

    // The built-in default, version 0, for everyone but partners.
    let v0 = api.get_ok("/api/v1/policy", &sw).await;
    assert_eq!(v0["version"], 0);
    let p = &v0["policy"];
    assert_eq!(p["top_level"], 3);
    assert_eq!(p["overload_threshold"], 10);
    assert_eq!(p["triggers"].as_object().unwrap().len(), 11);
    assert_eq!(
        p["triggers"]["child_not_seen"],
        json!({"start_level": 1, "ack_within": "4wh", "resolve_within": ["1wd"]})
    );
    assert_eq!(p["triggers"]["concern_after_threshold_not_met"]["start_level"], 2);
    assert_eq!(p["timescales"]["visit_cp"], "10wd");
    assert_eq!(p["flags"]["cumulative_harm_count"], 5);
    assert_eq!(api.get_ok("/api/v1/policy", &admin).await, v0);
    api.refused(Method::GET, "/api/v1/policy", Some(&pc), None, StatusCode::FORBIDDEN, None).await;

    // Only administrators change it.
    let change = json!({
        "overload_threshold": 3,
        "timescales": {"visit_cp": "5wd"},
        "triggers": {"child_not_seen": {"start_level": 1, "ack_within": "1wh", "resolve_within": ["4wh"]}}
    });
    for token in [&sw, &tm, &sm, &pc] {
        api.refused(Method::PUT, "/api/v1/policy", Some(token), Some(change.clone()), StatusCode::FORBIDDEN, None)
            .await;
    }

    // Every bad value is named by its place in the policy.
    let trigger = |body: Value| json!({"triggers": {"child_not_seen": body}});
    for (body, field) in [
        (
            trigger(json!({"start_level": 1, "ack_within": "4wh", "resolve_within": []})),
            "triggers.child_not_seen.resolve_within",
        ),
        (trigger(json!({"start_level": 1, "ack_within": "4wh"})), "triggers.child_not_seen.resolve_within"),
        (
            trigger(json!({"start_level": 1, "ack_within": "4 hours", "resolve_within": ["1wd"]})),
            "triggers.child_not_seen.ack_within",
        ),
        (
            trigger(json!({"start_level": 1, "ack_within": "4wh", "resolve_within": ["1wd", "1fortnight"]})),
            "triggers.child_not_seen.resolve_within[1]",
        ),
        (
            trigger(json!({"start_level": 4, "ack_within": "4wh", "resolve_within": ["1wd"]})),
            "triggers.child_not_seen.start_level",
        ),
        (
            trigger(json!({"start_level": 1, "ack_within": "4wh", "resolve_within": ["1wd"], "colour": "red"})),
            "triggers.child_not_seen.colour",
        ),
        (json!({"top_level": 7}), "top_level"),
        (json!({"top_level": 300}), "top_level"),
        (json!({"repeat_every": "3 days"}), "repeat_every"),
        (json!({"repeat_every": "0wd"}), "repeat_every"),
        (json!({"overload_threshold": 0}), "overload_threshold"),
        (json!({"overload_threshold": -1}), "overload_threshold"),
        (json!({"cap_per_fte": 0}), "cap_per_fte"),
        (json!({"over_cap_start_higher_at": 0.5}), "over_cap_start_higher_at"),
        (json!({"timescales": {"visit_cp": "ten"}}), "timescales.visit_cp"),
        (json!({"timescales": {"visit_fortnightly": "2w"}}), "timescales.visit_fortnightly"),
        (json!({"flags": {"cumulative_harm_count": "five"}}), "flags.cumulative_harm_count"),
        (json!({"nonsense": 1}), "nonsense"),
        (
            json!({"triggers": {"child_unseen": {"start_level": 1, "ack_within": "4wh", "resolve_within": ["1wd"]}}}),
            "triggers.child_unseen",
        ),
        (json!({"triggers": ["child_not_seen"]}), "triggers"),
    ] {
        api.refused(Method::PUT, "/api/v1/policy", Some(&admin), Some(body), UNPROCESSABLE, Some(field)).await;
    }
    assert_eq!(api.get_ok("/api/v1/policy", &sw).await, v0, "nothing changed");

    // A partial policy: what it leaves out takes the default.
    let v1 = api.command(Method::PUT, "/api/v1/policy", &admin, change.clone(), StatusCode::OK).await;
    assert_eq!(v1["version"], 1);
    let p = &v1["policy"];
    assert_eq!(p["overload_threshold"], 3);
    assert_eq!(p["top_level"], 3);
    assert_eq!(p["timescales"]["visit_cp"], "5wd");
    assert_eq!(p["timescales"]["visit_cin"], "20wd");
    assert_eq!(p["triggers"].as_object().unwrap().len(), 11);
    assert_eq!(p["triggers"]["child_not_seen"]["ack_within"], "1wh");
    assert_eq!(p["triggers"]["visit_overdue"], v0["policy"]["triggers"]["visit_overdue"]);
    assert_eq!(api.get_ok("/api/v1/policy", &tm).await, v1);
    let entries = store::query::audit_entries(&app.store, app.audit_len().await, 1).await.unwrap();
    assert_eq!(entries[0].action, "policy.set");

    // It is the policy in force: a child not seen now climbs after one working hour.
    let (case, child) = cp_case(&api, &tm).await;
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let esc = no_access(&api, &sw, case, child).await["id"].as_i64().unwrap();
    app.clock.set("2026-03-03T11:00:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    let e = api.get_ok(&format!("/api/v1/escalations/{esc}"), &sm).await;
    assert_eq!(e["escalation"]["level"], 2);
    assert_eq!(e["escalation"]["assignee"]["id"], app.sm.staff.0);

    // A second change is version 2, from the defaults again, not from version 1.
    let v2 = api.command(Method::PUT, "/api/v1/policy", &admin, json!({"top_level": 4}), StatusCode::OK).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["policy"]["top_level"], 4);
    assert_eq!(v2["policy"]["overload_threshold"], 10);
    assert_eq!(v2["policy"]["triggers"]["child_not_seen"]["ack_within"], "4wh");
});

app_test!(absences_route_escalations_around_people, |app| async move {
    let api = Api::new(app);
    let (tm, sw, sw2, admin) =
        (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.sw2).await, app.token(&app.admin).await);
    let url = |id: i64| format!("/api/v1/staff/{id}/absence");
    let tm_id = app.tm.staff.0;

    // Someone else's absence is for managers and administrators to set.
    api.refused(
        Method::PUT,
        &url(tm_id),
        Some(&sw),
        Some(json!({"until": "2026-03-09T09:00"})),
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    for until in [json!("next monday"), json!("2026-03-01T09:00:00Z"), json!(7)] {
        api.refused(Method::PUT, &url(tm_id), Some(&tm), Some(json!({ "until": until })), UNPROCESSABLE, Some("until"))
            .await;
    }
    api.refused(
        Method::PUT,
        &url(999),
        Some(&admin),
        Some(json!({"until": "2026-03-09T09:00"})),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    // Anyone may mark themselves away; a manager may mark their staff.
    let away = api.command(Method::PUT, &url(tm_id), &tm, json!({"until": "2026-03-09T09:00"}), StatusCode::OK).await;
    assert_eq!(away, json!({"staff": {"id": tm_id, "name": "TM1 Person"}, "until": "2026-03-09T09:00:00Z"}));
    let sw2_away = api
        .command(Method::PUT, &url(app.sw2.staff.0), &sw2, json!({"until": "2026-03-04T17:00:00Z"}), StatusCode::OK)
        .await;
    assert_eq!(sw2_away["until"], "2026-03-04T17:00:00Z");
    let back = api.command(Method::PUT, &url(app.sw2.staff.0), &admin, json!({"until": null}), StatusCode::OK).await;
    assert_eq!(back["until"], Value::Null);

    // While the team manager is away, a child not seen goes to the service manager.
    let (case, child) = cp_case(&api, &tm).await;
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    let esc = no_access(&api, &sw, case, child).await;
    assert_eq!(esc["level"], 2);
    assert_eq!(esc["assignee"]["id"], app.sm.staff.0);
    let record = api.get_ok(&format!("/api/v1/escalations/{}", esc["id"]), &sw).await;
    let raised = &record["history"][0];
    assert_eq!(raised["what"], "raised");
    assert_eq!(raised["reason"], "assignee_absent");
    assert_eq!(raised["routed_from"]["id"], tm_id);

    // Back now: the next one is theirs again.
    api.command(Method::PUT, &url(tm_id), &tm, json!({}), StatusCode::OK).await;
    let (case, child) = cp_case(&api, &tm).await;
    let esc = no_access(&api, &sw, case, child).await;
    assert_eq!(esc["level"], 1);
    assert_eq!(esc["assignee"]["id"], tm_id);
});
