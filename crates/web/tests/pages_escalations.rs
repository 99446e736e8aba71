//! Escalations through the pages: the list waiting on me, one escalation with its history
//! and the acknowledge and resolve forms, the inbox, the welfare-check requests the police
//! receive, and the story of a child not seen climbing until a named person acts.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use domain::escalation::EscalationState;
use pages_common::*;

/// Four working hours and a little after the test clock's Monday 09:00 start: the
/// unacknowledged `child_not_seen` escalation climbs at 13:00.
const AFTER_ACK_WINDOW: &str = "2026-03-02T13:30:00Z";

async fn pass_time(app: &support::TestApp, to: &str) {
    app.clock.set(to.parse().unwrap());
    app.svc.sweep().await.unwrap();
}

app_test!(the_list_waiting_on_me, |app| async move {
    let (_, child, esc) = cp_child_not_seen(app, "Alfie").await;
    let (tm, _) = app.session("tm1").await;
    let page = app.get_page("/escalations", Some(&tm)).await;
    assert_page(&page, "Escalations waiting on me");
    assert!(page.body.contains(&format!("href=\"/escalations/{}\"", esc.0)));
    assert!(page.body.contains(&format!("<a href=\"/people/{}\">Alfie Scott</a>", child.0)));
    assert!(page.body.contains("Child not seen"));
    assert!(page.body.contains("Make sure the child is seen, alone if possible."));
    assert!(page.body.contains("tag--red\">Open<"));
    assert!(page.body.contains("Waiting on me (1)"), "managers get the tabs");
    // The navigation counts what is waiting, on every page.
    assert!(page.body.contains("Escalations <span class=\"count\">1<"));
    let mine = app.get_page("/my-work", Some(&tm)).await;
    assert!(mine.body.contains("Escalations <span class=\"count\">1<"));
    assert!(mine.body.contains("1 escalation waiting on you"));

    let team = app.get_page("/escalations?view=team", Some(&tm)).await;
    assert_page(&team, "Escalations in my team’s line");
    assert!(team.body.contains("TM1 Person"), "the team view names who holds each");

    // A worker sees their own (empty) list and no team tab.
    let (sw, _) = app.session("sw1").await;
    let theirs = app.get_page("/escalations", Some(&sw)).await;
    assert_page(&theirs, "Escalations waiting on me");
    assert!(theirs.body.contains("Nothing is waiting on you."));
    assert!(!theirs.body.contains("view=team"));
    let team = app.get_page("/escalations?view=team", Some(&sw)).await;
    assert_page(&team, "Escalations waiting on me");

    for login in ["pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/escalations", Some(&c)).await, StatusCode::FORBIDDEN);
        assert_refused(&app.get_page(&format!("/escalations/{}", esc.0), Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/escalations", None).await);
    assert_sign_in(&app.get_page(&format!("/escalations/{}", esc.0), None).await);
    assert_refused(&app.get_page("/escalations/999", Some(&tm)).await, StatusCode::NOT_FOUND);
    assert_refused(&app.get_page("/escalations/x", Some(&tm)).await, StatusCode::NOT_FOUND);
});

app_test!(acknowledging_an_escalation, |app| async move {
    let (_, _, esc) = cp_child_not_seen(app, "Alfie").await;
    let path = format!("/escalations/{}", esc.0);
    let ack = format!("{path}/acknowledge");
    let (tm, csrf) = app.session("tm1").await;

    let page = app.get_page(&path, Some(&tm)).await;
    assert_page(&page, "Child not seen: Alfie Scott");
    assert_form(&page, &ack);
    assert_form(&page, &format!("{path}/resolve"));
    assert!(page.body.contains("Raised at level 1 (team manager) and sent to TM1 Person"));
    assert!(page.body.contains("2 Mar 2026 09:00: no access"), "the detail is shown:\n{}", page.body);

    // Someone who neither holds it nor manages above it sees it but may not act.
    let (sw, sw_csrf) = app.session("sw1").await;
    let seen = app.get_page(&path, Some(&sw)).await;
    assert_page(&seen, "Child not seen: Alfie Scott");
    assert_no_form(&seen, &ack);
    let before = app.audit_len().await;
    let refused = app.post_form(&ack, Some(&sw), &[("csrf", &sw_csrf), ("note", "")]).await;
    assert_refused(&refused, StatusCode::FORBIDDEN);

    let forged = app.post_form(&ack, Some(&tm), &[("csrf", "forged"), ("note", "On it")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let long = "x".repeat(4001);
    let bad = app.post_form(&ack, Some(&tm), &[("csrf", &csrf), ("note", &long)]).await;
    assert_invalid(&bad, "note", "the note must be 4000 characters or fewer");
    assert_eq!(app.audit_len().await, before);
    assert_eq!(app.svc.escalation(&app.tm, esc).await.unwrap().0.state, EscalationState::Open);

    let ok = app.post_form(&ack, Some(&tm), &[("csrf", &csrf), ("note", "Calling the family today")]).await;
    assert_redirect(&ok, &format!("{path}?done=acknowledged"));
    assert_eq!(app.audit_len().await, before + 1);
    let (view, history) = app.svc.escalation(&app.tm, esc).await.unwrap();
    assert_eq!(view.state, EscalationState::Acknowledged);
    let acked = history.iter().find(|h| h.what == "acknowledged").unwrap();
    assert_eq!(acked.note.as_deref(), Some("Calling the family today"));
    assert_eq!(acked.by.as_ref().map(|b| b.id), Some(app.tm.staff));

    let after = app.get_page(&format!("{path}?done=acknowledged"), Some(&tm)).await;
    assert!(after.body.contains("Escalation acknowledged"), "banner");
    assert!(after.body.contains("Acknowledged by TM1 Person"));
    assert!(after.body.contains("Calling the family today"));
    assert_no_form(&after, &ack);
    assert_form(&after, &format!("{path}/resolve"));

    // Twice is a conflict with the escalation's state, not with what was typed.
    let again = app.post_form(&ack, Some(&tm), &[("csrf", &csrf), ("note", "")]).await;
    assert_refused(&again, StatusCode::CONFLICT);
    assert!(again.body.contains("already acknowledged"));
    // The acknowledgement, then reading the page about the child (a read on the trail);
    // the refused second acknowledgement wrote nothing.
    assert_eq!(app.audit_len().await, before + 2);
});

app_test!(resolving_an_escalation, |app| async move {
    let (_, child, esc) = cp_child_not_seen(app, "Alfie").await;
    let path = format!("/escalations/{}", esc.0);
    let resolve = format!("{path}/resolve");
    let (tm, csrf) = app.session("tm1").await;
    let before = app.audit_len().await;

    let blank = app.post_form(&resolve, Some(&tm), &[("csrf", &csrf), ("action", "  ")]).await;
    assert_invalid(&blank, "action", "enter the action taken");
    let forged = app.post_form(&resolve, Some(&tm), &[("csrf", "x"), ("action", "Seen at school")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    let ok =
        app.post_form(&resolve, Some(&tm), &[("csrf", &csrf), ("action", "Seen at school by the deputy head")]).await;
    assert_redirect(&ok, &format!("{path}?done=resolved"));
    assert_eq!(app.audit_len().await, before + 1);
    let (view, _) = app.svc.escalation(&app.tm, esc).await.unwrap();
    assert_eq!(view.state, EscalationState::Resolved);
    assert_eq!(view.action.as_deref(), Some("Seen at school by the deputy head"));

    let after = app.get_page(&format!("{path}?done=resolved"), Some(&tm)).await;
    assert!(after.body.contains("Escalation resolved"));
    assert!(after.body.contains("Resolved by TM1 Person"));
    assert_no_form(&after, &resolve);
    let again = app.post_form(&resolve, Some(&tm), &[("csrf", &csrf), ("action", "again")]).await;
    assert_refused(&again, StatusCode::CONFLICT);

    // Off the list waiting on me; on the child's record as resolved.
    let list = app.get_page("/escalations", Some(&tm)).await;
    assert!(list.body.contains("Nothing is waiting on you."));
    let record = app.get_page(&format!("/people/{}", child.0), Some(&tm)).await;
    assert!(record.body.contains(&format!("href=\"/escalations/{}\"", esc.0)));
    assert!(record.body.contains("tag--green\">Resolved<"));
});

app_test!(a_child_not_seen_climbs_until_someone_acts, |app| async move {
    // A no-access visit on a child on a CP plan: waiting on the team manager.
    let (case, child, esc) = cp_child_not_seen(app, "Alfie").await;
    let (tm, _) = app.session("tm1").await;
    let (sm, sm_csrf) = app.session("sm1").await;
    let tm_list = app.get_page("/escalations", Some(&tm)).await;
    assert!(tm_list.body.contains(&format!("href=\"/escalations/{}\"", esc.0)));
    let sm_list = app.get_page("/escalations", Some(&sm)).await;
    assert!(sm_list.body.contains("Nothing is waiting on you."));

    // Nobody acknowledges it within four working hours: it climbs to the service manager.
    pass_time(app, AFTER_ACK_WINDOW).await;
    let (view, _) = app.svc.escalation(&app.sm, esc).await.unwrap();
    assert_eq!(view.level, 2);
    assert_eq!(view.assignee.id, app.sm.staff);
    let tm_list = app.get_page("/escalations", Some(&tm)).await;
    assert!(tm_list.body.contains("Nothing is waiting on you."), "{}", tm_list.body);
    let sm_list = app.get_page("/escalations", Some(&sm)).await;
    assert_page(&sm_list, "Escalations waiting on me");
    assert!(sm_list.body.contains(&format!("href=\"/escalations/{}\"", esc.0)));
    assert!(sm_list.body.contains("<td class=\"numeric\">2</td>"));

    let detail = app.get_page(&format!("/escalations/{}", esc.0), Some(&sm)).await;
    assert!(
        detail.body.contains(
            "Climbed to level 2 (service manager), now held by SM1 Person, because nobody acknowledged it in time"
        ),
        "{}",
        detail.body
    );
    assert!(detail.body.contains("The police were asked to check on the child"));
    // The service manager's inbox has the climb, with a link.
    let inbox = app.get_page("/inbox", Some(&sm)).await;
    assert_page(&inbox, "Inbox");
    assert!(inbox.body.contains(&format!("href=\"/escalations/{}\"", esc.0)));

    // The service manager acknowledges, then resolves with the action taken.
    let ack = app
        .post_form(
            &format!("/escalations/{}/acknowledge", esc.0),
            Some(&sm),
            &[("csrf", &sm_csrf), ("note", "Asked police to attend")],
        )
        .await;
    assert_redirect(&ack, &format!("/escalations/{}?done=acknowledged", esc.0));
    let resolved = app
        .post_form(
            &format!("/escalations/{}/resolve", esc.0),
            Some(&sm),
            &[("csrf", &sm_csrf), ("action", "Police saw Alfie at home; joint visit booked")],
        )
        .await;
    assert_redirect(&resolved, &format!("/escalations/{}?done=resolved", esc.0));
    let detail = app.get_page(&format!("/escalations/{}", esc.0), Some(&sm)).await;
    for line in [
        "Raised at level 1",
        "Climbed to level 2",
        "Acknowledged by SM1 Person",
        "Asked police to attend",
        "Resolved by SM1 Person",
        "Action taken: Police saw Alfie at home; joint visit booked",
    ] {
        assert!(detail.body.contains(line), "history shows {line:?}:\n{}", detail.body);
    }

    // The record shows it resolved, the flags section and what is due.
    let record = app.get_page(&format!("/people/{}", child.0), Some(&tm)).await;
    assert_page(&record, "Alfie Scott");
    assert!(record.body.contains("tag--green\">Resolved<"));
    assert!(record.body.contains("No flags are raised."));
    assert!(record.body.contains("What is due next"));
    assert!(record.body.contains("Visit seeing the child"), "the CP visit clock:\n{}", record.body);
    let _ = case;
});

app_test!(flags_and_due_items_on_the_record, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    app.svc
        .start_plan(
            &app.tm,
            case,
            &commands::practice::PlanInput { plan: "cp".into(), category: Some("physical".into()), at: None },
        )
        .await
        .unwrap();
    // Two visits that saw the child but never alone raise `not_seen_alone`.
    for _ in 0..2 {
        app.svc
            .record_visit(
                &app.sw,
                case,
                &commands::input::VisitInput { visited_at: None, outcome: "seen".into(), note: None },
            )
            .await
            .unwrap();
    }
    let flags = app.svc.flags(&app.tm, child).await.unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    let (sw, _) = app.session("sw1").await;
    let record = app.get_page(&format!("/people/{}", child.0), Some(&sw)).await;
    assert_page(&record, "Alfie Scott");
    assert!(record.body.contains("Not seen alone"));
    assert!(
        record
            .body
            .contains("Rule: On a child protection plan, the last 2 visits that saw the child did not see them alone.")
    );
    for ev in &flags[0].evidence {
        assert!(record.body.contains(&format!("<li>{ev}</li>")), "evidence {ev:?} listed");
    }
    assert!(record.body.contains("Visit seeing the child"));
    assert!(!record.body.contains("tag--red\">Overdue<"));

    // Weeks later with no visit, the visit is overdue: red on the record and on my work.
    pass_time(app, "2026-04-20T10:00:00Z").await;
    let (sw, _) = app.session("sw1").await;
    let record = app.get_page(&format!("/people/{}", child.0), Some(&sw)).await;
    assert!(record.body.contains("tag--red\">Overdue<"), "{}", record.body);
    let mine = app.get_page("/my-work", Some(&sw)).await;
    assert_page(&mine, "My work");
    assert!(mine.body.contains("Due and overdue"));
    assert!(mine.body.contains("tag--red\">Overdue<"));
    let overdue_at = mine.body.find("tag--red\">Overdue<").unwrap();
    let due_at = mine.body.find("tag--grey\">Due<").unwrap_or(usize::MAX);
    assert!(overdue_at < due_at, "overdue first");
});

app_test!(the_inbox, |app| async move {
    let (_, _, esc) = cp_child_not_seen(app, "Alfie").await;
    let (tm, _) = app.session("tm1").await;
    let page = app.get_page("/inbox", Some(&tm)).await;
    assert_page(&page, "Inbox");
    assert!(page.body.contains(&format!("Open escalation E-{}", esc.0)));
    let (admin, _) = app.session("admin").await;
    let empty = app.get_page("/inbox", Some(&admin)).await;
    assert_page(&empty, "Inbox");
    assert!(empty.body.contains("You have no messages."));
    assert_sign_in(&app.get_page("/inbox", None).await);
});

app_test!(welfare_checks_for_the_police, |app| async move {
    let (_, child, esc) = cp_child_not_seen(app, "Alfie").await;
    let (pc, _) = app.session("pc1").await;
    let none = app.get_page("/welfare-checks", Some(&pc)).await;
    assert_page(&none, "Welfare-check requests");
    assert!(none.body.contains("There are no welfare-check requests."));

    // At level 2 on a CP plan the police are asked to check on the child.
    pass_time(app, AFTER_ACK_WINDOW).await;
    let checks = app.svc.welfare_checks(&app.partner).await.unwrap();
    assert_eq!(checks.len(), 1);
    let id = checks[0].id;
    let (pc, pc_csrf) = app.session("pc1").await;
    let list = app.get_page("/welfare-checks", Some(&pc)).await;
    assert_page(&list, "Welfare-check requests");
    assert!(list.body.contains("Alfie Scott"));
    assert!(list.body.contains("1 Jan 2014"), "date of birth");
    assert!(list.body.contains("North"), "the team asking");
    assert!(list.body.contains("tag--red\">Not yet<"));
    assert!(!list.body.contains(&format!("/people/{}", child.0)), "the police do not get the record");
    assert!(list.body.contains(&format!("href=\"/welfare-checks/{id}/visit\"")));

    let (tm, _) = app.session("tm1").await;
    let managers = app.get_page("/welfare-checks", Some(&tm)).await;
    assert_page(&managers, "Welfare-check requests");
    assert!(managers.body.contains(&format!("/people/{}", child.0)));
    assert!(!managers.body.contains(&format!("href=\"/welfare-checks/{id}/visit\"")));
    assert_refused(&app.get_page(&format!("/welfare-checks/{id}/visit"), Some(&tm)).await, StatusCode::FORBIDDEN);
    for login in ["sw1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page("/welfare-checks", Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page("/welfare-checks", None).await);

    let path = format!("/welfare-checks/{id}/visit");
    assert_page(&app.get_page(&path, Some(&pc)).await, "Record the visit to Alfie Scott");
    assert_refused(&app.get_page("/welfare-checks/999/visit", Some(&pc)).await, StatusCode::NOT_FOUND);
    let before = app.audit_len().await;
    let blank = app.post_form(&path, Some(&pc), &[("csrf", &pc_csrf), ("outcome", ""), ("note", "")]).await;
    assert_invalid(&blank, "outcome", "choose whether the child was seen");
    let forged = app.post_form(&path, Some(&pc), &[("csrf", "x"), ("outcome", "seen_alone")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    let ok = app
        .post_form(
            &path,
            Some(&pc),
            &[("csrf", &pc_csrf), ("outcome", "seen_alone"), ("note", "Alfie safe and well, spoke alone")],
        )
        .await;
    assert_redirect(&ok, "/welfare-checks?done=visit");
    assert_eq!(app.audit_len().await, before + 1);
    let visits = app.svc.child_record(&app.tm, child).await.unwrap().visits;
    assert_eq!(visits.last().unwrap().by.id, app.partner.staff);
    // Seeing the child clears the condition: the escalation resolves itself.
    assert_eq!(app.svc.escalation(&app.tm, esc).await.unwrap().0.state, EscalationState::Resolved);
    let list = app.get_page("/welfare-checks?done=visit", Some(&pc)).await;
    assert!(list.body.contains("Visit recorded"));
    assert!(list.body.contains("tag--green\">Visited<"));
});
