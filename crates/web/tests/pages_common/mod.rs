//! Helpers shared by the page tests: setting up referrals and cases through the
//! service, and checks every page must pass.
#![allow(dead_code)]

use crate::support::{Reply, TestApp};
use axum::http::StatusCode;
use commands::input::{AllocationInput, DecisionInput, ReferralInput};
use domain::ids::{CaseId, PersonId, ReferralId};

/// Asserts a page rendered: 200, exactly one `h1`, holding `h1`.
pub fn assert_page(r: &Reply, h1: &str) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.matches("<h1").count(), 1, "exactly one h1:\n{}", r.body);
    let start = r.body.find("<h1").unwrap();
    let end = start + r.body[start..].find("</h1>").unwrap();
    assert!(r.body[start..end].contains(h1), "h1 should say {h1:?}: {}", &r.body[start..end]);
}

/// Asserts a refusal page with `status`.
pub fn assert_refused(r: &Reply, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body.matches("<h1").count(), 1);
}

/// Asserts a redirect to the sign-in page.
pub fn assert_sign_in(r: &Reply) {
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.headers.get("location").unwrap().to_str().unwrap();
    assert!(to.starts_with("/login"), "redirected to {to}");
}

/// Asserts a 303 to `to`.
pub fn assert_redirect(r: &Reply, to: &str) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers.get("location").unwrap().to_str().unwrap(), to);
}

/// Asserts a refused form: 422, the error summary links to `#anchor`, and `message`
/// appears beside the field (inside its error message) as well as in the summary.
pub fn assert_invalid(r: &Reply, anchor: &str, message: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("There is a problem"), "error summary");
    assert!(r.body.contains(&format!("href=\"#{anchor}\"")), "summary link to #{anchor}:\n{}", r.body);
    assert!(r.body.contains(&format!("id=\"{anchor}\"")), "an element with id {anchor}:\n{}", r.body);
    let beside = format!("id=\"{anchor}-error\"><span class=\"visually-hidden\">Error:</span> {message}");
    assert!(r.body.contains(&beside), "message {message:?} beside #{anchor}:\n{}", r.body);
    assert_eq!(r.body.matches("<h1").count(), 1);
}

/// A referral about a new child, through the service.
pub fn referral_input(app: &TestApp, given: &str) -> ReferralInput {
    serde_json::from_value(serde_json::json!({
        "team": app.team.0, "source": "school", "referrer": "Head teacher, Hill School",
        "concern": "bruising to face", "categories": ["physical"],
        "children": [{"given_name": given, "family_name": "Scott", "dob": "2014-01-01", "sex": "male"}]
    }))
    .unwrap()
}

/// A referral made by the social worker.
pub async fn referral(app: &TestApp, given: &str) -> (ReferralId, PersonId) {
    let r = app.svc.create_referral(&app.sw, &referral_input(app, given)).await.unwrap();
    let child = app.svc.referral(&app.tm, r).await.unwrap().children[0].id;
    (r, child)
}

/// A referral decided for assessment: its open, unallocated case.
pub async fn open_case(app: &TestApp, given: &str) -> (CaseId, PersonId) {
    let (r, child) = referral(app, given).await;
    let out = app
        .svc
        .decide_referral(&app.tm, r, &DecisionInput { decision: "assessment".into(), reason: "needs assessing".into() })
        .await
        .unwrap();
    (out.opened[0], child)
}

/// An open case allocated to sw1.
pub async fn allocated_case(app: &TestApp, given: &str) -> (CaseId, PersonId) {
    let (case, child) = open_case(app, given).await;
    app.svc
        .allocate(&app.tm, case, &AllocationInput { worker: Some(app.sw.staff.0), override_reason: None })
        .await
        .unwrap();
    (case, child)
}

/// A child on a child protection plan, allocated to sw1, whose visit found no one in:
/// a `child_not_seen` escalation is raised at once, held by the team manager.
pub async fn cp_child_not_seen(app: &TestApp, given: &str) -> (CaseId, PersonId, domain::escalation::EscalationId) {
    let (case, child) = allocated_case(app, given).await;
    app.svc
        .start_plan(
            &app.tm,
            case,
            &commands::practice::PlanInput { plan: "cp".into(), category: Some("neglect".into()), at: None },
        )
        .await
        .unwrap();
    app.svc
        .record_visit(
            &app.sw,
            case,
            &commands::input::VisitInput {
                visited_at: None,
                outcome: "no_access".into(),
                note: Some("No answer at the door".into()),
            },
        )
        .await
        .unwrap();
    let esc = app.svc.child_escalations(&app.tm, child).await.unwrap();
    let open: Vec<_> = esc.iter().filter(|e| e.trigger == domain::escalation::Trigger::ChildNotSeen).collect();
    assert_eq!(open.len(), 1, "one child_not_seen escalation: {esc:?}");
    (case, child, open[0].id)
}

/// Asserts a page does not offer a form posting to `action`.
pub fn assert_no_form(r: &Reply, action: &str) {
    assert!(!r.body.contains(&format!("action=\"{action}\"")), "no form to {action}:\n{}", r.body);
}

/// Asserts a page offers a form posting to `action`.
pub fn assert_form(r: &Reply, action: &str) {
    assert!(r.body.contains(&format!("action=\"{action}\"")), "a form to {action}:\n{}", r.body);
}
