//! Finding a person and reading a child's record.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use pages_common::*;

app_test!(finding_a_person, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let (cookie, _) = app.session("sw1").await;
    let empty = app.get_page("/people", Some(&cookie)).await;
    assert_page(&empty, "Find a person");
    assert!(empty.body.contains("id=\"q\" name=\"q\""));
    let found = app.get_page("/people?q=alfie+scott", Some(&cookie)).await;
    assert_page(&found, "Find a person");
    assert!(found.body.contains("1 result for"));
    assert!(found.body.contains(&format!("<a href=\"/people/{}\">Alfie Scott</a>", child.0)));
    assert!(found.body.contains("1 Jan 2014"));
    let none = app.get_page("/people?q=Nobody", Some(&cookie)).await;
    assert!(none.body.contains("0 results for") && none.body.contains("No one matches"));
    for login in ["pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/people?q=Alfie", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/people?q=Alfie", None).await);
});

app_test!(a_childs_record, |app| async move {
    let mut input = referral_input(app, "Alfie");
    input.children[0].details.nhs_number = Some("9434765919".into());
    input.children[0].details.dob_precision = Some("estimated".into());
    let r = app.svc.create_referral(&app.sw, &input).await.unwrap();
    let child = app.svc.referral(&app.sw, r).await.unwrap().children[0].id;
    let parent = app
        .svc
        .register_person(
            &app.sw,
            &domain::person::PersonInput {
                kind: Some("adult".into()),
                given_name: "Jane".into(),
                family_name: "Scott".into(),
                dob_precision: Some("unknown".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.svc
        .add_relationship(
            &app.sw,
            parent,
            &commands::people::RelationshipInput { related: Some(child.0), kind: "parent".into() },
        )
        .await
        .unwrap();
    app.svc
        .add_alias(
            &app.sw,
            child,
            &commands::people::AliasInput { given_name: "Alfie".into(), family_name: "Smith".into() },
        )
        .await
        .unwrap();
    app.svc
        .add_address(
            &app.sw,
            child,
            &domain::person::AddressInput {
                line: "1 Hill Road".into(),
                town: Some("Leeds".into()),
                postcode: Some("ls1 1aa".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let (cookie, _) = app.session("sw1").await;
    let page = app.get_page(&format!("/people/{}", child.0), Some(&cookie)).await;
    assert_page(&page, "Alfie Scott");
    assert!(page.body.contains("943 476 5919"), "NHS number 3-3-4");
    assert!(page.body.contains("1 Jan 2014 (estimated)"));
    assert!(page.body.contains("Alfie Smith"), "alias");
    assert!(page.body.contains("1 Hill Road, Leeds, LS1 1AA"));
    assert!(
        page.body.contains(&format!("<a href=\"/people/{}\">Jane Scott</a>: Jane Scott is parent of Alfie", parent.0))
    );
    assert!(page.body.contains(&format!("href=\"/referrals/new?person={}\"", child.0)));
    assert!(page.body.contains(&r.reference()));
    assert!(page.body.contains("There is no open case"));
    // The parent's record links back.
    let theirs = app.get_page(&format!("/people/{}", parent.0), Some(&cookie)).await;
    assert_page(&theirs, "Jane Scott");
    assert!(theirs.body.contains(&format!("<a href=\"/people/{}\">Alfie Scott</a>", child.0)));

    for login in ["pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page(&format!("/people/{}", child.0), Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page(&format!("/people/{}", child.0), None).await);
    assert_refused(&app.get_page("/people/999", Some(&cookie)).await, StatusCode::NOT_FOUND);
    assert_refused(&app.get_page("/people/abc", Some(&cookie)).await, StatusCode::NOT_FOUND);
});

app_test!(the_record_offers_what_each_person_may_do, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let path = format!("/people/{}", child.0);
    let visit = format!("href=\"/cases/{}/visits/new\"", case.0);
    let allocate = format!("href=\"/cases/{}/allocate\"", case.0);
    let note = format!("action=\"/cases/{}/notes\"", case.0);
    let close = format!("action=\"/cases/{}/close\"", case.0);

    let (c, _) = app.session("sw1").await;
    let page = app.get_page(&path, Some(&c)).await;
    assert!(page.body.contains(&visit) && page.body.contains(&note));
    assert!(!page.body.contains(&allocate) && !page.body.contains(&close));
    assert!(page.body.contains("SW1 Person (since"));

    let (c, _) = app.session("sw2").await;
    let page = app.get_page(&path, Some(&c)).await;
    assert!(!page.body.contains(&visit), "not the allocated worker");
    assert!(page.body.contains(&note));

    let (c, _) = app.session("tm1").await;
    let page = app.get_page(&path, Some(&c)).await;
    for want in [&visit, &allocate, &note, &close] {
        assert!(page.body.contains(want.as_str()), "manager sees {want}");
    }
});
