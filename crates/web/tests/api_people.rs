//! People through the API: finding, registering, and recording names, addresses and
//! relationships; who may do each; and that refusals write nothing.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::Api;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

fn alfie() -> Value {
    json!({"given_name": "Alfie", "family_name": "Scott", "dob": "2014-01-01", "sex": "m", "nhs_number": "943-476-5919"})
}

app_test!(registering_and_finding_a_person, |app| async move {
    let api = Api::new(app);
    let (sw, pc, admin) = (app.token(&app.sw).await, app.token(&app.partner).await, app.token(&app.admin).await);

    // Each bad field is named; wrong roles are refused; nothing is written.
    let mut bad = alfie();
    bad["nhs_number"] = json!("943 476 5918");
    bad["dob"] = json!("2030-01-01");
    let p = api.refused(Method::POST, "/api/v1/people", Some(&sw), Some(bad), UNPROCESSABLE, Some("nhs_number")).await;
    assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == "dob"), "{p}");
    api.refused(
        Method::POST,
        "/api/v1/people",
        Some(&sw),
        Some(json!({"given_name": 5})),
        UNPROCESSABLE,
        Some("given_name"),
    )
    .await;
    api.refused(Method::POST, "/api/v1/people", Some(&pc), Some(alfie()), StatusCode::FORBIDDEN, None).await;
    api.refused(Method::POST, "/api/v1/people", Some(&admin), Some(alfie()), StatusCode::FORBIDDEN, None).await;

    let person = api.command(Method::POST, "/api/v1/people", &sw, alfie(), StatusCode::CREATED).await;
    let id = person["id"].as_i64().unwrap();
    assert_eq!(person["nhs_number"], "9434765919");
    assert_eq!(person["sex"], "male");
    assert_eq!(person["kind"], "child");

    // Found by name and by NHS number.
    let found = api.get_ok("/api/v1/people?q=alf%20sco", &sw).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], id);
    assert_eq!(api.get_ok("/api/v1/people?q=943%20476%205919", &sw).await[0]["id"], id);
    assert_eq!(api.get_ok("/api/v1/people?q=Nobody", &sw).await, json!([]));
    api.refused(Method::GET, "/api/v1/people", Some(&sw), None, UNPROCESSABLE, Some("q")).await;
    api.refused(Method::GET, "/api/v1/people?name=Alfie", Some(&sw), None, UNPROCESSABLE, Some("name")).await;
    api.refused(Method::GET, "/api/v1/people?q=Alfie", Some(&pc), None, StatusCode::FORBIDDEN, None).await;
    api.refused(Method::GET, "/api/v1/people?q=Alfie", Some(&admin), None, StatusCode::FORBIDDEN, None).await;

    // The record: practice staff only.
    let record = api.get_ok(&format!("/api/v1/people/{id}"), &sw).await;
    assert_eq!(record["person"], person);
    api.refused(Method::GET, &format!("/api/v1/people/{id}"), Some(&pc), None, StatusCode::FORBIDDEN, None).await;
    api.refused(Method::GET, &format!("/api/v1/people/{id}"), Some(&admin), None, StatusCode::FORBIDDEN, None).await;
    api.refused(Method::GET, "/api/v1/people/999", Some(&sw), None, StatusCode::NOT_FOUND, None).await;
});

app_test!(names_addresses_and_relationships, |app| async move {
    let api = Api::new(app);
    let (sw, pc) = (app.token(&app.sw).await, app.token(&app.partner).await);
    let child =
        api.command(Method::POST, "/api/v1/people", &sw, alfie(), StatusCode::CREATED).await["id"].as_i64().unwrap();
    let mother = api
        .command(
            Method::POST,
            "/api/v1/people",
            &sw,
            json!({"kind": "adult", "given_name": "Jade", "family_name": "Scott", "dob_precision": "unknown"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(mother["dob"], json!({"precision": "unknown"}));
    let mother = mother["id"].as_i64().unwrap();

    // Another name, tidied as stored.
    let url = format!("/api/v1/people/{child}/aliases");
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"given_name": "Alfie", "family_name": "Sc@tt"})),
        UNPROCESSABLE,
        Some("family_name"),
    )
    .await;
    api.refused(
        Method::POST,
        &url,
        Some(&pc),
        Some(json!({"given_name": "Alf", "family_name": "Scott"})),
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    api.refused(
        Method::POST,
        "/api/v1/people/999/aliases",
        Some(&sw),
        Some(json!({"given_name": "Alf", "family_name": "Scott"})),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let alias = api
        .command(
            Method::POST,
            &url,
            &sw,
            json!({"given_name": "  Alfie  James ", "family_name": "Scott-Brown"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(alias, json!({"given_name": "Alfie James", "family_name": "Scott-Brown"}));
    // Searching finds the other name.
    assert_eq!(api.get_ok("/api/v1/people?q=scott-b", &sw).await[0]["id"], child);

    // An address, with the postcode in its usual form.
    let url = format!("/api/v1/people/{child}/addresses");
    let leeds = json!({"line": "1 High Street", "town": "Leeds"});
    api.refused(Method::POST, &url, Some(&pc), Some(leeds), StatusCode::FORBIDDEN, None).await;
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"line": "1 High Street", "postcode": "12345"})),
        UNPROCESSABLE,
        Some("postcode"),
    )
    .await;
    api.refused(Method::POST, &url, Some(&sw), Some(json!({"town": "Leeds"})), UNPROCESSABLE, Some("line")).await;
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"line": "1 High Street", "from": "2024-05-01", "to": "2023-01-01"})),
        UNPROCESSABLE,
        Some("to"),
    )
    .await;
    let address = api
        .command(
            Method::POST,
            &url,
            &sw,
            json!({"line": "1 High Street", "town": "Leeds", "postcode": "ls1 4ap", "from": "2024-05-01"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(address["postcode"], "LS1 4AP");
    assert_eq!(address["to"], Value::Null);

    // The mother is the parent of the child.
    let url = format!("/api/v1/people/{mother}/relationships");
    let parent = json!({"related": child, "kind": "parent"});
    api.refused(Method::POST, &url, Some(&pc), Some(parent), StatusCode::FORBIDDEN, None).await;
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"related": child, "kind": "aunt"})),
        UNPROCESSABLE,
        Some("kind"),
    )
    .await;
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"related": mother, "kind": "parent"})),
        UNPROCESSABLE,
        Some("related"),
    )
    .await;
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"related": 999, "kind": "parent"})),
        UNPROCESSABLE,
        Some("related"),
    )
    .await;
    api.refused(
        Method::POST,
        &url,
        Some(&sw),
        Some(json!({"related": "Alfie", "kind": "parent"})),
        UNPROCESSABLE,
        Some("related"),
    )
    .await;
    let rel =
        api.command(Method::POST, &url, &sw, json!({"related": child, "kind": "parent"}), StatusCode::CREATED).await;
    assert_eq!(rel["other"]["id"], child);
    assert_eq!(rel["kind"], "parent");
    assert_eq!(rel["other_is_subject"], false);

    // All of it on the child's record; from the child's side the mother is the parent.
    let record = api.get_ok(&format!("/api/v1/people/{child}"), &sw).await;
    assert_eq!(record["aliases"][0], alias);
    assert_eq!(record["addresses"][0], address);
    assert_eq!(record["relationships"][0]["other"]["id"], mother);
    assert_eq!(record["relationships"][0]["other_is_subject"], true);
});
