//! Staff and teams through the API: the directory, accounts, teams and their management
//! line; who may do each; and that refusals write nothing.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::Api;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

fn new_worker(team: i64) -> Value {
    json!({"login": "sw3", "name": "Sam Worker", "role": "social_worker", "team": team, "fte": 0.5, "password": "a long enough password"})
}

app_test!(the_staff_directory_and_accounts, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );
    let team = app.team.0;

    let all = api.get_ok("/api/v1/staff", &tm).await;
    assert_eq!(all.as_array().unwrap().len(), 7, "six at work and the auditor");
    let north = api.get_ok(&format!("/api/v1/staff?team={team}"), &sw).await;
    let logins: Vec<_> = north.as_array().unwrap().iter().map(|s| s["login"].as_str().unwrap()).collect();
    assert_eq!(logins, ["sw1", "sw2", "tm1"]);
    assert!(!north.to_string().contains("argon2"), "no password hash leaves the store");
    for bad in ["/api/v1/staff?team=north", "/api/v1/staff?team="] {
        api.refused(Method::GET, bad, Some(&tm), None, UNPROCESSABLE, Some("team")).await;
    }
    api.refused(Method::GET, "/api/v1/staff", Some(&pc), None, StatusCode::FORBIDDEN, None).await;

    // Anyone may read their own entry; a partner no one else's.
    assert_eq!(api.get_ok(&format!("/api/v1/staff/{}", app.partner.staff.0), &pc).await["agency"], "police");
    api.refused(
        Method::GET,
        &format!("/api/v1/staff/{}", app.sw.staff.0),
        Some(&pc),
        None,
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    assert_eq!(api.get_ok(&format!("/api/v1/staff/{}", app.tm.staff.0), &sw).await["role"], "team_manager");
    api.refused(Method::GET, "/api/v1/staff/999", Some(&tm), None, StatusCode::NOT_FOUND, None).await;

    // Only administrators give out accounts.
    for token in [&sw, &tm] {
        api.refused(Method::POST, "/api/v1/staff", Some(token), Some(new_worker(team)), StatusCode::FORBIDDEN, None)
            .await;
    }
    let mut bad = new_worker(team);
    bad["role"] = json!("wizard");
    bad["password"] = json!("short");
    let p = api.refused(Method::POST, "/api/v1/staff", Some(&admin), Some(bad), UNPROCESSABLE, Some("role")).await;
    assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == "password"), "{p}");
    let mut bad = new_worker(team);
    bad["team"] = Value::Null;
    api.refused(Method::POST, "/api/v1/staff", Some(&admin), Some(bad), UNPROCESSABLE, Some("team")).await;
    let mut bad = new_worker(team);
    bad["role"] = json!("partner");
    api.refused(Method::POST, "/api/v1/staff", Some(&admin), Some(bad), UNPROCESSABLE, Some("agency")).await;
    let mut bad = new_worker(team);
    bad["fte"] = json!("half");
    api.refused(Method::POST, "/api/v1/staff", Some(&admin), Some(bad), UNPROCESSABLE, Some("fte")).await;
    let mut taken = new_worker(team);
    taken["login"] = json!("SW1");
    let p = api
        .refused(Method::POST, "/api/v1/staff", Some(&admin), Some(taken), StatusCode::CONFLICT, Some("login"))
        .await;
    assert!(p["detail"].as_str().unwrap().contains("taken"), "{p}");

    let created = api.command_reply(Method::POST, "/api/v1/staff", &admin, new_worker(team), StatusCode::CREATED).await;
    let staff = created.json();
    assert_eq!(created.headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/staff/{}", staff["id"]));
    assert_eq!(staff["fte"], 0.5);
    assert_eq!(staff["team"], json!({"id": team, "name": "North"}));
    assert_eq!(staff["active"], true);
    // The new account can get a token of its own.
    let r = api
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"login": "sw3", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
});

app_test!(teams_and_their_management_line, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc, admin) = (
        app.token(&app.tm).await,
        app.token(&app.sw).await,
        app.token(&app.partner).await,
        app.token(&app.admin).await,
    );

    // Managers see the line; partners see names only.
    let teams = api.get_ok("/api/v1/teams", &sw).await;
    assert_eq!(teams[0]["team_manager"], json!({"id": app.tm.staff.0, "name": "TM1 Person"}));
    let theirs = api.get_ok("/api/v1/teams", &pc).await;
    assert_eq!(
        theirs,
        json!([{"id": app.team.0, "name": "North", "team_manager": null, "service_manager": null, "head_of_service": null}])
    );
    api.refused(Method::GET, &format!("/api/v1/teams/{}", app.team.0), Some(&pc), None, StatusCode::FORBIDDEN, None)
        .await;
    api.refused(Method::GET, "/api/v1/teams/999", Some(&tm), None, StatusCode::NOT_FOUND, None).await;

    // Only administrators make teams.
    api.refused(Method::POST, "/api/v1/teams", Some(&tm), Some(json!({"name": "South"})), StatusCode::FORBIDDEN, None)
        .await;
    api.refused(Method::POST, "/api/v1/teams", Some(&admin), Some(json!({"name": "  "})), UNPROCESSABLE, Some("name"))
        .await;
    api.refused(
        Method::POST,
        "/api/v1/teams",
        Some(&admin),
        Some(json!({"name": "North"})),
        StatusCode::CONFLICT,
        Some("name"),
    )
    .await;
    let created =
        api.command_reply(Method::POST, "/api/v1/teams", &admin, json!({"name": "South"}), StatusCode::CREATED).await;
    let south = created.json();
    let id = south["id"].as_i64().unwrap();
    assert_eq!(created.headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/teams/{id}"));
    assert_eq!(south["team_manager"], Value::Null);
    assert_eq!(api.get_ok(&format!("/api/v1/teams/{id}"), &tm).await, south);

    // The management line: each level needs a manager of at least that level.
    let url = format!("/api/v1/teams/{id}/leadership");
    let line = json!({"team_manager": app.tm.staff.0, "service_manager": app.sm.staff.0});
    api.refused(Method::PUT, &url, Some(&tm), Some(line.clone()), StatusCode::FORBIDDEN, None).await;
    api.refused(
        Method::PUT,
        &url,
        Some(&admin),
        Some(json!({"team_manager": app.sw.staff.0})),
        UNPROCESSABLE,
        Some("team_manager"),
    )
    .await;
    api.refused(
        Method::PUT,
        &url,
        Some(&admin),
        Some(json!({"service_manager": app.tm.staff.0})),
        UNPROCESSABLE,
        Some("service_manager"),
    )
    .await;
    api.refused(
        Method::PUT,
        &url,
        Some(&admin),
        Some(json!({"head_of_service": 999})),
        UNPROCESSABLE,
        Some("head_of_service"),
    )
    .await;
    api.refused(
        Method::PUT,
        &url,
        Some(&admin),
        Some(json!({"team_manager": "tm1"})),
        UNPROCESSABLE,
        Some("team_manager"),
    )
    .await;
    api.refused(
        Method::PUT,
        "/api/v1/teams/999/leadership",
        Some(&admin),
        Some(line.clone()),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let set = api.command(Method::PUT, &url, &admin, line, StatusCode::OK).await;
    assert_eq!(set["team_manager"]["id"], app.tm.staff.0);
    assert_eq!(set["service_manager"]["id"], app.sm.staff.0);
    assert_eq!(set["head_of_service"], Value::Null);
    // PUT replaces the whole line.
    let cleared =
        api.command(Method::PUT, &url, &admin, json!({"service_manager": app.sm.staff.0}), StatusCode::OK).await;
    assert_eq!(cleared["team_manager"], Value::Null);
});
