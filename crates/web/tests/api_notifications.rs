//! Notification choices, partner webhooks and the outbox through the API and pages: who
//! may do what, refusals that name the field and change nothing, and the outbox on
//! `/metrics`.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, referral_body};
use axum::http::{Method, StatusCode};
use serde_json::json;

const SECRET: &str = "police-control-room-shared-secret-0123456789";

app_test!(contact_choices_webhooks_and_the_outbox, |app| async move {
    let api = Api::new(app);
    let (tm, sw, admin) = (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.admin).await);

    // Everyone has an inbox; email until an address is given is nothing.
    let mine = api.get_ok("/api/v1/my/contact", &sw).await;
    assert_eq!(mine, json!({"email": null, "email_notifications": true, "inbox": true}));
    api.refused(
        Method::PUT,
        "/api/v1/my/contact",
        Some(&sw),
        Some(json!({"email": "not an address"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("email"),
    )
    .await;
    let set = api
        .command(Method::PUT, "/api/v1/my/contact", &tm, json!({"email": "TM1@Council.GOV.uk"}), StatusCode::OK)
        .await;
    assert_eq!(set["email"], "TM1@council.gov.uk");

    // Someone else's choices: administrators only.
    let theirs = format!("/api/v1/staff/{}/contact", app.tm.staff.0);
    let off = json!({"email": "tm1@council.gov.uk", "email_notifications": false});
    api.refused(Method::PUT, &theirs, Some(&sw), Some(off.clone()), StatusCode::FORBIDDEN, None).await;
    let set = api.command(Method::PUT, &theirs, &admin, off, StatusCode::OK).await;
    assert_eq!(set["email_notifications"], false);
    let on = json!({"email": "tm1@council.gov.uk", "email_notifications": true});
    api.command(Method::PUT, &theirs, &admin, on, StatusCode::OK).await;

    // Webhooks and the outbox: administrators only; the secret is never shown.
    for who in [&tm, &sw] {
        api.refused(Method::GET, "/api/v1/deliveries", Some(who), None, StatusCode::FORBIDDEN, None).await;
        api.refused(Method::GET, "/api/v1/webhooks", Some(who), None, StatusCode::FORBIDDEN, None).await;
    }
    api.refused(
        Method::PUT,
        "/api/v1/webhooks/police",
        Some(&admin),
        Some(json!({"url": "http://police.example/hooks", "secret": "short"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("secret"),
    )
    .await;
    let body = json!({"url": "https://control-room.police.example/safeguard", "secret": SECRET});
    let hook = api.command(Method::PUT, "/api/v1/webhooks/police", &admin, body, StatusCode::OK).await;
    assert_eq!(hook, json!({"agency": "police", "url": "https://control-room.police.example/safeguard"}));
    let listed = api.get("/api/v1/webhooks", &admin).await;
    assert!(!listed.body.contains(SECRET));

    // An undecided referral escalates to the team manager: inbox at once, and an email in
    // the outbox (no mail server in this test), counted on /metrics.
    api.command(Method::POST, "/api/v1/referrals", &tm, referral_body(app.team.0), StatusCode::CREATED).await;
    app.clock.set("2026-03-03T10:00:00Z".parse().unwrap());
    app.svc.sweep().await.unwrap();
    let pending = api.get_ok("/api/v1/deliveries?state=pending", &admin).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["channel"], "email");
    assert_eq!(pending[0]["recipient"], "tm1@council.gov.uk");
    assert_eq!(pending[0]["kind"], "escalation");
    api.refused(
        Method::GET,
        "/api/v1/deliveries?state=lost",
        Some(&admin),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("state"),
    )
    .await;
    app.clock.set("2026-03-03T10:30:00Z".parse().unwrap());
    let page = app.api(Method::GET, "/metrics", Some(&admin), None).await.body;
    assert!(page.contains("safeguard_outbox_pending{channel=\"email\"} 1"), "{page}");
    assert!(page.contains("safeguard_outbox_pending{channel=\"webhook\"} 0"), "{page}");
    assert!(page.contains("safeguard_outbox_oldest_age_seconds 1800"), "queued at 10:00, read at 10:30:\n{page}");
    assert!(page.contains("safeguard_deliveries_failed{channel=\"email\"} 0"), "{page}");

    // The administrators' page lists it; nobody else reaches that page.
    let (admin_cookie, _) = app.session("admin").await;
    let outbox = app.get_page("/admin/deliveries", Some(&admin_cookie)).await;
    assert_eq!(outbox.status, StatusCode::OK);
    assert!(outbox.body.contains("tm1@council.gov.uk") && outbox.body.contains("control-room.police.example"));
    assert!(!outbox.body.contains(SECRET));
    let (tm_cookie, tm_csrf) = app.session("tm1").await;
    assert_eq!(app.get_page("/admin/deliveries", Some(&tm_cookie)).await.status, StatusCode::FORBIDDEN);

    // A person sets their own email on their page; a bad address is shown beside the field.
    let me = format!("/staff/{}/contact", app.tm.staff.0);
    let bad = app
        .post_form(&me, Some(&tm_cookie), &[("csrf", &tm_csrf), ("email", "nope"), ("email_notifications", "on")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"email-error\""), "{}", bad.body);
    let ok = app.post_form(&me, Some(&tm_cookie), &[("csrf", &tm_csrf), ("email", "tm.one@council.gov.uk")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let now = api.get_ok("/api/v1/my/contact", &tm).await;
    assert_eq!(now, json!({"email": "tm.one@council.gov.uk", "email_notifications": false, "inbox": true}));
});
