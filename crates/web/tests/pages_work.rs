//! "My work" and the unallocated cases.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use jiff::SignedDuration;
use pages_common::*;

app_test!(a_social_workers_caseload, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let (cookie, _) = app.session("sw1").await;
    let page = app.get_page("/my-work", Some(&cookie)).await;
    assert_page(&page, "My work");
    assert!(page.body.contains(&format!("<a href=\"/people/{}\">Alfie Scott</a>", child.0)));
    assert!(page.body.contains(&format!("href=\"/cases/{}/visits/new\"", case.0)));
    assert!(page.body.contains("Not seen yet"));
    assert!(!page.body.contains("Referrals waiting for a decision"), "not a manager's page");

    // Seen, then not seen for 29 days: flagged.
    app.svc
        .record_visit(
            &app.sw,
            case,
            &commands::input::VisitInput { visited_at: None, outcome: "seen".into(), note: None },
        )
        .await
        .unwrap();
    let page = app.get_page("/my-work", Some(&cookie)).await;
    assert!(!page.body.contains("tag--red"));
    app.clock.advance(SignedDuration::from_hours(29 * 24));
    let (cookie, _) = app.session("sw1").await;
    let page = app.get_page("/my-work", Some(&cookie)).await;
    assert!(page.body.contains("<strong class=\"tag tag--red\">29 days</strong>"), "{}", page.body);

    let (c, _) = app.session("sw2").await;
    let page = app.get_page("/my-work", Some(&c)).await;
    assert!(page.body.contains("You have no cases allocated to you"));
    for login in ["pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/my-work", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/my-work", None).await);
});

app_test!(a_managers_work, |app| async move {
    let (older, _) = referral(app, "Older").await;
    app.clock.advance(SignedDuration::from_hours(3));
    let (newer, _) = referral(app, "Newer").await;
    let (case, _) = open_case(app, "Unallocated").await;
    let (cookie, _) = app.session("tm1").await;
    let page = app.get_page("/my-work", Some(&cookie)).await;
    assert_page(&page, "My work");
    let (a, b) = (
        page.body.find(&format!(">{}<", older.reference())).unwrap(),
        page.body.find(&format!(">{}<", newer.reference())).unwrap(),
    );
    assert!(a < b, "oldest first");
    assert!(page.body.contains("3 hours"), "how long it has waited");
    assert!(page.body.contains(&format!("href=\"/referrals/{}/decide\"", older.0)));
    assert!(page.body.contains("1 open case with no allocated worker"));

    let list = app.get_page("/cases/unallocated", Some(&cookie)).await;
    assert_page(&list, "Unallocated cases");
    assert!(list.body.contains(&format!("href=\"/cases/{}/allocate\"", case.0)));
    assert!(list.body.contains("Unallocated Scott"));
    for login in ["sw1", "pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/cases/unallocated", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/cases/unallocated", None).await);
});
