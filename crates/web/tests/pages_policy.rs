//! The escalation policy page (administrators) and marking staff as away.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use pages_common::*;

app_test!(the_policy_in_force, |app| async move {
    let (admin, _) = app.session("admin").await;
    let page = app.get_page("/admin/policy", Some(&admin)).await;
    assert_page(&page, "Escalation policy");
    assert!(page.body.contains("The built-in default is in force"));
    assert!(page.body.contains("Child not seen"));
    assert!(page.body.contains("<td>4 working hours</td>"), "child_not_seen's time to acknowledge");
    assert!(page.body.contains("4 working hours, then 1 working day"), "referral decision's times to resolve");
    assert!(page.body.contains("more than 10 open, unacknowledged escalations"));
    assert!(page.body.contains("15 per full-time worker"));
    assert!(page.body.contains("&#34;overload_threshold&#34;: 10"), "the JSON to edit:\n{}", page.body);
    for login in ["tm1", "sw1", "pc1"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/admin/policy", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/admin/policy", None).await);
});

app_test!(changing_the_policy, |app| async move {
    let (admin, csrf) = app.session("admin").await;
    let (tm, tm_csrf) = app.session("tm1").await;
    let before = app.audit_len().await;
    let malformed = app.post_form("/admin/policy", Some(&admin), &[("csrf", &csrf), ("policy", "{not json")]).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("href=\"#policy\""));
    assert!(
        malformed
            .body
            .contains("id=\"policy-error\"><span class=\"visually-hidden\">Error:</span> the policy is not valid:")
    );
    assert!(malformed.body.contains("{not json</textarea>"), "what was typed is kept");
    let unknown =
        app.post_form("/admin/policy", Some(&admin), &[("csrf", &csrf), ("policy", r#"{"top_levle": 3}"#)]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("top_levle"), "the unknown field is named");
    let out_of_range =
        app.post_form("/admin/policy", Some(&admin), &[("csrf", &csrf), ("policy", r#"{"top_level": 9}"#)]).await;
    assert_invalid(&out_of_range, "policy", "top_level must be 1 to 4");
    let bad_trigger = app
        .post_form(
            "/admin/policy",
            Some(&admin),
            &[("csrf", &csrf), ("policy", r#"{"triggers": {"child_not_seen": {"start_level": 5, "ack_within": "4wh", "resolve_within": ["1wd"]}}}"#)],
        )
        .await;
    assert_invalid(&bad_trigger, "policy", "triggers.child_not_seen.start_level must be between 1 and top_level");
    let forged = app
        .post_form("/admin/policy", Some(&admin), &[("csrf", "x"), ("policy", r#"{"overload_threshold": 5}"#)])
        .await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let manager = app
        .post_form("/admin/policy", Some(&tm), &[("csrf", &tm_csrf), ("policy", r#"{"overload_threshold": 5}"#)])
        .await;
    assert_refused(&manager, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
    assert_eq!(app.svc.current_policy().await.unwrap().0, 0);

    let ok = app
        .post_form("/admin/policy", Some(&admin), &[("csrf", &csrf), ("policy", r#"{"overload_threshold": 5}"#)])
        .await;
    assert_redirect(&ok, "/admin/policy?done=policy");
    assert_eq!(app.audit_len().await, before + 1);
    let (version, policy) = app.svc.current_policy().await.unwrap();
    assert_eq!(version, 1);
    assert_eq!(policy.overload_threshold, 5);
    assert_eq!(policy.top_level, 3, "what was left out keeps its default");
    let page = app.get_page("/admin/policy?done=policy", Some(&admin)).await;
    assert!(page.body.contains("Escalation policy saved"));
    assert!(page.body.contains("Version 1 is in force."));
    assert!(page.body.contains("more than 5 open, unacknowledged escalations"));
});

app_test!(the_staff_page_and_marking_someone_away, |app| async move {
    let path = format!("/staff/{}", app.sw.staff.0);
    let absence = format!("{path}/absence");
    let (tm, csrf) = app.session("tm1").await;
    let page = app.get_page(&path, Some(&tm)).await;
    assert_page(&page, "SW1 Person");
    assert_form(&page, &absence);
    assert!(page.body.contains("<dd class=\"summary-list__value\">No</dd>"), "not away");

    // A colleague sees the page but may not mark them away; they may mark themselves.
    let (sw2, sw2_csrf) = app.session("sw2").await;
    let theirs = app.get_page(&path, Some(&sw2)).await;
    assert_page(&theirs, "SW1 Person");
    assert_no_form(&theirs, &absence);
    let (sw, sw_csrf) = app.session("sw1").await;
    let own = app.get_page(&path, Some(&sw)).await;
    assert!(own.body.contains("Mark yourself as away"));
    let (pc, _) = app.session("pc1").await;
    assert_refused(&app.get_page(&path, Some(&pc)).await, StatusCode::FORBIDDEN);
    assert_page(&app.get_page(&format!("/staff/{}", app.partner.staff.0), Some(&pc)).await, "PC1 Person");
    assert_sign_in(&app.get_page(&path, None).await);
    assert_refused(&app.get_page("/staff/999", Some(&tm)).await, StatusCode::NOT_FOUND);

    let (admin, admin_csrf) = app.session("admin").await;
    let before = app.audit_len().await;
    let refused = app.post_form(&absence, Some(&sw2), &[("csrf", &sw2_csrf), ("until", "2026-03-09T09:00")]).await;
    assert_refused(&refused, StatusCode::FORBIDDEN);
    let forged = app.post_form(&absence, Some(&tm), &[("csrf", "x"), ("until", "2026-03-09T09:00")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let empty = app.post_form(&absence, Some(&tm), &[("csrf", &csrf), ("until", "")]).await;
    assert_invalid(&empty, "until", "enter when they will be back, or choose “Back now”");
    let past = app.post_form(&absence, Some(&tm), &[("csrf", &csrf), ("until", "2026-03-01T09:00")]).await;
    assert_invalid(&past, "until", "the end of the absence must be in the future");
    let garbled = app.post_form(&absence, Some(&tm), &[("csrf", &csrf), ("until", "next week")]).await;
    assert_invalid(&garbled, "until", "must be a date and time such as 2026-03-02T09:30");
    assert_eq!(app.audit_len().await, before);

    let ok = app.post_form(&absence, Some(&tm), &[("csrf", &csrf), ("until", "2026-03-09T09:00")]).await;
    assert_redirect(&ok, &format!("{path}?done=away"));
    assert_eq!(app.audit_len().await, before + 1);
    let away = app.svc.absences(&app.tm).await.unwrap();
    assert_eq!(away.len(), 1);
    assert_eq!(away[0].0, app.sw.staff);
    let page = app.get_page(&format!("{path}?done=away"), Some(&tm)).await;
    assert!(page.body.contains("Absence saved"));
    assert!(page.body.contains("Away until 9 Mar 2026 09:00"));
    assert!(page.body.contains("Back now"));

    // The administrator sees it in the staff list.
    let list = app.get_page("/admin/staff", Some(&admin)).await;
    assert_page(&list, "Staff");
    assert!(list.body.contains("Until 9 Mar 2026 09:00"));
    assert!(list.body.contains(&format!("href=\"/staff/{}#absence\"", app.sw2.staff.0)));

    // Back now, by the worker themselves.
    let back = app.post_form(&absence, Some(&sw), &[("csrf", &sw_csrf), ("until", ""), ("back", "1")]).await;
    assert_redirect(&back, &format!("{path}?done=back"));
    assert_eq!(app.audit_len().await, before + 2);
    assert!(app.svc.absences(&app.tm).await.unwrap().is_empty());

    // An administrator may mark anyone away.
    let by_admin = app
        .post_form(
            &format!("/staff/{}/absence", app.tm.staff.0),
            Some(&admin),
            &[("csrf", &admin_csrf), ("until", "2026-03-03T17:00")],
        )
        .await;
    assert_redirect(&by_admin, &format!("/staff/{}?done=away", app.tm.staff.0));
    assert_eq!(app.audit_len().await, before + 3);
});

app_test!(an_absent_manager_is_passed_by, |app| async move {
    // The team manager is away: the escalation goes straight to the service manager.
    let (tm, csrf) = app.session("tm1").await;
    let ok = app
        .post_form(
            &format!("/staff/{}/absence", app.tm.staff.0),
            Some(&tm),
            &[("csrf", &csrf), ("until", "2026-03-20T09:00")],
        )
        .await;
    assert_redirect(&ok, &format!("/staff/{}?done=away", app.tm.staff.0));
    let (_, _, esc) = cp_child_not_seen(app, "Alfie").await;
    let (view, _) = app.svc.escalation(&app.sm, esc).await.unwrap();
    assert_eq!(view.assignee.id, app.sm.staff);
    let (sm, _) = app.session("sm1").await;
    let page = app.get_page(&format!("/escalations/{}", esc.0), Some(&sm)).await;
    assert!(page.body.contains("passed by TM1 Person, who is away"), "{}", page.body);
});
