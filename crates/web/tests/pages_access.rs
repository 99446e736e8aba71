//! Reads on the trail: opening a child's record, searching and exporting are each one
//! audit entry (who, when, what, from where); a refused read writes nothing; managers
//! and the auditor see who has seen a record, and nobody else does.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod api_support;
mod pages_common;
mod support;

use api_support::Api;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use pages_common::*;
use serde_json::{Value, json};
use support::{Reply, TestApp};

/// A browser's User-Agent, longer than the trail keeps.
const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80 and a long tail the trail does not keep";

/// A page GET with a session cookie, as if through the council's proxy from `address`.
async fn get_from(app: &TestApp, path: &str, cookie: &str, forwarded: &str) -> Reply {
    let req = Request::builder()
        .uri(path)
        .header(header::COOKIE, cookie)
        .header("x-forwarded-for", forwarded)
        .header(header::USER_AGENT, BROWSER)
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

/// The entries added since the trail had `before`, oldest first.
async fn added_since(app: &TestApp, before: i64) -> Vec<store::query::AuditEntryView> {
    store::query::audit_entries(&app.store, before + 1, 100).await.unwrap()
}

/// The first event of an entry.
fn event(e: &store::query::AuditEntryView) -> Value {
    let v: Value = serde_json::from_str(&e.entry).unwrap();
    v["events"][0].clone()
}

/// Asserts the whole chain still verifies.
async fn assert_chain_verifies(app: &TestApp) {
    let verified =
        i64::try_from(store::trail::verify_entries(&app.store).await.unwrap().expect("the chain verifies").entries)
            .unwrap();
    assert_eq!(verified, app.audit_len().await);
}

app_test!(opening_a_record_adds_one_entry_naming_who_and_from_where, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let (cookie, _) = app.session("sw1").await;

    let before = app.audit_len().await;
    let page = get_from(app, &format!("/people/{}", child.0), &cookie, "203.0.113.9, 10.0.0.1").await;
    assert_page(&page, "Alfie Scott");
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1, "one entry for one read: {added:?}");
    let e = &added[0];
    assert_eq!(
        (e.action.as_str(), e.actor.clone(), e.subject.clone()),
        ("person.view", format!("staff:{}", app.sw.staff.0), format!("person:{}", child.0))
    );
    let ev = event(e);
    assert_eq!(ev["type"], "record_viewed");
    assert_eq!(ev["person"], child.0);
    assert_eq!(ev["read"]["via"], "page");
    assert_eq!(ev["read"]["from"], "203.0.113.9", "the first forwarded address, the client's");
    let agent = ev["read"]["agent"].as_str().unwrap();
    assert_eq!(agent.chars().count(), domain::event::ReadFrom::AGENT_CHARS);
    assert!(BROWSER.starts_with(agent));

    // Through the API: one entry, `api`; with no proxy and no peer address, `unknown`.
    let token = app.token(&app.sw).await;
    let before = app.audit_len().await;
    let record = Api::new(app).get_ok(&format!("/api/v1/people/{}", child.0), &token).await;
    assert_eq!(record["person"]["given_name"], "Alfie");
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].action, "person.view");
    assert_eq!(event(&added[0])["read"], json!({"via": "api", "from": "unknown", "agent": ""}));

    // A forwarded header that is not an address is not believed.
    let before = app.audit_len().await;
    get_from(app, &format!("/people/{}", child.0), &cookie, "<script>").await;
    assert_eq!(event(&added_since(app, before).await[0])["read"]["from"], "unknown");
    assert_chain_verifies(app).await;
});

app_test!(a_refused_or_missing_record_writes_nothing, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let path = format!("/people/{}", child.0);
    for login in ["pc1", "admin", "aud1"] {
        let (cookie, _) = app.session(login).await;
        let before = app.audit_len().await;
        assert_refused(&app.get_page(&path, Some(&cookie)).await, StatusCode::FORBIDDEN);
        assert_eq!(app.audit_len().await, before, "{login}: a refused read is not on the trail");
    }
    let api = Api::new(app);
    for actor in [&app.partner, &app.admin, &app.auditor] {
        let token = app.token(actor).await;
        api.refused(Method::GET, &format!("/api/v1{path}"), Some(&token), None, StatusCode::FORBIDDEN, None).await;
    }
    // Nobody there: nothing read, nothing written.
    let (cookie, _) = app.session("sw1").await;
    let before = app.audit_len().await;
    assert_refused(&app.get_page("/people/9999", Some(&cookie)).await, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_len().await, before);
    assert_chain_verifies(app).await;
});

app_test!(searches_and_exports_are_on_the_trail, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let (cookie, _) = app.session("sw1").await;

    // The empty search form shows no one and is not a search.
    let before = app.audit_len().await;
    assert_page(&app.get_page("/people", Some(&cookie)).await, "Find a person");
    assert_eq!(app.audit_len().await, before);

    let found = get_from(app, "/people?q=alfie+scott", &cookie, "198.51.100.4").await;
    assert!(found.body.contains("1 result for"));
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1);
    assert_eq!((added[0].action.as_str(), added[0].subject.as_str()), ("people.search", "people"));
    let ev = event(&added[0]);
    assert_eq!(ev["type"], "people_searched");
    assert_eq!(ev["query"], "alfie scott");
    assert_eq!(ev["found"], json!([child.0]));
    assert_eq!(ev["read"]["from"], "198.51.100.4");

    // A search finding no one is on the trail too: what was looked for matters.
    let before = app.audit_len().await;
    app.get_page("/people?q=Nobody", Some(&cookie)).await;
    let added = added_since(app, before).await;
    assert_eq!((event(&added[0])["query"].clone(), event(&added[0])["found"].clone()), (json!("Nobody"), json!([])));

    // Through the API: the search, and the fields of a match.
    let api = Api::new(app);
    let token = app.token(&app.sw).await;
    let before = app.audit_len().await;
    assert_eq!(api.get_ok("/api/v1/people?q=Scott", &token).await.as_array().unwrap().len(), 1);
    let body = json!({"given_name": "Alfie", "family_name": "Scott", "dob": "2014-01-01"});
    let r = api.call(Method::POST, "/api/v1/people/match", Some(&token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 2, "one entry per search");
    assert_eq!(event(&added[0])["query"], "Scott");
    assert_eq!(event(&added[0])["read"]["via"], "api");
    assert_eq!(added[1].action, "people.search");
    assert_eq!(event(&added[1])["query"], "given_name=Alfie; family_name=Scott; dob=2014-01-01");
    assert_eq!(event(&added[1])["found"], json!([child.0]));

    // A refused search writes nothing.
    let (partner, _) = app.session("pc1").await;
    let before = app.audit_len().await;
    assert_refused(&app.get_page("/people?q=Alfie", Some(&partner)).await, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    // The caseload export: one entry saying what left the service, and how many rows.
    let (manager, _) = app.session("tm1").await;
    let before = app.audit_len().await;
    let csv = get_from(app, &format!("/caseloads.csv?team={}", app.team.0), &manager, "192.0.2.1").await;
    assert_eq!(csv.status, StatusCode::OK);
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1);
    assert_eq!((added[0].action.as_str(), added[0].subject.clone()), ("data.export", format!("team:{}", app.team.0)));
    let ev = event(&added[0]);
    assert_eq!(ev["type"], "data_exported");
    assert!(ev["what"].as_str().unwrap().starts_with("caseloads of North"), "{ev}");
    assert_eq!(ev["rows"], 2, "sw1 and sw2");
    assert_eq!(ev["read"]["from"], "192.0.2.1");
    // Refused for a social worker, and nothing written.
    let before = app.audit_len().await;
    assert_refused(&app.get_page("/caseloads.csv", Some(&cookie)).await, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
    assert_chain_verifies(app).await;
});

app_test!(the_access_page_lists_who_viewed_found_and_changed_the_record, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let (sw, _) = app.session("sw1").await;
    get_from(app, "/people?q=Alfie", &sw, "198.51.100.4").await;
    get_from(app, &format!("/people/{}", child.0), &sw, "203.0.113.9").await;

    // A manager reaches it from the record; a social worker is not offered it.
    let (tm, _) = app.session("tm1").await;
    let link = format!("href=\"/people/{}/access\"", child.0);
    assert!(app.get_page(&format!("/people/{}", child.0), Some(&tm)).await.body.contains(&link));
    assert!(!app.get_page(&format!("/people/{}", child.0), Some(&sw)).await.body.contains(&link));

    let before = app.audit_len().await;
    let page = get_from(app, &format!("/people/{}/access", child.0), &tm, "192.0.2.1").await;
    assert_page(&page, "Who has seen Alfie Scott’s record");
    assert!(page.body.contains("Your visit to this page is recorded"));
    let table = &page.body[page.body.find("id=\"access\"").unwrap()..];
    // Newest first: the manager's own view of the record, then sw1's, then the search.
    let tm_view = table.find("TM1 Person").unwrap();
    let sw_view = table.find("Viewed the record on a page</td>\n    <td>203.0.113.9").unwrap();
    let search = table.find("Found in a search").unwrap();
    let created = table.find("Changed: referral.create").unwrap();
    assert!(tm_view < sw_view && sw_view < search && search < created, "newest first:\n{table}");
    assert!(table.contains("SW1 Person<br><span class=\"secondary-text\">Social worker</span>"));
    assert!(table.contains("searched for ‘Alfie’"));
    assert!(table.contains("203.0.113.9 (Mozilla/5.0"), "the address and the browser");
    // Looking was itself a read of the person, and is on the trail.
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1);
    assert_eq!(
        (added[0].action.as_str(), added[0].subject.clone()),
        ("person.view_access", format!("person:{}", child.0))
    );
    assert_eq!(event(&added[0])["read"]["from"], "192.0.2.1");

    // The API says the same, and the next look lists the one before.
    let token = app.token(&app.sm).await;
    let before = app.audit_len().await;
    let a = Api::new(app).get_ok(&format!("/api/v1/people/{}/access", child.0), &token).await;
    assert_eq!(app.audit_len().await, before + 1);
    assert_eq!(a["name"], "Alfie Scott");
    assert_eq!(a["reference"], format!("P-{}", child.0));
    let entries = a["entries"].as_array().unwrap();
    assert_eq!(entries[0]["kind"], "access_viewed");
    assert_eq!(entries[0]["staff"]["name"], "TM1 Person");
    assert_eq!(entries[0]["staff"]["role"], "team_manager");
    let sw_reads: Vec<_> =
        entries.iter().filter(|e| e["staff"]["name"] == "SW1 Person" && e["kind"] == "viewed").collect();
    assert_eq!(sw_reads.len(), 2, "each opening of the record");
    assert_eq!((sw_reads[1]["via"].clone(), sw_reads[1]["from"].clone()), (json!("page"), json!("203.0.113.9")));
    assert_eq!(sw_reads[0]["from"], "unknown", "no proxy header and no peer address");
    let found = entries.iter().find(|e| e["kind"] == "found").unwrap();
    assert_eq!(found["query"], "Alfie");
    assert!(entries.iter().any(|e| e["kind"] == "changed" && e["action"] == "referral.create"));
    assert_chain_verifies(app).await;
});

app_test!(only_managers_and_the_auditor_see_who_has_seen_a_record, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let path = format!("/people/{}/access", child.0);
    for login in ["sw1", "pc1", "admin"] {
        let (cookie, _) = app.session(login).await;
        let before = app.audit_len().await;
        assert_refused(&app.get_page(&path, Some(&cookie)).await, StatusCode::FORBIDDEN);
        assert_eq!(app.audit_len().await, before, "{login}: refused, and nothing written");
    }
    let api = Api::new(app);
    for actor in [&app.sw, &app.partner, &app.admin] {
        let token = app.token(actor).await;
        api.refused(Method::GET, &format!("/api/v1{path}"), Some(&token), None, StatusCode::FORBIDDEN, None).await;
    }
    assert_sign_in(&app.get_page(&path, None).await);

    // The auditor sees who looked, but is never offered the record itself.
    let (sw, _) = app.session("sw1").await;
    app.get_page(&format!("/people/{}", child.0), Some(&sw)).await;
    let (aud, _) = app.session("aud1").await;
    let page = app.get_page(&path, Some(&aud)).await;
    assert_page(&page, "Who has seen Alfie Scott’s record");
    assert!(page.body.contains("SW1 Person"));
    assert!(!page.body.contains(&format!("href=\"/people/{}\"", child.0)), "no link to the record");
    assert!(page.body.contains("href=\"/audit\""));
    let token = app.token(&app.auditor).await;
    let a = api.get_ok(&format!("/api/v1{path}"), &token).await;
    assert!(a["entries"].as_array().unwrap().iter().any(|e| e["staff"]["role"] == "social_worker"));
    assert_chain_verifies(app).await;
});

app_test!(the_auditor_finds_a_record_by_its_reference, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let (sw, _) = app.session("sw1").await;
    app.get_page(&format!("/people/{}", child.0), Some(&sw)).await;

    let (aud, _) = app.session("aud1").await;
    assert_redirect(&app.get_page("/", Some(&aud)).await, "/audit");
    let before = app.audit_len().await;
    let page = app.get_page("/audit", Some(&aud)).await;
    assert_page(&page, "Audit trail");
    assert!(page.body.contains("<a href=\"/audit\" class=\"nav__link\" aria-current=\"page\">Audit trail</a>"));
    assert!(!page.body.contains("href=\"/people\""), "no way to search children");
    // Recent reads: who opened which record, linking to its access page.
    assert!(page.body.contains("SW1 Person (Social worker)"));
    assert!(page.body.contains(&format!("<a href=\"/people/{}/access\">P-{}</a>", child.0, child.0)));
    assert_eq!(app.audit_len().await, before, "the list of recent reads shows no child's details");

    for typed in [format!("P-{}", child.0), format!("p-{}", child.0), format!(" {} ", child.0)] {
        let r = app.get_page(&format!("/audit?person={}", web::pages::urlencode(&typed)), Some(&aud)).await;
        assert_redirect(&r, &format!("/people/{}/access", child.0));
    }
    let wrong = app.get_page("/audit?person=Alfie", Some(&aud)).await;
    assert_invalid(&wrong, "person", "enter a person’s reference, such as P-12");

    // Nobody else has the auditor's page (managers reach a record's access from the record).
    for login in ["sw1", "pc1", "admin"] {
        let (cookie, _) = app.session(login).await;
        assert_refused(&app.get_page("/audit", Some(&cookie)).await, StatusCode::FORBIDDEN);
    }
    let (tm, _) = app.session("tm1").await;
    assert_page(&app.get_page("/audit", Some(&tm)).await, "Audit trail");
    assert!(
        !app.get_page("/my-work", Some(&tm)).await.body.contains("href=\"/audit\""),
        "not in a manager's navigation"
    );
    assert_chain_verifies(app).await;
});

app_test!(reading_a_referral_a_case_and_a_childs_flags_deadlines_and_escalations_is_on_the_trail, |app| async move {
    let (case, child) = open_case(app, "Alfie").await;
    let token = app.token(&app.tm).await;
    let referral = app.svc.child_record(&app.tm, child).await.unwrap().referrals[0].id;
    for path in [
        format!("/api/v1/referrals/{}", referral.0),
        format!("/api/v1/cases/{}", case.0),
        format!("/api/v1/people/{}/flags", child.0),
        format!("/api/v1/people/{}/due", child.0),
        format!("/api/v1/people/{}/escalations", child.0),
    ] {
        let before = app.audit_len().await;
        let r = api_support::checked(app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let added = added_since(app, before).await;
        assert_eq!(added.len(), 1, "{path}: {added:?}");
        assert_eq!(added[0].subject, child.subject(), "{path}");
        assert_eq!(event(&added[0])["type"], "record_viewed", "{path}");
        assert_eq!(event(&added[0])["read"]["via"], "api", "{path}");
    }
    // A partner may not read them, and nothing is written.
    let partner = app.token(&app.partner).await;
    let before = app.audit_len().await;
    let r = api_support::checked(app, Method::GET, &format!("/api/v1/cases/{}", case.0), Some(&partner), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
    assert_chain_verifies(app).await;
});

app_test!(reading_an_escalation_about_a_child_is_a_read_of_their_record, |app| async move {
    let (_, child, escalation) = cp_child_not_seen(app, "Alfie").await;
    let token = app.token(&app.tm).await;
    let before = app.audit_len().await;
    let r =
        api_support::checked(app, Method::GET, &format!("/api/v1/escalations/{}", escalation.0), Some(&token), None)
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0].subject, child.subject());
    assert_eq!(event(&added[0])["type"], "record_viewed");
    let (cookie, _) = app.session("tm1").await;
    let before = app.audit_len().await;
    let page = app.get_page(&format!("/escalations/{}", escalation.0), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let added = added_since(app, before).await;
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(event(&added[0])["read"]["via"], "page");
    assert_chain_verifies(app).await;
});
