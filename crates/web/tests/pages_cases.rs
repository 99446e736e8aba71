//! Work on a case through the pages: allocation with the cap in view, visits, case notes
//! and closure.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use commands::input::AllocationInput;
use domain::visit::VisitOutcome;
use pages_common::*;

app_test!(the_allocation_page_shows_each_workers_load, |app| async move {
    let (case, _) = open_case(app, "Alfie").await;
    // sw1 holds one case, so sw2 comes first.
    allocated_case(app, "Bella").await;
    let (cookie, _) = app.session("tm1").await;
    let page = app.get_page(&format!("/cases/{}/allocate", case.0), Some(&cookie)).await;
    assert_page(&page, "Allocate Alfie Scott’s case");
    assert!(
        page.body.contains(&format!("id=\"worker\" name=\"worker\" type=\"radio\" value=\"{}\"", app.sw2.staff.0)),
        "lightest first, carrying the field's id"
    );
    assert!(
        page.body.contains(&format!("id=\"worker-{0}\" name=\"worker\" type=\"radio\" value=\"{0}\"", app.sw.staff.0))
    );
    assert!(page.body.contains("Social worker, 1 FTE: 1 open case against a cap of 15"));
    assert!(page.body.contains("id=\"override_reason\" name=\"override_reason\""));
    assert!(page.body.contains("Allocate case</button>"));

    for login in ["sw1", "pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page(&format!("/cases/{}/allocate", case.0), Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page(&format!("/cases/{}/allocate", case.0), None).await);
    assert_refused(&app.get_page("/cases/999/allocate", Some(&cookie)).await, StatusCode::NOT_FOUND);
});

app_test!(allocating_a_case, |app| async move {
    let (case, child) = open_case(app, "Alfie").await;
    let path = format!("/cases/{}/allocate", case.0);
    let (cookie, csrf) = app.session("tm1").await;
    let before = app.audit_len().await;

    let bad = app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("worker", ""), ("override_reason", "")]).await;
    assert_invalid(&bad, "worker", "choose a worker");
    let forged = app.post_form(&path, Some(&cookie), &[("csrf", "x"), ("worker", &app.sw.staff.0.to_string())]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
    assert!(app.svc.case(&app.tm, case).await.unwrap().worker.is_none());

    let ok = app
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", &csrf), ("worker", &app.sw.staff.0.to_string()), ("override_reason", "")],
        )
        .await;
    assert_redirect(&ok, &format!("/people/{}?done=allocated", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    assert_eq!(app.svc.case(&app.tm, case).await.unwrap().worker.map(|w| w.id), Some(app.sw.staff));

    // Allocating to the same worker again is refused beside the choice.
    let again = app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("worker", &app.sw.staff.0.to_string())]).await;
    assert_invalid(&again, "worker", "the case is already allocated to SW1 Person");
    assert_eq!(app.audit_len().await, before + 1);
});

app_test!(going_over_the_cap_needs_a_managers_reason, |app| async move {
    for i in 0..15 {
        let (c, _) = open_case(app, &format!("Child{}", char::from(b'a' + i))).await;
        app.svc
            .allocate(&app.tm, c, &AllocationInput { worker: Some(app.sw.staff.0), override_reason: None })
            .await
            .unwrap();
    }
    let (case, _) = open_case(app, "Sixteenth").await;
    let path = format!("/cases/{}/allocate", case.0);
    let (cookie, csrf) = app.session("tm1").await;
    let page = app.get_page(&path, Some(&cookie)).await;
    assert!(page.body.contains("This case would take them over"), "the full worker is marked");
    assert!(page.body.contains("(over the cap with this case)"));

    let before = app.audit_len().await;
    let refused = app
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", &csrf), ("worker", &app.sw.staff.0.to_string()), ("override_reason", "")],
        )
        .await;
    assert_invalid(
        &refused,
        "override_reason",
        "this would take SW1 Person to a caseload of 16 against a cap of 15; a manager must give a reason to go over the cap",
    );
    assert!(refused.body.contains(&format!("value=\"{}\" checked", app.sw.staff.0)), "the choice is kept");
    assert_eq!(app.audit_len().await, before);

    let ok = app
        .post_form(
            &path,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("worker", &app.sw.staff.0.to_string()),
                ("override_reason", "sibling of a child she holds"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(app.audit_len().await, before + 1);
    assert_eq!(app.svc.my_caseload(&app.sw).await.unwrap().len(), 16);
    let page =
        app.get_page(&format!("/cases/{}/allocate", open_case(app, "Seventeenth").await.0.0), Some(&cookie)).await;
    assert!(page.body.contains("Over cap"));
});

app_test!(the_visit_form_is_for_the_allocated_worker_and_managers, |app| async move {
    let (case, _) = allocated_case(app, "Alfie").await;
    let path = format!("/cases/{}/visits/new", case.0);
    for login in ["sw1", "tm1"] {
        let (c, csrf) = app.session(login).await;
        let page = app.get_page(&path, Some(&c)).await;
        assert_page(&page, "Record a visit to Alfie Scott");
        assert!(page.body.contains(&format!("action=\"/cases/{}/visits\"", case.0)));
        assert!(page.body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
        assert!(page.body.contains("id=\"visited_at\" name=\"visited_at\""));
        for (i, o) in VisitOutcome::ALL.iter().enumerate() {
            let id = if i == 0 { "outcome".to_string() } else { format!("outcome-{}", o.code()) };
            assert!(
                page.body.contains(&format!("id=\"{id}\" name=\"outcome\" type=\"radio\" value=\"{}\"", o.code())),
                "{id}"
            );
            assert!(page.body.contains(o.label()));
        }
        assert!(page.body.contains("id=\"note\" name=\"note\""));
        assert!(page.body.contains("Record visit</button>"));
    }
    for login in ["sw2", "pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page(&path, Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page(&path, None).await);
});

app_test!(recording_a_visit, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let path = format!("/cases/{}/visits", case.0);
    let (cookie, csrf) = app.session("sw1").await;
    let before = app.audit_len().await;

    let bad = app
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", &csrf), ("visited_at", "yesterday"), ("outcome", ""), ("note", "knocked twice")],
        )
        .await;
    assert_invalid(&bad, "visited_at", "must be a date and time such as 2026-03-02T09:30");
    assert_invalid(&bad, "outcome", "choose whether the child was seen");
    assert!(bad.body.contains("knocked twice</textarea>"), "the note is kept");
    let forged = app.post_form(&path, Some(&cookie), &[("csrf", ""), ("outcome", "seen")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let (sw2, sw2_csrf) = app.session("sw2").await;
    let before_sw2 = app.audit_len().await;
    assert_refused(
        &app.post_form(&path, Some(&sw2), &[("csrf", &sw2_csrf), ("outcome", "seen")]).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.audit_len().await, before_sw2);
    assert_eq!(before_sw2, before + 1, "only sw2's sign-in was written");
    assert!(app.svc.child_record(&app.sw, child).await.unwrap().visits.is_empty());

    let before = app.audit_len().await;
    let ok = app
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", &csrf), ("visited_at", ""), ("outcome", "seen_alone"), ("note", "in her room")],
        )
        .await;
    assert_redirect(&ok, &format!("/people/{}?done=visit", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    let visits = app.svc.child_record(&app.sw, child).await.unwrap().visits;
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].outcome, VisitOutcome::SeenAlone);
    assert_eq!(visits[0].visited_at, app.svc.now(), "an empty time means now");
    let record = app.get_page(&format!("/people/{}?done=visit", child.0), Some(&cookie)).await;
    assert!(record.body.contains("Visit recorded"));
    assert!(record.body.contains("in her room"));
});

app_test!(writing_a_case_note, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let path = format!("/cases/{}/notes", case.0);
    let (cookie, csrf) = app.session("sw2").await;
    let before = app.audit_len().await;

    let bad = app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("text", "   ")]).await;
    assert_invalid(&bad, "note-text", "enter the note");
    assert!(bad.body.contains("<h1 class=\"heading-l\">Alfie Scott</h1>"), "the record is shown again");
    assert_refused(&app.post_form(&path, Some(&cookie), &[("csrf", "no"), ("text", "x")]).await, StatusCode::FORBIDDEN);
    let (pc, pc_csrf) = app.session("pc1").await;
    let before_pc = app.audit_len().await;
    assert_refused(&app.post_form(&path, Some(&pc), &[("csrf", &pc_csrf), ("text", "x")]).await, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before_pc);
    assert_eq!(before_pc, before + 1);

    let before = app.audit_len().await;
    let ok = app
        .post_form(&path, Some(&cookie), &[("csrf", &csrf), ("text", "Duty call from school: Alfie absent today")])
        .await;
    assert_redirect(&ok, &format!("/people/{}?done=note#chronology", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    let notes = app.svc.child_record(&app.sw, child).await.unwrap().notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].body, "Duty call from school: Alfie absent today");
});

app_test!(closing_a_case, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let path = format!("/cases/{}/close", case.0);
    let (sw, sw_csrf) = app.session("sw1").await;
    let record = app.get_page(&format!("/people/{}", child.0), Some(&sw)).await;
    assert!(!record.body.contains("Close case</button>"), "not offered to a social worker");
    let before = app.audit_len().await;
    assert_refused(
        &app.post_form(&path, Some(&sw), &[("csrf", &sw_csrf), ("reason", "done")]).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.audit_len().await, before);

    let (cookie, csrf) = app.session("tm1").await;
    let record = app.get_page(&format!("/people/{}", child.0), Some(&cookie)).await;
    assert!(record.body.contains(&format!("action=\"/cases/{}/close\"", case.0)));
    assert!(record.body.contains("id=\"close-reason\" name=\"reason\""));
    let before = app.audit_len().await;
    let bad = app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("reason", "")]).await;
    assert_invalid(&bad, "close-reason", "enter the reason");
    assert!(bad.body.contains("<details class=\"details\" open>"), "the closure form is open to show its error");
    assert_refused(
        &app.post_form(&path, Some(&cookie), &[("csrf", "nope"), ("reason", "family moved")]).await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.audit_len().await, before);
    assert!(app.svc.case(&app.tm, case).await.unwrap().closed_at.is_none());

    let ok = app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("reason", "family moved away")]).await;
    assert_redirect(&ok, &format!("/people/{}?done=closed", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    let closed = app.svc.case(&app.tm, case).await.unwrap();
    assert!(closed.closed_at.is_some());
    assert_eq!(closed.closure_reason.as_deref(), Some("family moved away"));
    let record = app.get_page(&format!("/people/{}?done=closed", child.0), Some(&cookie)).await;
    assert!(record.body.contains("Case closed") && record.body.contains("There is no open case"));

    // A closed case takes no visits.
    assert_refused(&app.get_page(&format!("/cases/{}/visits/new", case.0), Some(&cookie)).await, StatusCode::CONFLICT);
    let before = app.audit_len().await;
    assert_refused(
        &app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("reason", "again")]).await,
        StatusCode::CONFLICT,
    );
    assert_eq!(app.audit_len().await, before);
});
