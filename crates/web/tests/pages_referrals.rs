//! The referral pages: intake (new children, existing children, several children),
//! the list, one referral and the decision.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use domain::referral::Decision;
use pages_common::*;
use store::query::ReferralFilter;

/// The fields of a good referral about one new child.
fn good(team: &str, csrf: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_string()),
        ("team", team.to_string()),
        ("source", "school".into()),
        ("referrer", "Head teacher, Hill School".into()),
        ("received_at", "2026-03-02T08:30".into()),
        ("concern", "Came to school with bruising to the face".into()),
        ("categories", "physical".into()),
        ("categories", "neglect".into()),
        ("children[0].given_name", "Alfie".into()),
        ("children[0].family_name", "Scott".into()),
        ("children[0].dob", "2014-01-31".into()),
        ("children[0].dob_precision", "known".into()),
        ("children[0].sex", "male".into()),
        ("children[0].nhs_number", "943 476 5919".into()),
        ("children[0].upn", "".into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn without(v: &[(&'static str, String)], key: &str) -> Vec<(&'static str, String)> {
    v.iter().filter(|(k, _)| *k != key).cloned().collect()
}

async fn all_referrals(app: &support::TestApp) -> Vec<store::query::ReferralView> {
    app.svc.referrals(&app.tm, ReferralFilter { limit: 1000, ..Default::default() }).await.unwrap()
}

app_test!(the_intake_form_is_for_staff_and_partners, |app| async move {
    for login in ["sw1", "tm1", "pc1"] {
        let (cookie, csrf) = app.session(login).await;
        let r = app.get_page("/referrals/new", Some(&cookie)).await;
        assert_page(&r, "Make a referral");
        assert!(r.body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
        for id in [
            "team",
            "source",
            "referrer",
            "received_at",
            "concern",
            "categories",
            "children-0--given_name",
            "children-0--family_name",
            "children-0--dob",
            "children-0--dob_precision",
            "children-0--sex",
            "children-0--nhs_number",
            "children-0--upn",
        ] {
            assert!(r.body.contains(&format!("id=\"{id}\"")), "{login}: field {id}");
        }
        assert!(r.body.contains("name=\"categories\" type=\"checkbox\""));
        assert!(r.body.contains(">North</option>"), "teams to choose from");
    }
    let (cookie, _) = app.session("admin").await;
    assert_refused(&app.get_page("/referrals/new", Some(&cookie)).await, StatusCode::FORBIDDEN);
    assert_sign_in(&app.get_page("/referrals/new", None).await);
});

app_test!(a_referral_about_a_new_child_is_recorded, |app| async move {
    let (cookie, csrf) = app.session("sw1").await;
    let before = app.audit_len().await;
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&good(&app.team.0.to_string(), &csrf))).await;
    let list = all_referrals(app).await;
    assert_eq!(list.len(), 1);
    assert_redirect(&r, &format!("/referrals/{}?done=referral", list[0].id.0));
    assert_eq!(app.audit_len().await, before + 1, "one referral, one audit entry");
    assert_eq!(list[0].children[0].name, "Alfie Scott");
    assert_eq!(list[0].categories.len(), 2);
    assert_eq!(list[0].received_at.to_string(), "2026-03-02T08:30:00Z");
    let person = app.svc.person(&app.sw, list[0].children[0].id).await.unwrap();
    assert_eq!(person.nhs_number.as_deref(), Some("9434765919"));

    let page = app.get_page(&format!("/referrals/{}?done=referral", list[0].id.0), Some(&cookie)).await;
    assert_page(&page, &format!("Referral {}", list[0].id.reference()));
    assert!(page.body.contains("Referral recorded"), "success banner");
    assert!(page.body.contains("Awaiting decision"));
    assert!(page.body.contains(&format!("href=\"/people/{}\"", list[0].children[0].id.0)));
});

app_test!(a_bad_referral_is_shown_again_with_every_error, |app| async move {
    let (cookie, csrf) = app.session("sw1").await;
    let before = app.audit_len().await;
    let mut fields = without(&without(&good(&app.team.0.to_string(), &csrf), "categories"), "children[0].family_name");
    fields.retain(|(k, _)| *k != "children[0].nhs_number");
    fields.push(("children[0].nhs_number", "943 476 5918".into()));
    fields.retain(|(k, _)| *k != "team");
    fields.push(("team", "".into()));
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_invalid(&r, "team", "choose the team receiving the referral");
    assert!(!r.body.contains("href=\"#source\""), "the source was given");
    assert_invalid(&r, "categories", "choose at least one category: physical, neglect, sexual or emotional");
    assert_invalid(&r, "children-0--family_name", "enter the family name");
    assert_invalid(&r, "children-0--nhs_number", "this is not a valid NHS number (check digit); check it for a typo");
    assert!(r.body.contains("<title>Error: Make a referral"));
    // What was typed is kept.
    assert!(r.body.contains("value=\"Alfie\""));
    assert!(r.body.contains("Came to school with bruising to the face</textarea>"));
    assert!(r.body.contains("value=\"943 476 5918\""));
    assert!(r.body.contains("value=\"school\" checked"));
    assert_eq!(app.audit_len().await, before, "a refused referral writes nothing");
    assert!(all_referrals(app).await.is_empty());

    // A time in the future is refused by the command itself.
    let mut fields = good(&app.team.0.to_string(), &csrf);
    fields.retain(|(k, _)| *k != "received_at");
    fields.push(("received_at", "2026-03-09T09:00".into()));
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_invalid(&r, "received_at", "the time received cannot be in the future");
    assert_eq!(app.audit_len().await, before);

    // A choice left empty is explained in words, not codes; a wrong code keeps the
    // command's list of what is accepted.
    let r = app
        .post_form("/referrals", Some(&cookie), &pairs(&without(&good(&app.team.0.to_string(), &csrf), "source")))
        .await;
    assert_invalid(&r, "source", "choose where the information came from");
    let mut fields = without(&good(&app.team.0.to_string(), &csrf), "source");
    fields.push(("source", "postman".into()));
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_invalid(&r, "source", "must be one of police, school, health, relative, neighbour, anonymous, self, other");
    assert_eq!(app.audit_len().await, before);
});

app_test!(a_referral_without_the_csrf_token_is_refused, |app| async move {
    let (cookie, _) = app.session("sw1").await;
    let before = app.audit_len().await;
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&good(&app.team.0.to_string(), "forged"))).await;
    assert_refused(&r, StatusCode::FORBIDDEN);
    let r =
        app.post_form("/referrals", Some(&cookie), &pairs(&without(&good(&app.team.0.to_string(), ""), "csrf"))).await;
    assert_refused(&r, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before);
    assert!(all_referrals(app).await.is_empty());
    assert_sign_in(&app.post_form("/referrals", None, &pairs(&good(&app.team.0.to_string(), ""))).await);
});

app_test!(more_than_one_child_without_javascript, |app| async move {
    let (cookie, csrf) = app.session("sw1").await;
    let before = app.audit_len().await;
    let mut fields = good(&app.team.0.to_string(), &csrf);
    fields.push(("add_child", "1".into()));
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_page(&r, "Make a referral");
    assert!(r.body.contains("id=\"children-1--given_name\""), "a second, blank child block");
    assert!(r.body.contains("value=\"Alfie\""), "the first child is kept");
    assert!(r.body.contains("Remove child 2"));
    assert_eq!(app.audit_len().await, before, "adding a block records nothing");

    // A block added and left empty is ignored.
    let mut fields = good(&app.team.0.to_string(), &csrf);
    fields.extend([("children[1].given_name", "".to_string()), ("children[1].dob_precision", "known".into())]);
    app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_eq!(all_referrals(app).await[0].children.len(), 1);

    // A second child's errors name that child. (Alfie Scott is recorded now, so the
    // form asks whether this is him: the answer is someone new.)
    let mut fields = good(&app.team.0.to_string(), &csrf);
    fields.extend([("children[0].checked", "1".to_string()), ("children[0].choice", "new".into())]);
    fields.extend([("children[1].given_name", "Bella".to_string()), ("children[1].dob_precision", "unknown".into())]);
    let before = app.audit_len().await;
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_invalid(&r, "children-1--family_name", "enter the family name");
    assert_eq!(app.audit_len().await, before);

    fields.push(("children[1].family_name", "Scott".into()));
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let latest = &all_referrals(app).await[0];
    assert_eq!(latest.children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Alfie Scott", "Bella Scott"]);

    // Removing a block re-shows the form without it.
    let mut fields = good(&app.team.0.to_string(), &csrf);
    fields.extend([("children[1].given_name", "Bella".to_string()), ("remove_child", "0".into())]);
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&fields)).await;
    assert_page(&r, "Make a referral");
    assert!(r.body.contains("value=\"Bella\"") && !r.body.contains("value=\"Alfie\""));
    assert!(!r.body.contains("children-1--given_name"));
});

app_test!(a_referral_about_a_child_already_known, |app| async move {
    let (_, child) = referral(app, "Alfie").await;
    let (cookie, csrf) = app.session("sw1").await;
    let page = app.get_page(&format!("/referrals/new?person={}", child.0), Some(&cookie)).await;
    assert_page(&page, "Make a referral");
    assert!(page.body.contains(&format!("name=\"children[0].person_id\" value=\"{}\"", child.0)));
    assert!(page.body.contains("Alfie Scott, born 1 Jan 2014"));
    assert!(!page.body.contains("id=\"children-0--given_name\""));

    let before = app.audit_len().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("team", &app.team.0.to_string()),
        ("source", "police"),
        ("concern", "domestic abuse incident at the home"),
        ("categories", "emotional"),
        ("children[0].person_id", &child.0.to_string()),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let r = app
        .post_form("/referrals", Some(&cookie), &fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.audit_len().await, before + 1);
    let about = app
        .svc
        .referrals(&app.tm, ReferralFilter { child: Some(child), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(about.len(), 2, "both referrals are on the same child");
    assert_eq!(app.svc.search_people(&app.sw, "Scott").await.unwrap().len(), 1, "no duplicate person");

    // An id that is no one is named on the form.
    let before = app.audit_len().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("team", &app.team.0.to_string()),
        ("source", "police"),
        ("concern", "x"),
        ("categories", "emotional"),
        ("children[0].person_id", "999"),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let r = app
        .post_form("/referrals", Some(&cookie), &fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_invalid(&r, "children-0--person_id", "there is no person P-999");
    assert_eq!(app.audit_len().await, before);

    // Partners cannot look people up this way.
    let (pc, _) = app.session("pc1").await;
    assert_refused(
        &app.get_page(&format!("/referrals/new?person={}", child.0), Some(&pc)).await,
        StatusCode::FORBIDDEN,
    );
});

app_test!(partners_see_only_their_own_referrals, |app| async move {
    let (theirs_other, _) = referral(app, "Other").await;
    let (cookie, csrf) = app.session("pc1").await;
    let r = app.post_form("/referrals", Some(&cookie), &pairs(&good(&app.team.0.to_string(), &csrf))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mine = app.svc.referrals(&app.partner, ReferralFilter::default()).await.unwrap();
    assert_eq!(mine.len(), 1);

    let list = app.get_page("/referrals", Some(&cookie)).await;
    assert_page(&list, "Referrals");
    assert!(list.body.contains(&mine[0].id.reference()));
    assert!(!list.body.contains(&theirs_other.reference()), "another's referral is not listed");
    assert!(list.body.contains("Awaiting decision"));
    assert_refused(
        &app.get_page(&format!("/referrals/{}", theirs_other.0), Some(&cookie)).await,
        StatusCode::NOT_FOUND,
    );

    // Once decided, the partner sees the outcome but not the links into the record.
    app.svc
        .decide_referral(
            &app.tm,
            mine[0].id,
            &commands::input::DecisionInput { decision: "early_help".into(), reason: "family support".into() },
        )
        .await
        .unwrap();
    let page = app.get_page(&format!("/referrals/{}", mine[0].id.0), Some(&cookie)).await;
    assert_page(&page, &mine[0].id.reference());
    assert!(page.body.contains("Early help"));
    assert!(!page.body.contains("href=\"/people/"), "no links to records a partner cannot see");
    let list = app.get_page("/referrals", Some(&cookie)).await;
    assert!(list.body.contains("Early help"));
});

app_test!(the_list_filters_for_practice_staff, |app| async move {
    let (decided, _) = referral(app, "Decided").await;
    let (waiting, _) = referral(app, "Waiting").await;
    app.svc
        .decide_referral(
            &app.tm,
            decided,
            &commands::input::DecisionInput { decision: "nfa".into(), reason: "no concerns".into() },
        )
        .await
        .unwrap();
    let (cookie, _) = app.session("sw1").await;
    let all = app.get_page("/referrals", Some(&cookie)).await;
    assert_page(&all, "Referrals");
    assert!(all.body.contains(&decided.reference()) && all.body.contains(&waiting.reference()));
    let undecided = app.get_page(&format!("/referrals?team={}&undecided=1", app.team.0), Some(&cookie)).await;
    assert_page(&undecided, "Referrals");
    assert!(
        !undecided.body.contains(&format!(">{}<", decided.reference()))
            && undecided.body.contains(&waiting.reference())
    );
    assert!(undecided.body.contains("id=\"undecided\" name=\"undecided\" type=\"checkbox\" value=\"1\" checked"));
    let (admin, _) = app.session("admin").await;
    assert_refused(&app.get_page("/referrals", Some(&admin)).await, StatusCode::FORBIDDEN);
    assert_sign_in(&app.get_page("/referrals", None).await);
    assert_refused(&app.get_page("/referrals/999", Some(&cookie)).await, StatusCode::NOT_FOUND);
    assert_refused(&app.get_page("/referrals/R-1", Some(&cookie)).await, StatusCode::NOT_FOUND);
});

app_test!(the_decision_page_shows_the_whole_history, |app| async move {
    let (first, child) = referral(app, "Alfie").await;
    app.svc
        .decide_referral(
            &app.tm,
            first,
            &commands::input::DecisionInput { decision: "nfa".into(), reason: "explained as a fall".into() },
        )
        .await
        .unwrap();
    let mut again = referral_input(app, "x");
    again.children = vec![commands::input::ReferralChildInput { person_id: Some(child.0), ..Default::default() }];
    let second = app.svc.create_referral(&app.partner, &again).await.unwrap();

    let (cookie, _) = app.session("tm1").await;
    let page = app.get_page(&format!("/referrals/{}/decide", second.0), Some(&cookie)).await;
    assert_page(&page, &format!("Decide on referral {}", second.reference()));
    assert!(
        page.body.contains(&format!("href=\"/referrals/{}\">{}</a>", first.0, first.reference())),
        "the earlier referral"
    );
    assert!(page.body.contains("explained as a fall"), "and its reasons");
    for (i, d) in Decision::ALL.iter().enumerate() {
        let id = if i == 0 { "decision".to_string() } else { format!("decision-{}", d.code()) };
        assert!(page.body.contains(&format!("id=\"{id}\" name=\"decision\" type=\"radio\" value=\"{}\"", d.code())));
        assert!(page.body.contains(d.label()));
    }
    assert!(page.body.contains("id=\"reason\" name=\"reason\""));
    assert!(page.body.contains("Record decision"));

    for login in ["sw1", "pc1", "admin"] {
        let (c, _) = app.session(login).await;
        assert_refused(
            &app.get_page(&format!("/referrals/{}/decide", second.0), Some(&c)).await,
            StatusCode::FORBIDDEN,
        );
    }
    assert_sign_in(&app.get_page(&format!("/referrals/{}/decide", second.0), None).await);
    // A decided referral's decision page leads to the referral.
    assert_redirect(
        &app.get_page(&format!("/referrals/{}/decide", first.0), Some(&cookie)).await,
        &format!("/referrals/{}", first.0),
    );
});

app_test!(deciding_a_referral, |app| async move {
    let (r, child) = referral(app, "Alfie").await;
    let path = format!("/referrals/{}/decide", r.0);
    let (cookie, csrf) = app.session("tm1").await;

    let before = app.audit_len().await;
    let bad = app.post_form(&path, Some(&cookie), &[("csrf", &csrf), ("decision", ""), ("reason", "  ")]).await;
    assert_invalid(&bad, "decision", "choose what happens next");
    assert_invalid(&bad, "reason", "enter the reason");
    let forged =
        app.post_form(&path, Some(&cookie), &[("csrf", "nope"), ("decision", "assessment"), ("reason", "r")]).await;
    assert_refused(&forged, StatusCode::FORBIDDEN);
    let (sw, sw_csrf) = app.session("sw1").await;
    let before_sw = app.audit_len().await;
    let wrong_role =
        app.post_form(&path, Some(&sw), &[("csrf", &sw_csrf), ("decision", "assessment"), ("reason", "r")]).await;
    assert_refused(&wrong_role, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_len().await, before_sw);
    assert_eq!(before_sw, before + 1, "only the social worker's sign-in was written");
    assert_eq!(app.svc.referral(&app.tm, r).await.unwrap().decision, None);

    let before = app.audit_len().await;
    let ok = app
        .post_form(
            &path,
            Some(&cookie),
            &[("csrf", &csrf), ("decision", "assessment"), ("reason", "bruising needs assessing")],
        )
        .await;
    assert_redirect(&ok, &format!("/referrals/{}?done=decision", r.0));
    assert_eq!(app.audit_len().await, before + 1);
    let decided = app.svc.referral(&app.tm, r).await.unwrap();
    assert_eq!(decided.decision, Some(Decision::Assessment));
    assert_eq!(decided.decision_reason.as_deref(), Some("bruising needs assessing"));
    let cases =
        app.svc.cases(&app.tm, store::query::CaseFilter { child: Some(child), ..Default::default() }).await.unwrap();
    assert_eq!(cases.len(), 1, "the decision opened a case");

    let page = app.get_page(&format!("/referrals/{}?done=decision", r.0), Some(&cookie)).await;
    assert!(page.body.contains("Decision recorded"));
    assert!(page.body.contains("Child and family assessment"));
    assert!(page.body.contains(&format!("href=\"/cases/{}/allocate\"", cases[0].id.0)));

    // Deciding twice is refused beside the decision.
    let before = app.audit_len().await;
    let twice = app
        .post_form(&path, Some(&cookie), &[("csrf", &csrf), ("decision", "nfa"), ("reason", "changed my mind")])
        .await;
    assert_invalid(
        &twice,
        "decision",
        &format!("{} was already decided (assessment); record a new referral or concern instead", r.reference()),
    );
    assert_eq!(app.audit_len().await, before);
    assert_refused(
        &app.post_form(
            "/referrals/999/decide",
            Some(&cookie),
            &[("csrf", &csrf), ("decision", "nfa"), ("reason", "x")],
        )
        .await,
        StatusCode::NOT_FOUND,
    );
});
