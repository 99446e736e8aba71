//! API authentication: tokens, sessions, and that nothing but the public routes answers
//! without credentials.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, assert_chained};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use web::api::{PUBLIC_ROUTES, ROUTES};

app_test!(every_route_but_the_public_ones_needs_credentials, |app| async move {
    let api = Api::new(app);
    for (method, path) in ROUTES.iter().filter(|r| !PUBLIC_ROUTES.contains(r)) {
        let url = format!("/api/v1{}", path.replace("{id}", "1"));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method != Method::GET).then(|| json!({}));
        let p = api.refused(method.clone(), &url, None, body.clone(), StatusCode::UNAUTHORIZED, None).await;
        assert_eq!(p["type"], "https://safeguard.invalid/problems/unauthenticated");
        // A forged token is no better than none.
        api.refused(method, &url, Some("forged-token"), body, StatusCode::UNAUTHORIZED, None).await;
    }
});

app_test!(a_token_for_a_login_and_password, |app| async move {
    let api = Api::new(app);
    let (seq, hash) = store::query::audit_head(&app.store).await.unwrap();
    let r = api
        .call(Method::POST, "/api/v1/auth/token", None, Some(json!({"login": "SW1 ", "password": support::PASSWORD})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Signing in and issuing the token: two entries, chained.
    assert_chained(app, seq, &hash, 2).await;
    let issued = r.json();
    assert!(issued["token_id"].as_i64().unwrap() > 0);
    let token = issued["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(api.get_ok("/api/v1/me", token).await["id"], app.sw.staff.0);
    let entries = store::query::audit_entries(&app.store, 1, 10_000).await.unwrap();
    assert!(entries.iter().all(|e| !e.entry.contains(token)), "the token itself never reaches the trail");
    assert_eq!(entries.last().unwrap().action, "token.issue");
});

app_test!(a_wrong_login_or_password_is_401_without_saying_which, |app| async move {
    let api = Api::new(app);
    let wrong_password = api
        .refused(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"login": "sw1", "password": "not the password"})),
            StatusCode::UNAUTHORIZED,
            None,
        )
        .await;
    let no_such_login = api
        .refused(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"login": "nobody", "password": support::PASSWORD})),
            StatusCode::UNAUTHORIZED,
            None,
        )
        .await;
    assert_eq!(wrong_password, no_such_login);
    assert!(wrong_password.get("errors").is_none(), "no field is singled out: {wrong_password}");

    // Missing fields and a bad token name are named; nothing is written.
    let url = "/api/v1/auth/token";
    api.refused(
        Method::POST,
        url,
        None,
        Some(json!({"password": support::PASSWORD})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("login"),
    )
    .await;
    api.refused(
        Method::POST,
        url,
        None,
        Some(json!({"login": "sw1", "password": ""})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("password"),
    )
    .await;
    api.refused(
        Method::POST,
        url,
        None,
        Some(json!({"login": "sw1", "password": support::PASSWORD, "name": " "})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("name"),
    )
    .await;
    api.refused(
        Method::POST,
        url,
        None,
        Some(json!({"login": 5, "password": support::PASSWORD})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("login"),
    )
    .await;
    api.refused(Method::POST, url, None, Some(json!(["sw1"])), StatusCode::UNPROCESSABLE_ENTITY, Some("body")).await;

    // A body that is not declared as JSON is refused before it is read.
    let before = app.audit_len().await;
    let req = Request::post(url)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(json!({"login": "sw1", "password": support::PASSWORD}).to_string()))
        .unwrap();
    let r = app.send(req).await;
    api.doc.check(&Method::POST, url, None, &r);
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.audit_len().await, before);
});

app_test!(a_session_cookie_works_for_the_api_too, |app| async move {
    let api = Api::new(app);
    let (cookie, _) = app.session("tm1").await;
    let req = Request::get("/api/v1/me").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    let r = app.send(req).await;
    api.doc.check(&Method::GET, "/api/v1/me", None, &r);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["login"], "tm1");
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
});

app_test!(malformed_ids_and_unknown_routes_are_problems, |app| async move {
    let api = Api::new(app);
    let tm = app.token(&app.tm).await;
    for path in [
        "/api/v1/people/abc",
        "/api/v1/referrals/0",
        "/api/v1/cases/-3",
        "/api/v1/staff/1.5",
        "/api/v1/teams/99999999999999999999",
    ] {
        let p = api.refused(Method::GET, path, Some(&tm), None, StatusCode::NOT_FOUND, None).await;
        assert!(p["detail"].as_str().unwrap().contains("whole numbers"), "{p}");
    }
    api.refused(Method::GET, "/api/v1/cases/999", Some(&tm), None, StatusCode::NOT_FOUND, None).await;
    let r = app.api(Method::GET, "/api/v1/people/1/secrets", Some(&tm), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["detail"], "there is no API route /api/v1/people/1/secrets");
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
    let r = app.api(Method::PUT, "/api/v1/referrals", Some(&tm), Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json()["status"], 405);
    assert_eq!(r.headers.get("allow").unwrap(), "GET,HEAD,POST");
});

app_test!(every_id_route_refuses_a_malformed_id_and_every_body_must_be_json, |app| async move {
    let api = Api::new(app);
    let tm = app.token(&app.tm).await;
    for (method, path) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let has_body = method != Method::GET;
        if path.contains("{id}") {
            let url = format!("/api/v1{}", path.replace("{id}", "abc"));
            let body = has_body.then(|| json!({}));
            api.refused(method.clone(), &url, Some(&tm), body, StatusCode::NOT_FOUND, None).await;
        }
        if has_body {
            let url = format!("/api/v1{}", path.replace("{id}", "1"));
            let before = app.audit_len().await;
            let req = Request::builder()
                .method(method.clone())
                .uri(&url)
                .header(header::AUTHORIZATION, format!("Bearer {tm}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("name=South"))
                .unwrap();
            let r = app.send(req).await;
            api.doc.check(&method, &url, None, &r);
            assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {url}");
            assert_eq!(app.audit_len().await, before);
        }
    }
    // The API's own root is a problem too, not a page.
    for url in ["/api/v1", "/api/v1/"] {
        let r = app.api(Method::GET, url, Some(&tm), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{url}");
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json", "{url}");
    }
});

app_test!(nul_characters_are_refused_by_name, |app| async move {
    // PostgreSQL cannot store a NUL in text: without this check these were 500s there.
    let api = Api::new(app);
    let sw = app.token(&app.sw).await;
    let un = StatusCode::UNPROCESSABLE_ENTITY;
    let login = json!({"login": "sw\u{0}1", "password": support::PASSWORD});
    api.refused(Method::POST, "/api/v1/auth/token", None, Some(login), un, Some("login")).await;
    api.refused(Method::GET, "/api/v1/people?q=Al%00fie", Some(&sw), None, un, Some("q")).await;
    let person = json!({"given_name": "Alfie", "family_name": "Scott", "dob_precision": "unknown"});
    let id =
        api.command(Method::POST, "/api/v1/people", &sw, person, StatusCode::CREATED).await["id"].as_i64().unwrap();
    let address = json!({"line": "1 High\u{0} Street", "town": "Leeds"});
    api.refused(Method::POST, &format!("/api/v1/people/{id}/addresses"), Some(&sw), Some(address), un, Some("line"))
        .await;
    let mut referral = api_support::referral_body(app.team.0);
    referral["children"][0]["upn"] = json!("A\u{0}");
    api.refused(Method::POST, "/api/v1/referrals", Some(&sw), Some(referral), un, Some("children[0].upn")).await;
});
