//! The OpenAPI document, derived from the handlers and their types: it parses, it
//! describes exactly the routes the router serves, its parts hang together, and its
//! schemas are strict enough to catch a wrong reply. (Every reply in the other API tests
//! is also validated against it.)
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, Doc};
use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use web::api::{PUBLIC_ROUTES, ROUTES};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

fn documented(doc: &Doc) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc.0["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())) {
            out.insert((m.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                out.push(r);
            }
            o.values().for_each(|x| walk(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
        _ => {}
    }
}

#[test]
fn the_document_lists_exactly_the_routes_served() {
    let doc = Doc::load();
    assert!(doc.0["openapi"].as_str().unwrap().starts_with("3.1."));
    let served: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(served.len(), ROUTES.len(), "a route is listed twice");
    let documented = documented(&doc);
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

#[test]
fn every_operation_declares_its_security_and_errors() {
    let doc = Doc::load();
    let mut ids = BTreeSet::new();
    for (method, path) in ROUTES {
        let op = doc.operation(method, path).unwrap();
        let what = format!("{method} {path}");
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()), "{what}: duplicate operationId");
        let responses = op["responses"].as_object().unwrap();
        let has = |s: &str| responses.contains_key(s);
        let public = PUBLIC_ROUTES.contains(&(*method, *path));
        if public {
            assert_eq!(op["security"], serde_json::json!([]), "{what} is public and must say so");
        } else {
            assert!(op.get("security").is_none(), "{what} must use the document's security");
            assert!(has("401"), "{what}: 401");
        }
        if path.contains("{id}") {
            assert!(has("404"), "{what}: 404 for a missing or malformed id");
            let params = op["parameters"].as_array().unwrap();
            let id = params.iter().map(|p| doc.resolve(p)).find(|p| p["name"] == "id").expect("the id parameter");
            assert_eq!((&id["in"], &id["required"]), (&serde_json::json!("path"), &serde_json::json!(true)), "{what}");
        }
        // Every route but the document itself reads the store, which may be unavailable.
        if *path != "/openapi.json" {
            let unavailable = doc.resolve(&responses["503"]);
            assert!(unavailable["headers"].get("Retry-After").is_some(), "{what}: 503 with Retry-After");
        }
        if op.get("requestBody").is_some() {
            assert!(has("415") && has("422"), "{what}: 415 and 422 for bodies");
        }
        if op
            .get("parameters")
            .is_some_and(|p| p.as_array().is_some_and(|a| a.iter().any(|p| doc.resolve(p)["in"] == "query")))
        {
            assert!(has("422"), "{what}: 422 for bad query parameters");
        }
        assert!(responses.keys().any(|s| s.starts_with('2')), "{what}: a success response");
        for (status, r) in responses {
            let r = doc.resolve(r);
            if let Some(content) = r.get("content").and_then(Value::as_object) {
                let media = if status.starts_with('2') { "application/json" } else { "application/problem+json" };
                // A signed checkpoint is published as text, in its own format.
                let text =
                    status.starts_with('2') && *path == "/audit/checkpoint" && content.contains_key("text/plain");
                assert!(content.contains_key(media) || text, "{what} {status}: {media}");
                if !status.starts_with('2') {
                    assert_eq!(content[media]["schema"]["$ref"], "#/components/schemas/Problem", "{what} {status}");
                }
            }
        }
    }
    let schemes = doc.0["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["cookieAuth"]["in"], "cookie");
    assert_eq!(schemes["cookieAuth"]["name"], web::SESSION_COOKIE);
}

#[test]
fn every_reference_resolves_and_every_schema_compiles() {
    let doc = Doc::load();
    let mut refs = vec![];
    walk(&doc.0, &mut refs);
    assert!(refs.len() > 50);
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("only local references: {r}"));
        assert!(doc.0.pointer(pointer).is_some(), "dangling reference {r}");
    }
    for (name, schema) in doc.0["components"]["schemas"].as_object().unwrap() {
        let _ = doc.validator(schema);
        assert!(!name.is_empty());
    }
    // The problem schema accepts what the server sends and refuses what it must not.
    let problem = doc.validator(&serde_json::json!({"$ref": "#/components/schemas/Problem"}));
    let good = serde_json::json!({"type": "https://safeguard.invalid/problems/invalid-input", "title": "t", "status": 422, "detail": "d",
        "errors": [{"field": "children[0].nhs_number", "message": "m"}]});
    assert!(problem.is_valid(&good));
    assert!(!problem.is_valid(&serde_json::json!({"title": "t", "status": 422, "detail": "d"})));
    // Nullable timestamps are still checked as timestamps.
    let closed_at = doc.validator(&doc.0["components"]["schemas"]["CaseView"]["properties"]["closed_at"]);
    assert!(closed_at.is_valid(&Value::Null) && closed_at.is_valid(&serde_json::json!("2026-03-02T09:00:00Z")));
    assert!(!closed_at.is_valid(&serde_json::json!("next tuesday")));
}

#[test]
fn codes_and_ids_are_described_as_they_are_sent() {
    let doc = Doc::load();
    let schemas = &doc.0["components"]["schemas"];
    // Enumerations are their codes, not the Rust variants' names.
    let codes = |name: &str| -> Vec<String> {
        schemas[name]["enum"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()
    };
    let stages: Vec<String> = domain::case::Stage::ALL.iter().map(|s| s.code().to_string()).collect();
    assert_eq!(codes("Stage"), stages);
    let triggers: Vec<String> = domain::escalation::Trigger::ALL.iter().map(|t| t.code().to_string()).collect();
    assert_eq!(codes("Trigger"), triggers);
    assert_eq!(schemas["Role"]["enum"][0], "social_worker");
    // Ids are positive integers.
    assert_eq!(schemas["PersonId"]["type"], "integer");
    assert_eq!(schemas["PersonId"]["minimum"], 1);
    // A date of birth says how well it is known, and only a known or estimated one has a date.
    let dob = doc.validator(&serde_json::json!({"$ref": "#/components/schemas/DateOfBirth"}));
    assert!(dob.is_valid(&serde_json::json!({"precision": "known", "date": "2014-01-01"})));
    assert!(dob.is_valid(&serde_json::json!({"precision": "unknown"})));
    assert!(!dob.is_valid(&serde_json::json!({"precision": "known"})));
}

#[test]
fn a_reply_with_a_field_renamed_or_missing_does_not_match() {
    let doc = Doc::load();
    let person = doc.reply_validator(&serde_json::json!({"$ref": "#/components/schemas/PersonView"}));
    let good = serde_json::json!({"id": 3, "kind": "child", "given_name": "Alfie", "family_name": "Scott",
        "dob": {"precision": "known", "date": "2014-01-01"}, "sex": "male", "nhs_number": "9434765919",
        "upn": null, "merged_into": null});
    assert!(person.is_valid(&good), "{:?}", person.iter_errors(&good).map(|e| e.to_string()).collect::<Vec<_>>());
    let mut renamed = good.clone();
    let given = renamed.as_object_mut().unwrap().remove("given_name").unwrap();
    renamed["first_name"] = given;
    assert!(!person.is_valid(&renamed), "a required field renamed");
    let mut renamed = good.clone();
    let upn = renamed.as_object_mut().unwrap().remove("upn").unwrap();
    renamed["pupil_number"] = upn;
    assert!(!person.is_valid(&renamed), "an optional field renamed");
    let mut wrong = good.clone();
    wrong["kind"] = serde_json::json!("Child");
    assert!(!person.is_valid(&wrong), "a code in the wrong form");
    // Closing objects still lets a whole made of parts (`allOf`) through, and nothing more.
    let pair = doc.reply_validator(&serde_json::json!({"$ref": "#/components/schemas/ReviewPair"}));
    let whole = serde_json::json!({"id": 1, "person_a": 3, "person_b": 4, "probability": 0.9, "evidence": "names agree",
        "found_at": "2026-03-02T09:00:00Z", "state": "open", "decided_by": null, "decided_at": null, "kept": null,
        "a": good, "b": good});
    assert!(pair.is_valid(&whole), "{:?}", pair.iter_errors(&whole).map(|e| e.to_string()).collect::<Vec<_>>());
    let mut extra = whole.clone();
    extra["surprise"] = serde_json::json!(1);
    assert!(!pair.is_valid(&extra), "a field no part names");
}

app_test!(the_router_serves_every_listed_route_and_the_document, |app| async move {
    // Each listed route answers (it is not the fallback's 404): 401 without credentials,
    // except the public ones.
    for (method, path) in ROUTES {
        let url = format!("/api/v1{}", path.replace("{id}", "1"));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method != Method::GET).then(|| serde_json::json!({}));
        let r = app.api(method.clone(), &url, None, body).await;
        let expected = match (method.as_str(), *path) {
            ("POST", "/auth/token") => StatusCode::UNPROCESSABLE_ENTITY,
            ("GET", "/openapi.json") => StatusCode::OK,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(r.status, expected, "{method} {url}: {}", r.body);
    }
    let served = app.api(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(served.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(served.json(), Doc::load().0);

    // Unknown routes and methods are problems too.
    let r = app.api(Method::GET, "/api/v1/no-such-thing", None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
    assert_eq!(r.json()["status"], 404);
    let r = app.api(Method::DELETE, "/api/v1/people", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");
});

app_test!(replies_the_other_api_tests_do_not_read_match_the_document, |app| async move {
    // The other tests read every other route's success reply through the checking client;
    // these are the rest, so every route's success is held to its schema somewhere.
    let api = Api::new(app);
    let (tm, admin) = (app.token(&app.tm).await, app.token(&app.admin).await);
    let team = app.team.0;
    let dashboard = api.get_ok(&format!("/api/v1/caseloads?team={team}"), &tm).await;
    assert_eq!(dashboard["team"][0], team, "{dashboard}");
    api.get_ok("/api/v1/caseloads", &tm).await;

    let (case, _) = api_support::cp_case(&api, &tm).await;
    let body = serde_json::json!({"qualified_on": "2020-09-01"});
    let path = format!("/api/v1/staff/{}/qualification", app.sw.staff.0);
    let sw = api.command(Method::PUT, &path, &admin, body, StatusCode::OK).await;
    assert_eq!(sw["login"], "sw1");
    let path = format!("/api/v1/staff/{}/reallocation", app.sw.staff.0);
    let body = serde_json::json!({"to": app.sw2.staff.0});
    let moved = api.command(Method::POST, &path, &tm, body, StatusCode::OK).await;
    assert_eq!(moved["moved"], serde_json::json!([case]));

    // Two records of one child, found by the engine and reviewed.
    let alfred =
        serde_json::json!({"given_name": "Alfred", "family_name": "Scott", "dob": "2011-03-04", "sex": "male"});
    let alfred = api.command(Method::POST, "/api/v1/people", &tm, alfred, StatusCode::CREATED).await;
    let address = serde_json::json!({"line": "12 Mill Lane", "town": "Leeds", "postcode": "LS1 4AB"});
    let path = format!("/api/v1/people/{}/addresses", alfred["id"]);
    api.command(Method::POST, &path, &tm, address, StatusCode::CREATED).await;
    let alfie = serde_json::json!({"given_name": "Alfie", "family_name": "Scot", "dob": "2011-03-04", "sex": "male"});
    api.command(Method::POST, "/api/v1/people", &tm, alfie, StatusCode::CREATED).await;
    let r = api.call(Method::POST, "/api/v1/duplicates/search", Some(&tm), Some(serde_json::json!({}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["added"].as_i64().unwrap() >= 1, "{}", r.body);
    let queue = api.get_ok("/api/v1/duplicates?state=open&limit=10", &tm).await;
    let pair = &queue[0]["id"];
    let one = api.get_ok(&format!("/api/v1/duplicates/{pair}"), &tm).await;
    assert_eq!(&one["id"], pair);
});
