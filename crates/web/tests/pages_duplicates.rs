//! People recorded twice: the engine fills the review queue, a manager merges (moving
//! every record onto the one kept), undoes the merge (moving exactly that back) or marks
//! "not the same person"; every decision is on the trail, and nobody else can make it.
#![allow(clippy::unwrap_used)]

mod api_support;
mod pages_common;
mod support;

use axum::http::{Method, StatusCode};
use commands::Caller;
use domain::ids::{CaseId, DuplicatePairId, PersonId};
use pages_common::*;

/// Alfred Scott as the school recorded him, with an address and another name.
async fn alfred(app: &support::TestApp) -> PersonId {
    let input = domain::person::PersonInput {
        given_name: "Alfred".into(),
        family_name: "Scott".into(),
        dob: Some("2011-03-04".into()),
        sex: Some("male".into()),
        ..Default::default()
    };
    let id = app.svc.register_person(&app.tm, &input).await.unwrap();
    let address = domain::person::AddressInput {
        line: "12 Mill Lane".into(),
        town: Some("Leeds".into()),
        postcode: Some("LS1 4AB".into()),
        ..Default::default()
    };
    app.svc.add_address(&app.tm, id, &address).await.unwrap();
    id
}

/// The police's referral about "Alfie Scot", recorded as typed (a new person), decided
/// for assessment and allocated, with a visit and a mother recorded: an open case on the
/// duplicate record.
async fn alfie_with_a_case(app: &support::TestApp) -> (PersonId, CaseId, PersonId) {
    let input: commands::input::ReferralInput = serde_json::from_value(serde_json::json!({
        "team": app.team.0, "source": "police", "concern": "Found alone at night",
        "categories": ["neglect"],
        "children": [{"given_name": "Alfie", "family_name": "Scot", "dob": "2011-03-04", "sex": "male"}]
    }))
    .unwrap();
    let r = app.svc.create_referral(&app.partner, &input).await.unwrap();
    let child = app.svc.referral(&app.tm, r).await.unwrap().children[0].id;
    let out = app
        .svc
        .decide_referral(
            &app.tm,
            r,
            &commands::input::DecisionInput { decision: "assessment".into(), reason: "needs assessing".into() },
        )
        .await
        .unwrap();
    let case = out.opened[0];
    app.svc
        .allocate(
            &app.tm,
            case,
            &commands::input::AllocationInput { worker: Some(app.sw.staff.0), override_reason: None },
        )
        .await
        .unwrap();
    app.svc
        .record_visit(
            &app.sw,
            case,
            &commands::input::VisitInput {
                visited_at: None,
                outcome: "seen".into(),
                note: Some("Seen at home".into()),
            },
        )
        .await
        .unwrap();
    let mother = domain::person::PersonInput {
        given_name: "Dawn".into(),
        family_name: "Scot".into(),
        kind: Some("adult".into()),
        dob: Some("1990-05-05".into()),
        sex: Some("female".into()),
        ..Default::default()
    };
    let mother = app.svc.register_person(&app.tm, &mother).await.unwrap();
    let rel = commands::people::RelationshipInput { related: Some(child.0), kind: "parent".into() };
    app.svc.add_relationship(&app.tm, mother, &rel).await.unwrap();
    (child, case, mother)
}

/// The open pair between `a` and `b`, after asking the engine to look.
async fn queued_pair(app: &support::TestApp, a: PersonId, b: PersonId) -> DuplicatePairId {
    let found = app.svc.find_duplicates(Caller::Staff(&app.tm), None).await.unwrap();
    assert!(found.added >= 1, "{found:?}");
    let queue = app.svc.review_queue(&app.tm, "open", 100).await.unwrap();
    let pair = queue
        .iter()
        .find(|p| (p.pair.person_a, p.pair.person_b) == (a.min(b), a.max(b)))
        .unwrap_or_else(|| panic!("{a:?} and {b:?} queued: {queue:?}"));
    assert!(pair.pair.probability >= 0.5, "{pair:?}");
    assert!(pair.pair.evidence.contains("first name: nickname"), "{}", pair.pair.evidence);
    pair.pair.id
}

app_test!(a_merge_moves_everything_and_an_unmerge_moves_exactly_it_back, |app| async move {
    let alfred = alfred(app).await;
    let (alfie, case, mother) = alfie_with_a_case(app).await;
    let pair = queued_pair(app, alfred, alfie).await;
    // Found once: asking again adds nothing.
    let again = app.svc.find_duplicates(Caller::System("test"), None).await.unwrap();
    assert_eq!(again.added, 0, "{again:?}");

    let tm = app.token(&app.tm).await;
    let before = app.audit_len().await;
    let r = api_support::checked(
        app,
        Method::POST,
        &format!("/api/v1/duplicates/{}/merge", pair.0),
        Some(&tm),
        Some(serde_json::json!({"keep": alfred.0})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "merged");
    assert_eq!(r.json()["kept"], alfred.0);
    assert_eq!(app.audit_len().await, before + 1, "one entry on the trail");
    let entry = store::query::audit_entries(&app.store, before + 1, 1).await.unwrap().remove(0);
    assert_eq!(entry.action, "person.merge");
    assert!(entry.entry.contains(&format!("\"cases\":[{}]", case.0)), "what moved is on the trail: {}", entry.entry);

    // Everything about Alfie is now on Alfred's record.
    let rec = app.svc.child_record(&app.tm, alfred).await.unwrap();
    assert_eq!(rec.cases.iter().map(|c| c.id).collect::<Vec<_>>(), vec![case]);
    assert_eq!(rec.referrals.len(), 1);
    assert_eq!(rec.visits.len(), 1);
    assert_eq!(rec.addresses.len(), 1, "his own address stays");
    assert!(rec.relationships.iter().any(|r| r.other.id == mother), "{:?}", rec.relationships);
    assert_eq!(app.svc.person(&app.tm, alfie).await.unwrap().merged_into, Some(alfred));
    let alfie_rec = app.svc.child_record(&app.tm, alfie).await.unwrap();
    assert!(alfie_rec.cases.is_empty() && alfie_rec.referrals.is_empty() && alfie_rec.relationships.is_empty());
    // Looking Alfie up offers Alfred once, never the merged record.
    let ask = commands::matching::MatchInput {
        given_name: "Alfie".into(),
        family_name: "Scot".into(),
        dob: "4/3/2011".into(),
        ..Default::default()
    };
    let offered = app.svc.match_people(&app.sw, &ask, 5).await.unwrap();
    assert_eq!(offered.iter().filter(|m| m.person.id == alfred).count(), 1, "{offered:?}");
    assert!(offered.iter().all(|m| m.person.id != alfie), "{offered:?}");
    // A merged record is not offered as a duplicate again.
    assert_eq!(app.svc.find_duplicates(Caller::System("test"), None).await.unwrap().added, 0);

    // A note on the moved case after the merge goes back with the case; another name
    // recorded for Alfred after the merge stays his.
    app.svc
        .add_case_note(&app.sw, case, &commands::cases::NoteInput { text: "Spoke to school".into() })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let alias = commands::people::AliasInput { given_name: "Alf".into(), family_name: "Scott".into() };
    app.svc.add_alias(&app.tm, alfred, &alias).await.unwrap();
    let r = api_support::checked(
        app,
        Method::POST,
        &format!("/api/v1/duplicates/{}/unmerge", pair.0),
        Some(&tm),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "open");
    let rec = app.svc.child_record(&app.tm, alfred).await.unwrap();
    assert!(rec.cases.is_empty() && rec.referrals.is_empty() && rec.visits.is_empty(), "{rec:?}");
    assert_eq!(rec.addresses.len(), 1);
    assert_eq!(rec.aliases.len(), 1, "recorded on him after the merge");
    let alfie_rec = app.svc.child_record(&app.tm, alfie).await.unwrap();
    assert_eq!(alfie_rec.cases.iter().map(|c| c.id).collect::<Vec<_>>(), vec![case]);
    assert_eq!(alfie_rec.referrals.len(), 1);
    assert_eq!(alfie_rec.visits.len(), 1);
    assert_eq!(alfie_rec.notes.len(), 1, "the case's notes go with the case");
    assert!(alfie_rec.relationships.iter().any(|r| r.other.id == mother));
    assert_eq!(alfie_rec.person.merged_into, None);
    assert_eq!(store::query::audit_entries(&app.store, before + 4, 1).await.unwrap()[0].action, "person.unmerge");

    // Then: two people after all. The pair leaves the queue and cannot be merged.
    let r = api_support::checked(
        app,
        Method::POST,
        &format!("/api/v1/duplicates/{}/distinct", pair.0),
        Some(&tm),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(app.svc.review_queue(&app.tm, "open", 100).await.unwrap().iter().all(|p| p.pair.id != pair));
    let r = api_support::checked(
        app,
        Method::POST,
        &format!("/api/v1/duplicates/{}/merge", pair.0),
        Some(&tm),
        Some(serde_json::json!({"keep": alfred.0})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(app.svc.find_duplicates(Caller::System("test"), None).await.unwrap().added, 0, "never offered again");
    assert!(store::trail::verify_entries(&app.store).await.unwrap().is_ok());
});

app_test!(two_open_cases_or_a_wrong_choice_change_nothing, |app| async move {
    let alfred = alfred(app).await;
    let (alfie, _, _) = alfie_with_a_case(app).await;
    let pair = queued_pair(app, alfred, alfie).await;
    // Alfred gets an open case of his own.
    let input: commands::input::ReferralInput = serde_json::from_value(serde_json::json!({
        "team": app.team.0, "source": "school", "concern": "Hungry every morning", "categories": ["neglect"],
        "children": [{"person_id": alfred.0}]
    }))
    .unwrap();
    let r = app.svc.create_referral(&app.sw, &input).await.unwrap();
    app.svc
        .decide_referral(
            &app.tm,
            r,
            &commands::input::DecisionInput { decision: "assessment".into(), reason: "needs assessing".into() },
        )
        .await
        .unwrap();
    let tm = app.token(&app.tm).await;
    let before = app.audit_len().await;
    let path = format!("/api/v1/duplicates/{}/merge", pair.0);
    let r =
        api_support::checked(app, Method::POST, &path, Some(&tm), Some(serde_json::json!({"keep": alfred.0}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["field"], "keep", "{}", r.body);
    assert!(r.body.contains("both records have an open case"), "{}", r.body);
    let r = api_support::checked(app, Method::POST, &path, Some(&tm), Some(serde_json::json!({"keep": 999}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["field"], "keep");
    let r = api_support::checked(app, Method::POST, &path, Some(&tm), Some(serde_json::json!({}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(app.audit_len().await, before, "nothing written");
    assert_eq!(app.svc.person(&app.tm, alfie).await.unwrap().merged_into, None);
    // The page says the same beside the choice.
    let (cookie, csrf) = app.session("tm1").await;
    let before = app.audit_len().await;
    let page = format!("/duplicates/{}/merge", pair.0);
    let r = app.post_form(&page, Some(&cookie), &[("csrf", &csrf), ("keep", &alfred.0.to_string())]).await;
    assert_invalid(&r, "keep", "both records have an open case");
    let r = app.post_form(&page, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_invalid(&r, "keep", "choose which record to keep");
    assert_eq!(app.audit_len().await, before);
});

app_test!(only_managers_review_duplicates, |app| async move {
    let alfred = alfred(app).await;
    let (alfie, _, _) = alfie_with_a_case(app).await;
    let pair = queued_pair(app, alfred, alfie).await;
    for who in [&app.sw, &app.partner, &app.admin] {
        let token = app.token(who).await;
        let r = api_support::checked(app, Method::GET, "/api/v1/duplicates", Some(&token), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}: {}", who.role, r.body);
        let r = api_support::checked(
            app,
            Method::POST,
            "/api/v1/duplicates/search",
            Some(&token),
            Some(serde_json::json!({})),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", who.role);
        let r = api_support::checked(
            app,
            Method::POST,
            &format!("/api/v1/duplicates/{}/merge", pair.0),
            Some(&token),
            Some(serde_json::json!({"keep": alfred.0})),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", who.role);
        for action in ["unmerge", "distinct"] {
            let r = api_support::checked(
                app,
                Method::POST,
                &format!("/api/v1/duplicates/{}/{action}", pair.0),
                Some(&token),
                Some(serde_json::json!({})),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?} {action}", who.role);
        }
    }
    for login in ["sw1", "pc1", "admin"] {
        let (cookie, csrf) = app.session(login).await;
        assert_refused(&app.get_page("/duplicates", Some(&cookie)).await, StatusCode::FORBIDDEN);
        assert_refused(&app.get_page(&format!("/duplicates/{}", pair.0), Some(&cookie)).await, StatusCode::FORBIDDEN);
        let r = app
            .post_form(
                &format!("/duplicates/{}/merge", pair.0),
                Some(&cookie),
                &[("csrf", &csrf), ("keep", &alfred.0.to_string())],
            )
            .await;
        assert_refused(&r, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/duplicates", None).await);
    assert_eq!(app.svc.person(&app.tm, alfie).await.unwrap().merged_into, None);
});

app_test!(a_manager_merges_and_undoes_it_from_the_pages, |app| async move {
    let alfred = alfred(app).await;
    let (alfie, _, _) = alfie_with_a_case(app).await;
    let (cookie, csrf) = app.session("tm1").await;
    let r = app.get_page("/duplicates", Some(&cookie)).await;
    assert_page(&r, "People recorded twice");
    assert!(r.body.contains("href=\"/duplicates\""), "in the navigation");
    let r = app.post_form("/duplicates/find", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app.get_page(r.headers.get("location").unwrap().to_str().unwrap(), Some(&cookie)).await;
    assert!(r.body.contains("1 new pair found"), "{}", r.body);
    assert!(r.body.contains("Alfie Scot") && r.body.contains("Alfred Scott"), "{}", r.body);
    let pair = app.svc.review_queue(&app.tm, "open", 10).await.unwrap()[0].pair.id;
    let r = app.get_page(&format!("/duplicates/{}", pair.0), Some(&cookie)).await;
    assert_page(&r, "Are these one person?");
    assert!(r.body.contains("first name: nickname (Alfred ↔ Alfie)"), "the evidence");
    assert_form(&r, &format!("/duplicates/{}/merge", pair.0));
    assert_form(&r, &format!("/duplicates/{}/distinct", pair.0));
    let r = app
        .post_form(
            &format!("/duplicates/{}/merge", pair.0),
            Some(&cookie),
            &[("csrf", &csrf), ("keep", &alfred.0.to_string())],
        )
        .await;
    assert_redirect(&r, &format!("/duplicates/{}?done=merged", pair.0));
    let r = app.get_page(&format!("/people/{}", alfie.0), Some(&cookie)).await;
    assert!(r.body.contains("This record was merged into P-"), "the banner on the duplicate: {}", r.body);
    let r = app.get_page(&format!("/people/{}", alfred.0), Some(&cookie)).await;
    assert!(r.body.contains("was merged into this record"), "the banner on the record kept");
    let r = app.get_page(&format!("/duplicates/{}", pair.0), Some(&cookie)).await;
    assert_form(&r, &format!("/duplicates/{}/unmerge", pair.0));
    let r = app.post_form(&format!("/duplicates/{}/unmerge", pair.0), Some(&cookie), &[("csrf", &csrf)]).await;
    assert_redirect(&r, &format!("/duplicates/{}?done=unmerged", pair.0));
    assert_eq!(app.svc.person(&app.tm, alfie).await.unwrap().merged_into, None);
    // A form without the CSRF token changes nothing.
    let before = app.audit_len().await;
    let r = app.post_form(&format!("/duplicates/{}/distinct", pair.0), Some(&cookie), &[]).await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audit_len().await, before);
});

app_test!(a_parent_and_child_sharing_a_name_and_home_are_not_queued, |app| async move {
    let person = |given: &str, dob: &str, kind: &str| domain::person::PersonInput {
        kind: Some(kind.into()),
        given_name: given.into(),
        family_name: "Atkinson".into(),
        dob: Some(dob.into()),
        sex: Some("female".into()),
        ..Default::default()
    };
    let home = domain::person::AddressInput {
        line: "57 Bluebell Way".into(),
        town: Some("Elmsford".into()),
        postcode: Some("EF7 1BP".into()),
        ..Default::default()
    };
    let mother = app.svc.register_person(&app.tm, &person("Bianca", "1996-01-04", "adult")).await.unwrap();
    let daughter = app.svc.register_person(&app.tm, &person("Bianca", "2019-11-07", "child")).await.unwrap();
    for p in [mother, daughter] {
        app.svc.add_address(&app.tm, p, &home).await.unwrap();
    }
    // At a low enough threshold the engine alone pairs them (a store-trained model does at
    // its default, as in the demo)…
    let (rows, _) = store::query::people_for_matching(&app.store, Default::default()).await.unwrap();
    let pairs = commands::matching::duplicates_among(&rows, Some(0.0001), |_, _, _| {});
    assert!(pairs.iter().any(|p| (p.person_a, p.person_b) == (mother, daughter)), "{pairs:?}");
    // …but the record says she is her mother: never queued.
    let rel = commands::people::RelationshipInput { related: Some(daughter.0), kind: "parent".into() };
    app.svc.add_relationship(&app.tm, mother, &rel).await.unwrap();
    let found = app.svc.find_duplicates(Caller::Staff(&app.tm), Some(0.0001)).await.unwrap();
    assert_eq!(found.added, 0, "{found:?}");
    assert!(app.svc.review_queue(&app.tm, "open", 10).await.unwrap().is_empty());
});
