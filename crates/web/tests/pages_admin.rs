//! Administration pages: staff and teams.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use pages_common::*;

app_test!(the_staff_list_is_for_administrators, |app| async move {
    let (cookie, _) = app.session("admin").await;
    let page = app.get_page("/admin/staff", Some(&cookie)).await;
    assert_page(&page, "Staff");
    assert!(page.body.contains("SW1 Person") && page.body.contains("pc1") && page.body.contains("Partner agency"));
    assert!(page.body.contains("href=\"/admin/staff/new\""));
    for login in ["tm1", "sw1", "pc1"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/admin/staff", Some(&c)).await, StatusCode::FORBIDDEN);
        assert_refused(&app.get_page("/admin/staff/new", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/admin/staff", None).await);
});

app_test!(adding_a_member_of_staff, |app| async move {
    let (cookie, csrf) = app.session("admin").await;
    let form = app.get_page("/admin/staff/new", Some(&cookie)).await;
    assert_page(&form, "Add a member of staff");
    for id in ["name", "login", "role", "team", "agency", "fte", "password"] {
        assert!(form.body.contains(&format!("id=\"{id}\" name=\"{id}\"")), "{id}");
    }
    let team = app.team.0.to_string();
    let before = app.audit_len().await;
    let bad = app
        .post_form(
            "/admin/staff/new",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "Sam Worker"),
                ("login", "x"),
                ("role", "social_worker"),
                ("team", ""),
                ("fte", "half"),
                ("password", "short"),
            ],
        )
        .await;
    assert_invalid(&bad, "login", "a login has 3 to 64 characters");
    assert_invalid(&bad, "fte", "must be a number such as 1.0 or 0.6");
    assert_invalid(&bad, "password", "a password needs at least 12 characters");
    assert_invalid(&bad, "team", "a social worker needs a team");
    let no_role = app
        .post_form(
            "/admin/staff/new",
            Some(&cookie),
            &[("csrf", &csrf), ("name", "Sam"), ("login", "sam"), ("role", ""), ("password", "a long enough password")],
        )
        .await;
    assert_invalid(&no_role, "role", "choose a role");
    assert!(bad.body.contains("value=\"Sam Worker\""), "typed values are kept");
    assert!(!bad.body.contains("value=\"short\""), "the password is never sent back");
    let dup = app
        .post_form(
            "/admin/staff/new",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "Dup"),
                ("login", "sw1"),
                ("role", "social_worker"),
                ("team", &team),
                ("fte", "1"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_invalid(&dup, "login", "the login sw1 is taken");
    let forged = app
        .post_form(
            "/admin/staff/new",
            Some(&cookie),
            &[
                ("csrf", "x"),
                ("name", "Sam"),
                ("login", "sam"),
                ("role", "social_worker"),
                ("team", &team),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    let ok = app
        .post_form(
            "/admin/staff/new",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "Sam Worker"),
                ("login", "Sam.W"),
                ("role", "social_worker"),
                ("team", &team),
                ("agency", ""),
                ("fte", "0.6"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_redirect(&ok, "/admin/staff?done=staff");
    assert_eq!(app.audit_len().await, before + 1);
    let staff = app.svc.staff_list(&app.admin, Some(app.team)).await.unwrap();
    let sam = staff.iter().find(|s| s.login == "sam.w").expect("added");
    assert_eq!(sam.fte, 0.6);
    assert!(app.svc.sign_in("sam.w", "a long enough password").await.is_ok());
    let list = app.get_page("/admin/staff?done=staff", Some(&cookie)).await;
    assert!(list.body.contains("Member of staff added") && list.body.contains("Sam Worker"));

    let (tm, tm_csrf) = app.session("tm1").await;
    let before = app.audit_len().await;
    let refused = app
        .post_form(
            "/admin/staff/new",
            Some(&tm),
            &[
                ("csrf", &tm_csrf),
                ("name", "Eve"),
                ("login", "eve"),
                ("role", "director"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_refused(&refused, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
});

app_test!(creating_a_team, |app| async move {
    let (cookie, csrf) = app.session("admin").await;
    let page = app.get_page("/admin/teams", Some(&cookie)).await;
    assert_page(&page, "Teams");
    assert!(page.body.contains(&format!("<a href=\"/admin/teams/{}\">North</a>", app.team.0)));
    assert!(page.body.contains("TM1 Person") && page.body.contains("SM1 Person"));

    let before = app.audit_len().await;
    let dup = app.post_form("/admin/teams", Some(&cookie), &[("csrf", &csrf), ("name", "North")]).await;
    assert_invalid(&dup, "name", "there is already a team called North");
    let empty = app.post_form("/admin/teams", Some(&cookie), &[("csrf", &csrf), ("name", " ")]).await;
    assert_invalid(&empty, "name", "enter a name");
    assert_refused(
        &app.post_form("/admin/teams", Some(&cookie), &[("csrf", "x"), ("name", "South")]).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.audit_len().await, before);

    let ok = app.post_form("/admin/teams", Some(&cookie), &[("csrf", &csrf), ("name", "South")]).await;
    assert_redirect(&ok, "/admin/teams?done=team");
    assert_eq!(app.audit_len().await, before + 1);
    assert!(app.svc.teams(&app.admin).await.unwrap().iter().any(|t| t.name == "South"));

    for login in ["tm1", "sw1", "pc1"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/admin/teams", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/admin/teams", None).await);
});

app_test!(setting_a_teams_management_line, |app| async move {
    let path = format!("/admin/teams/{}", app.team.0);
    let (cookie, csrf) = app.session("admin").await;
    let page = app.get_page(&path, Some(&cookie)).await;
    assert_page(&page, "North");
    assert!(
        page.body
            .contains(&format!("<option value=\"{}\" selected>TM1 Person (Team manager)</option>", app.tm.staff.0))
    );
    assert!(!page.body.contains(&format!("<option value=\"{}\"", app.sw.staff.0)), "social workers are not offered");
    assert!(page.body.contains("SW2 Person"), "members are listed");

    let before = app.audit_len().await;
    let bad = app
        .post_form(
            &path,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("team_manager", &app.sw.staff.0.to_string()),
                ("service_manager", &app.tm.staff.0.to_string()),
                ("head_of_service", ""),
            ],
        )
        .await;
    assert_invalid(&bad, "team_manager", "sw1 is a social worker");
    assert_invalid(&bad, "service_manager", "tm1 is a team manager");
    assert_refused(
        &app.post_form(&path, Some(&cookie), &[("csrf", ""), ("team_manager", "")]).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.audit_len().await, before);

    let ok = app
        .post_form(
            &path,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("team_manager", &app.sm.staff.0.to_string()),
                ("service_manager", &app.sm.staff.0.to_string()),
                ("head_of_service", ""),
            ],
        )
        .await;
    assert_redirect(&ok, &format!("{path}?done=leadership"));
    assert_eq!(app.audit_len().await, before + 1);
    let team = app.svc.team(&app.admin, app.team).await.unwrap();
    assert_eq!(team.team_manager.map(|s| s.id), Some(app.sm.staff));
    assert!(team.head_of_service.is_none());

    let (tm, tm_csrf) = app.session("tm1").await;
    assert_refused(&app.get_page(&path, Some(&tm)).await, StatusCode::FORBIDDEN);
    let before = app.audit_len().await;
    assert_refused(
        &app.post_form(&path, Some(&tm), &[("csrf", &tm_csrf), ("team_manager", "")]).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.audit_len().await, before);
    assert_refused(&app.get_page("/admin/teams/999", Some(&cookie)).await, StatusCode::NOT_FOUND);
});
