//! "Who might this be?": the API and the referral intake page offer the people already
//! recorded who may be the child, with the evidence; partners are never shown them.
#![allow(clippy::unwrap_used)]

mod api_support;
mod pages_common;
mod support;

use api_support::Api;
use axum::http::{Method, StatusCode};
use pages_common::*;

async fn register_alfred(app: &support::TestApp) -> domain::ids::PersonId {
    let input = domain::person::PersonInput {
        given_name: "Alfred".into(),
        family_name: "Scott".into(),
        dob: Some("2011-03-04".into()),
        sex: Some("male".into()),
        ..Default::default()
    };
    app.svc.register_person(&app.tm, &input).await.unwrap()
}

fn referral(csrf: &str, team: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = vec![
        ("csrf", csrf.into()),
        ("team", team.into()),
        ("source", "school".into()),
        ("concern", "Says he is hungry every morning".into()),
        ("categories", "neglect".into()),
        ("children[0].given_name", "Alfie".into()),
        ("children[0].family_name", "Scot".into()),
        ("children[0].dob", "4/3/2011".into()),
        ("children[0].dob_precision", "known".into()),
    ];
    v.extend(extra.iter().map(|(k, val)| (*k, val.to_string())));
    v
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

app_test!(the_api_offers_alfred_for_alfie_with_the_evidence, |app| async move {
    let alfred = register_alfred(app).await;
    let api = Api::new(app);
    let sw = app.token(&app.sw).await;
    let body = serde_json::json!({"given_name": "Alfie", "family_name": "Scot", "dob": "4/3/2011"});
    let r = api_support::checked(app, Method::POST, "/api/v1/people/match", Some(&sw), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found = r.json();
    assert_eq!(found[0]["person"]["id"], alfred.0, "{found}");
    assert!(found[0]["probability"].as_f64().unwrap() >= 0.5, "{found}");
    let texts: Vec<String> = found[0]["explanation"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap().to_string())
        .collect();
    assert!(texts.contains(&"first name: nickname (Alfie ↔ Alfred)".to_string()), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("surname: similar spelling")), "{texts:?}");
    // Someone recorded after the index was built is found too.
    let input = domain::person::PersonInput {
        given_name: "Zofia".into(),
        family_name: "Quixley".into(),
        dob: Some("2016-07-09".into()),
        ..Default::default()
    };
    let zofia = app.svc.register_person(&app.tm, &input).await.unwrap();
    let r = api_support::checked(
        app,
        Method::POST,
        "/api/v1/people/match",
        Some(&sw),
        Some(serde_json::json!({"given_name": "Zofia", "family_name": "Quixly", "dob": "09/07/2016"})),
    )
    .await;
    assert_eq!(r.json()[0]["person"]["id"], zofia.0, "{}", r.body);
    // Another name she is known by, added after the index was built, finds her too.
    let input = domain::person::PersonInput {
        given_name: "Mia".into(),
        family_name: "Jones".into(),
        dob: Some("2014-06-06".into()),
        sex: Some("female".into()),
        ..Default::default()
    };
    let mia = app.svc.register_person(&app.tm, &input).await.unwrap();
    let ask =
        serde_json::json!({"given_name": "Amelia", "family_name": "Barker", "dob": "06/06/2014", "sex": "female"});
    let r = api_support::checked(app, Method::POST, "/api/v1/people/match", Some(&sw), Some(ask.clone())).await;
    assert!(
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["person"]["id"] != mia.0 || m["probability"].as_f64().unwrap() < 0.5),
        "{}",
        r.body
    );
    let alias = commands::people::AliasInput { given_name: "Amelia".into(), family_name: "Barker".into() };
    app.svc.add_alias(&app.tm, mia, &alias).await.unwrap();
    let r = api_support::checked(app, Method::POST, "/api/v1/people/match", Some(&sw), Some(ask)).await;
    let found = r.json();
    assert_eq!(found[0]["person"]["id"], mia.0, "{found}");
    assert!(found[0]["probability"].as_f64().unwrap() >= 0.5, "{found}");
    assert_eq!(
        found.as_array().unwrap().iter().filter(|m| m["person"]["id"] == mia.0).count(),
        1,
        "once, under her best name"
    );
    // Nothing to look for: the field is named.
    api.refused(
        Method::POST,
        "/api/v1/people/match",
        Some(&sw),
        Some(serde_json::json!({"dob": "2011-03-04"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("family_name"),
    )
    .await;
    // Partners and administrators are never shown anyone's record.
    for who in [&app.partner, &app.admin] {
        let token = app.token(who).await;
        api.refused(
            Method::POST,
            "/api/v1/people/match",
            Some(&token),
            Some(body.clone()),
            StatusCode::FORBIDDEN,
            None,
        )
        .await;
    }
    api.refused(Method::POST, "/api/v1/people/match", None, Some(body), StatusCode::UNAUTHORIZED, None).await;
});

app_test!(the_intake_page_asks_whether_alfie_is_alfred_before_recording_anything, |app| async move {
    let alfred = register_alfred(app).await;
    let team = app.team.0.to_string();
    let (cookie, csrf) = app.session("sw1").await;
    let before = app.audit_len().await;

    // Alfie Scot, 4/3/2011: Alfred Scott, 2011-03-04 is offered with the evidence; nothing recorded.
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&referral(&csrf, &team, &[]))).await;
    assert_page(&r, "Make a referral");
    assert!(r.body.contains("Is this a child already recorded?"), "{}", r.body);
    assert!(r.body.contains("Alfred Scott, 2011-03-04"), "{}", r.body);
    assert!(r.body.contains("first name: nickname (Alfie ↔ Alfred)"), "{}", r.body);
    assert!(r.body.contains("None of these: a new person"));
    // Nothing recorded yet; the look-up that showed Alfred is on the trail as a search.
    assert_eq!(app.audit_len().await, before + 1, "only the search");
    let search = &store::query::audit_entries(&app.store, before + 1, 1).await.unwrap()[0];
    assert_eq!(search.action, "people.search");
    assert!(search.entry.contains(&format!("\"found\":[{}]", alfred.0)), "{}", search.entry);

    // Sent again without choosing: asked beside the choice (Alfred shown again, so searched again).
    let again = referral(&csrf, &team, &[("children[0].checked", "1")]);
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&again)).await;
    assert_invalid(&r, "children-0--choice", "say whether the child is one of the people listed or a new person");
    assert_eq!(app.audit_len().await, before + 2);

    // It is Alfred: the referral is about his record.
    let id = alfred.0.to_string();
    let chosen = referral(&csrf, &team, &[("children[0].checked", "1"), ("children[0].choice", &id)]);
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&chosen)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let record = app.svc.child_record(&app.tm, alfred).await.unwrap();
    assert_eq!(record.referrals.len(), 1, "the referral is on Alfred's record");

    // "A new person" records a new child from the details typed (with an ISO date).
    let new = referral(&csrf, &team, &[("children[0].checked", "1"), ("children[0].choice", "new")]);
    let new: Vec<_> = new
        .into_iter()
        .map(|(k, v)| if k == "children[0].dob" { (k, "2011-03-04".to_string()) } else { (k, v) })
        .collect();
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&new)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let people = app.svc.search_people(&app.tm, "Alfie Scot").await.unwrap();
    assert_eq!(people.len(), 1, "a new person");
    assert_ne!(people[0].id, alfred);
});

app_test!(a_partner_is_never_shown_who_else_is_recorded, |app| async move {
    let alfred = register_alfred(app).await;
    let (cookie, csrf) = app.session("pc1").await;
    let team = app.team.0.to_string();
    let fields: Vec<_> = referral(&csrf, &team, &[])
        .into_iter()
        .map(|(k, v)| if k == "children[0].dob" { (k, "2011-03-04".to_string()) } else { (k, v) })
        .collect();
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "recorded at once: {}", r.body);
    assert!(!r.body.contains("Alfred"));
    let to = r.headers.get("location").unwrap().to_str().unwrap().to_string();
    let page = app.get_page(&to, Some(&cookie)).await;
    assert!(!page.body.contains("Alfred"), "{}", page.body);
    assert!(!page.body.contains("Possibly also recorded as"));
    // Behind the scenes: the team manager deciding it sees that the child may be Alfred.
    let (tm_cookie, _) = app.session("tm1").await;
    let before = app.audit_len().await;
    let page = app.get_page(&to, Some(&tm_cookie)).await;
    assert_page(&page, "Referral");
    assert!(page.body.contains("Possibly also recorded as"), "{}", page.body);
    // Showing Alfred there is a search on the trail, naming him; the referral's child is read.
    let added = store::query::audit_entries(&app.store, before + 1, 10).await.unwrap();
    let search: Vec<_> = added.iter().filter(|e| e.action == "people.search").collect();
    assert_eq!(search.len(), 1, "{added:?}");
    assert!(search[0].entry.contains(&format!("\"found\":[{}]", alfred.0)), "{}", search[0].entry);
    assert!(search[0].entry.contains("possibly also"), "{}", search[0].entry);
    assert!(added.iter().any(|e| e.action == "person.view"), "{added:?}");
    assert!(page.body.contains(&format!("href=\"/people/{}\">Alfred Scott, 2011-03-04", alfred.0)), "{}", page.body);
    assert!(page.body.contains("first name: nickname"), "{}", page.body);
});
