#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signing in through the pages.

mod support;

use axum::http::StatusCode;

app_test!(sign_in_page_sets_a_session_and_redirects, |app| async move {
    let page = app.get_page("/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = cookie.split('=').nth(1).unwrap().to_string();
    assert!(page.body.contains(&format!("value=\"{csrf}\"")));

    // Wrong password: the page again, with the error beside the field.
    let bad = app
        .post_form("/login", Some(&cookie), &[("login", "sw1"), ("password", "nope nope nope"), ("csrf", &csrf)])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("the login or password is not right"));
    assert!(bad.body.contains("href=\"#password\""));

    // Without the login-form cookie the form is refused.
    let forged =
        app.post_form("/login", None, &[("login", "sw1"), ("password", support::PASSWORD), ("csrf", &csrf)]).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);

    let before = app.audit_len().await;
    let ok = app
        .post_form(
            "/login",
            Some(&cookie),
            &[("login", "sw1"), ("password", support::PASSWORD), ("csrf", &csrf), ("next", "/my-work")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers.get("location").unwrap(), "/my-work");
    let set = ok.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with(web::SESSION_COOKIE)).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    assert_eq!(app.audit_len().await, before + 1, "signing in is on the trail");
});

app_test!(pages_need_a_session, |app| async move {
    let r = app.get_page("/?x=1", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers.get("location").unwrap(), "/login?next=/%3Fx%3D1");
});

app_test!(open_redirects_are_refused, |app| async move {
    let page = app.get_page("/login?next=//evil.example", None).await;
    assert!(page.body.contains("name=\"next\" value=\"/\""));
});
