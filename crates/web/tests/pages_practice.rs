//! The statutory steps as forms: plans, strategy discussions, conferences, the
//! assessment, threshold decisions and new concerns, each back to the record.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use domain::case::Stage;
use domain::timer::TimerKind;
use pages_common::*;

app_test!(the_record_offers_the_steps_to_those_allowed, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let record = format!("/people/{}", child.0);
    let (tm, _) = app.session("tm1").await;
    let page = app.get_page(&record, Some(&tm)).await;
    for href in [
        format!("/cases/{}/plan", case.0),
        format!("/cases/{}/strategy-discussion", case.0),
        format!("/cases/{}/icpc", case.0),
        format!("/cases/{}/assessment-complete", case.0),
        format!("/people/{}/threshold-decision", child.0),
        format!("/people/{}/concerns", child.0),
    ] {
        assert!(page.body.contains(&format!("href=\"{href}\"")), "manager sees {href}");
    }
    // Review conferences are for children on a CP plan.
    assert!(!page.body.contains("review-conference"));

    let (sw, _) = app.session("sw1").await;
    let page = app.get_page(&record, Some(&sw)).await;
    assert!(page.body.contains(&format!("href=\"/cases/{}/assessment-complete\"", case.0)));
    assert!(page.body.contains(&format!("href=\"/people/{}/concerns\"", child.0)));
    for href in [format!("/cases/{}/plan", case.0), format!("/people/{}/threshold-decision", child.0)] {
        assert!(!page.body.contains(&href), "a worker is not offered {href}");
    }
});

app_test!(starting_a_plan, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let path = format!("/cases/{}/plan", case.0);
    let (tm, csrf) = app.session("tm1").await;
    let page = app.get_page(&path, Some(&tm)).await;
    assert_page(&page, "Start a plan for Alfie Scott");
    assert!(page.body.contains("id=\"plan\" name=\"plan\" type=\"radio\" value=\"cin\""));
    assert!(page.body.contains("id=\"category\" name=\"category\" type=\"radio\" value=\"physical\""));
    let (sw, sw_csrf) = app.session("sw1").await;
    assert_refused(&app.get_page(&path, Some(&sw)).await, StatusCode::FORBIDDEN);
    assert_sign_in(&app.get_page(&path, None).await);
    assert_refused(&app.get_page("/cases/999/plan", Some(&tm)).await, StatusCode::NOT_FOUND);

    let before = app.audit_len().await;
    let blank = app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("plan", ""), ("at", "")]).await;
    assert_invalid(&blank, "plan", "choose a plan");
    let no_category = app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("plan", "cp"), ("at", "")]).await;
    assert_invalid(&no_category, "category", "a child protection plan needs a category of abuse");
    assert!(no_category.body.contains("value=\"cp\" checked"), "the choice is kept");
    let bad_time = app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("plan", "cin"), ("at", "last week")]).await;
    assert_invalid(&bad_time, "at", "must be a date and time such as 2026-03-02T09:30");
    let forged = app.post_form(&path, Some(&tm), &[("csrf", "x"), ("plan", "cin")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let worker = app.post_form(&path, Some(&sw), &[("csrf", &sw_csrf), ("plan", "cin")]).await;
    assert_refused(&worker, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
    assert_eq!(app.svc.case(&app.tm, case).await.unwrap().stage, Stage::Assessment);

    let ok =
        app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("plan", "cp"), ("category", "neglect"), ("at", "")]).await;
    assert_redirect(&ok, &format!("/people/{}?done=plan", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    assert_eq!(app.svc.case(&app.tm, case).await.unwrap().stage, Stage::Cp);
    let record = app.get_page(&format!("/people/{}?done=plan", child.0), Some(&tm)).await;
    assert!(record.body.contains("Plan started"));
    assert!(record.body.contains(&format!("href=\"/cases/{}/review-conference\"", case.0)));

    // The same plan again is refused beside the choice.
    let again = app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("plan", "cp"), ("category", "neglect")]).await;
    assert_invalid(&again, "plan", "the child is already on a cp plan");
    assert_eq!(app.audit_len().await, before + 2, "the plan and one read of the record; the refusal wrote nothing");
});

app_test!(a_strategy_discussion_and_the_conferences, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let (tm, csrf) = app.session("tm1").await;
    let path = format!("/cases/{}/strategy-discussion", case.0);
    assert_page(&app.get_page(&path, Some(&tm)).await, "Record a strategy discussion about Alfie Scott");
    let (sw, _) = app.session("sw1").await;
    assert_refused(&app.get_page(&path, Some(&sw)).await, StatusCode::FORBIDDEN);

    let before = app.audit_len().await;
    let blank = app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("s47", ""), ("at", "soon")]).await;
    assert_invalid(&blank, "s47", "choose whether the discussion started a section 47 enquiry");
    assert_invalid(&blank, "at", "must be a date and time such as 2026-03-02T09:30");
    let forged = app.post_form(&path, Some(&tm), &[("csrf", "x"), ("s47", "yes")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    let ok = app.post_form(&path, Some(&tm), &[("csrf", &csrf), ("s47", "yes"), ("at", "")]).await;
    assert_redirect(&ok, &format!("/people/{}?done=strategy", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    // The s47 enquiry starts the clock to the initial conference.
    let due = app.svc.due_for_child(&app.tm, child).await.unwrap();
    assert!(due.iter().any(|d| d.kind == TimerKind::IcpcDue), "{due:?}");
    let record = app.get_page(&format!("/people/{}", child.0), Some(&tm)).await;
    assert!(record.body.contains("Initial child protection conference"), "due next");
    assert!(record.body.contains("Strategy discussion: a section 47 enquiry started"), "chronology");

    // The initial conference stops it.
    let icpc = format!("/cases/{}/icpc", case.0);
    assert_page(&app.get_page(&icpc, Some(&tm)).await, "Record the initial child protection conference");
    let bad = app.post_form(&icpc, Some(&tm), &[("csrf", &csrf), ("at", "2099-01-01T09:00")]).await;
    assert_invalid(&bad, "at", "cannot be in the future");
    let ok = app.post_form(&icpc, Some(&tm), &[("csrf", &csrf), ("at", "")]).await;
    assert_redirect(&ok, &format!("/people/{}?done=icpc", child.0));
    assert_eq!(app.audit_len().await, before + 3, "the strategy discussion, the record read, the conference");
    let due = app.svc.due_for_child(&app.tm, child).await.unwrap();
    assert!(!due.iter().any(|d| d.kind == TimerKind::IcpcDue), "{due:?}");

    // A review conference only for a child on a CP plan: otherwise a conflict, nothing written.
    let review = format!("/cases/{}/review-conference", case.0);
    let refused = app.post_form(&review, Some(&tm), &[("csrf", &csrf), ("at", "")]).await;
    assert_refused(&refused, StatusCode::CONFLICT);
    assert!(refused.body.contains("review conferences are for children on a child protection plan"));
    assert_eq!(app.audit_len().await, before + 3);
    app.svc
        .start_plan(
            &app.tm,
            case,
            &commands::practice::PlanInput { plan: "cp".into(), category: Some("emotional".into()), at: None },
        )
        .await
        .unwrap();
    assert_page(&app.get_page(&review, Some(&tm)).await, "Record a review child protection conference");
    let ok = app.post_form(&review, Some(&tm), &[("csrf", &csrf), ("at", "")]).await;
    assert_redirect(&ok, &format!("/people/{}?done=review", child.0));
    assert_eq!(app.audit_len().await, before + 5);
});

app_test!(completing_the_assessment, |app| async move {
    let (case, child) = allocated_case(app, "Alfie").await;
    let path = format!("/cases/{}/assessment-complete", case.0);
    let (sw, csrf) = app.session("sw1").await;
    assert_page(&app.get_page(&path, Some(&sw)).await, "Complete the assessment");
    let (sw2, sw2_csrf) = app.session("sw2").await;
    assert_refused(&app.get_page(&path, Some(&sw2)).await, StatusCode::FORBIDDEN);
    let (pc, _) = app.session("pc1").await;
    assert_refused(&app.get_page(&path, Some(&pc)).await, StatusCode::FORBIDDEN);

    let before = app.audit_len().await;
    let other = app.post_form(&path, Some(&sw2), &[("csrf", &sw2_csrf), ("at", "")]).await;
    assert_refused(&other, StatusCode::FORBIDDEN);
    let forged = app.post_form(&path, Some(&sw), &[("csrf", "x"), ("at", "")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let bad = app.post_form(&path, Some(&sw), &[("csrf", &csrf), ("at", "31/02/2026")]).await;
    assert_invalid(&bad, "at", "must be a date and time such as 2026-03-02T09:30");
    assert_eq!(app.audit_len().await, before);

    let ok = app.post_form(&path, Some(&sw), &[("csrf", &csrf), ("at", "")]).await;
    assert_redirect(&ok, &format!("/people/{}?done=assessment", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    let due = app.svc.due_for_child(&app.tm, child).await.unwrap();
    assert!(!due.iter().any(|d| d.kind == TimerKind::AssessmentDue), "{due:?}");
    let record = app.get_page(&format!("/people/{}?done=assessment", child.0), Some(&sw)).await;
    assert!(record.body.contains("Assessment completed"));
    assert!(!record.body.contains(&format!("href=\"{path}\"")), "no longer offered");
    let again = app.post_form(&path, Some(&sw), &[("csrf", &csrf), ("at", "")]).await;
    assert_refused(&again, StatusCode::CONFLICT);
    assert_eq!(app.audit_len().await, before + 2, "the assessment, and the record read once");
});

app_test!(recording_a_threshold_decision, |app| async move {
    let (_, child) = allocated_case(app, "Alfie").await;
    let path = format!("/people/{}/threshold-decision", child.0);
    let (tm, csrf) = app.session("tm1").await;
    assert_page(&app.get_page(&path, Some(&tm)).await, "Record a threshold decision about Alfie Scott");
    for login in ["sw1", "pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page(&path, Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page(&path, None).await);
    assert_refused(&app.get_page("/people/999/threshold-decision", Some(&tm)).await, StatusCode::NOT_FOUND);

    let before = app.audit_len().await;
    let blank = app
        .post_form(
            &path,
            Some(&tm),
            &[("csrf", &csrf), ("forum", ""), ("outcome", ""), ("reason", ""), ("review_by", "")],
        )
        .await;
    assert_invalid(&blank, "forum", "choose where the decision was made");
    assert_invalid(&blank, "outcome", "choose whether the threshold was met");
    assert_invalid(&blank, "reason", "enter the reason");
    let no_review = app
        .post_form(
            &path,
            Some(&tm),
            &[
                ("csrf", &csrf),
                ("forum", "strategy_discussion"),
                ("outcome", "not_met"),
                ("reason", "Family engaging well"),
                ("review_by", ""),
            ],
        )
        .await;
    assert_invalid(&no_review, "review_by", "a decision that the threshold is not met needs a review date");
    let forged = app
        .post_form(
            &path,
            Some(&tm),
            &[("csrf", "x"), ("forum", "strategy_discussion"), ("outcome", "met"), ("reason", "r")],
        )
        .await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    let ok = app
        .post_form(
            &path,
            Some(&tm),
            &[
                ("csrf", &csrf),
                ("forum", "strategy_discussion"),
                ("outcome", "not_met"),
                ("reason", "Mother engaging with the health visitor"),
                ("cooperation_noted", "yes"),
                ("review_by", "2026-04-01"),
            ],
        )
        .await;
    assert_redirect(&ok, &format!("/people/{}?done=threshold", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    let history = app.svc.practice_history(&app.tm, child).await.unwrap();
    assert_eq!(history.decisions.len(), 1);
    assert!(history.decisions[0].cooperation_noted);
    let record = app.get_page(&format!("/people/{}?done=threshold", child.0), Some(&tm)).await;
    assert!(record.body.contains("Threshold decision recorded"));
    assert!(record.body.contains("Threshold not met at a strategy discussion (s47 threshold); review by 1 Apr 2026; the family’s cooperation was a reason"));
    assert!(record.body.contains("Mother engaging with the health visitor"));
    assert!(record.body.contains("Threshold decision reviewed"), "the review is due next");
});

app_test!(recording_a_new_concern, |app| async move {
    let (_, child) = allocated_case(app, "Alfie").await;
    let path = format!("/people/{}/concerns", child.0);
    let (sw, csrf) = app.session("sw1").await;
    let page = app.get_page(&path, Some(&sw)).await;
    assert_page(&page, "Record a new concern about Alfie Scott");
    assert!(page.body.contains("id=\"categories\" name=\"categories\" type=\"checkbox\" value=\"physical\""));
    for login in ["pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(&app.get_page(&path, Some(&c)).await, StatusCode::FORBIDDEN);
    }
    assert_sign_in(&app.get_page(&path, None).await);

    let (pc, pc_csrf) = app.session("pc1").await;
    let before = app.audit_len().await;
    let blank =
        app.post_form(&path, Some(&sw), &[("csrf", &csrf), ("source", ""), ("concern", ""), ("received_at", "")]).await;
    assert_invalid(&blank, "source", "choose where the concern came from");
    assert_invalid(&blank, "concern", "enter the concern");
    assert_invalid(&blank, "categories", "choose at least one category of concern");
    let forged = app
        .post_form(
            &path,
            Some(&sw),
            &[("csrf", "x"), ("source", "police"), ("concern", "c"), ("categories", "neglect")],
        )
        .await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let partner = app
        .post_form(
            &path,
            Some(&pc),
            &[("csrf", &pc_csrf), ("source", "police"), ("concern", "c"), ("categories", "neglect")],
        )
        .await;
    assert_refused(&partner, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);

    let ok = app
        .post_form(
            &path,
            Some(&sw),
            &[
                ("csrf", &csrf),
                ("source", "police"),
                ("concern", "Police called to a domestic incident; Alfie present"),
                ("categories", "emotional"),
                ("categories", "neglect"),
                ("received_at", ""),
            ],
        )
        .await;
    assert_redirect(&ok, &format!("/people/{}?done=concern", child.0));
    assert_eq!(app.audit_len().await, before + 1);
    let history = app.svc.practice_history(&app.tm, child).await.unwrap();
    assert_eq!(history.concerns.len(), 1);
    assert_eq!(history.concerns[0].categories.len(), 2);
    let record = app.get_page(&format!("/people/{}?done=concern", child.0), Some(&sw)).await;
    assert!(record.body.contains("Concern recorded"));
    assert!(record.body.contains("From police; concern: Neglect, Emotional abuse"), "{}", record.body);
    assert!(record.body.contains("Police called to a domestic incident; Alfie present"));
});

app_test!(a_concern_after_threshold_not_met_goes_to_the_service_manager, |app| async move {
    let (_, child) = allocated_case(app, "Alfie").await;
    app.svc
        .threshold_decision(
            &app.tm,
            child,
            &commands::practice::ThresholdInput {
                forum: "strategy_discussion".into(),
                outcome: "not_met".into(),
                reason: "Family engaging".into(),
                cooperation_noted: true,
                review_by: Some("2026-05-01".into()),
            },
        )
        .await
        .unwrap();
    let (sw, csrf) = app.session("sw1").await;
    let ok = app
        .post_form(
            &format!("/people/{}/concerns", child.0),
            Some(&sw),
            &[("csrf", &csrf), ("source", "school"), ("concern", "Hungry at school again"), ("categories", "neglect")],
        )
        .await;
    assert_redirect(&ok, &format!("/people/{}?done=concern", child.0));
    let mine = app.svc.my_escalations(&app.sm).await.unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let (sm, _) = app.session("sm1").await;
    let page = app.get_page(&format!("/escalations/{}", mine[0].id.0), Some(&sm)).await;
    assert_page(&page, "New concern after threshold not met: Alfie Scott");
    assert!(
        page.body.contains(&format!("href=\"/people/{}#chronology\"", child.0)),
        "the whole chronology is put in front of them"
    );
    assert!(page.body.contains("Family engaging"), "the decision's reason");
});
