//! The whole foundation slice through the pages only, as people would use it: a
//! referral about a new child, the decision, allocation, two visits, and the child's
//! record showing all of it. Also the pages' 404.
// A test that cannot unwrap has failed; the panic names the step.
#![allow(clippy::unwrap_used)]

mod pages_common;
mod support;

use axum::http::StatusCode;
use pages_common::*;

/// The first number right after `prefix` in `text` (ids inside links and redirects).
fn id_after(text: &str, prefix: &str) -> i64 {
    text.match_indices(prefix)
        .find_map(|(i, _)| {
            text[i + prefix.len()..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
        })
        .unwrap_or_else(|| panic!("no id after {prefix} in {text}"))
}

fn location(r: &support::Reply) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.headers.get("location").unwrap().to_str().unwrap().to_string()
}

app_test!(referral_to_visits_through_the_pages, |app| async move {
    // A social worker takes a call from a school.
    let (sw, sw_csrf) = app.session("sw1").await;
    assert_page(&app.get_page("/referrals/new", Some(&sw)).await, "Make a referral");
    let team = app.team.0.to_string();
    let made = app
        .post_form(
            "/referrals",
            Some(&sw),
            &[
                ("csrf", &sw_csrf),
                ("team", &team),
                ("source", "school"),
                ("referrer", "Head teacher, Hill School"),
                ("concern", "Bruising to the face, says she fell"),
                ("categories", "physical"),
                ("children[0].given_name", "Ruby"),
                ("children[0].family_name", "Hart"),
                ("children[0].dob", "2016-05-04"),
                ("children[0].dob_precision", "known"),
                ("children[0].sex", "female"),
            ],
        )
        .await;
    let referral = id_after(&location(&made), "/referrals/");

    // The team manager sees it waiting and decides.
    let (tm, tm_csrf) = app.session("tm1").await;
    let work = app.get_page("/my-work", Some(&tm)).await;
    assert!(work.body.contains(&format!("href=\"/referrals/{referral}/decide\"")));
    assert_page(&app.get_page(&format!("/referrals/{referral}/decide"), Some(&tm)).await, "Decide on referral");
    let decided = app
        .post_form(
            &format!("/referrals/{referral}/decide"),
            Some(&tm),
            &[("csrf", &tm_csrf), ("decision", "assessment"), ("reason", "injury with an inconsistent account")],
        )
        .await;
    let page = app.get_page(&location(&decided), Some(&tm)).await;
    assert!(page.body.contains("Child and family assessment"));
    let case = id_after(&page.body, "href=\"/cases/");

    // ...and allocates with the team's workload in view.
    let form = app.get_page(&format!("/cases/{case}/allocate"), Some(&tm)).await;
    assert_page(&form, "Allocate Ruby Hart’s case");
    let allocated = app
        .post_form(
            &format!("/cases/{case}/allocate"),
            Some(&tm),
            &[("csrf", &tm_csrf), ("worker", &app.sw.staff.0.to_string())],
        )
        .await;
    let record_path = location(&allocated);
    let child = id_after(&record_path, "/people/");

    // Two days later the worker visits: no access in the morning, seen alone later.
    app.clock.set("2026-03-04T16:00:00Z".parse().unwrap());
    let (sw, sw_csrf) = app.session("sw1").await;
    let work = app.get_page("/my-work", Some(&sw)).await;
    assert!(work.body.contains(&format!("<a href=\"/people/{child}\">Ruby Hart</a>")));
    assert_page(&app.get_page(&format!("/cases/{case}/visits/new"), Some(&sw)).await, "Record a visit to Ruby Hart");
    let first = app
        .post_form(
            &format!("/cases/{case}/visits"),
            Some(&sw),
            &[
                ("csrf", &sw_csrf),
                ("visited_at", "2026-03-04T11:00"),
                ("outcome", "no_access"),
                ("note", "no answer at the door"),
            ],
        )
        .await;
    assert_eq!(location(&first), format!("/people/{child}?done=visit"));
    let second = app
        .post_form(
            &format!("/cases/{case}/visits"),
            Some(&sw),
            &[
                ("csrf", &sw_csrf),
                ("visited_at", ""),
                ("outcome", "seen_alone"),
                ("note", "spoke with Ruby in her room"),
            ],
        )
        .await;
    assert_eq!(location(&second), format!("/people/{child}?done=visit"));

    // The record shows the whole story, in order.
    let record = app.get_page(&format!("/people/{child}"), Some(&sw)).await;
    assert_page(&record, "Ruby Hart");
    let body = &record.body;
    let chronology = &body[body.find("id=\"chronology\"").expect("chronology")..];
    let order = [
        format!("R-{referral} received from School or education (Head teacher, Hill School); concern: Physical abuse"),
        format!("R-{referral}: Child and family assessment"),
        "injury with an inconsistent account".to_string(),
        format!("C-{case}: Assessment"),
        format!("C-{case} allocated to SW1 Person"),
        "No access".to_string(),
        "no answer at the door".to_string(),
        "Seen alone".to_string(),
        "spoke with Ruby in her room".to_string(),
    ];
    let mut at = 0;
    for item in &order {
        let found = chronology[at..]
            .find(item.as_str())
            .unwrap_or_else(|| panic!("{item:?} after position {at} in the chronology:\n{chronology}"));
        at += found + item.len();
    }
    assert!(body.contains("4 Mar 2026 11:00") && body.contains("4 Mar 2026 16:00"), "visit times in London time");
    assert!(body.contains("SW1 Person (since 2 Mar 2026 09:00)"));
    let last_seen_alone = &body[body.find("Last seen alone").unwrap()..];
    assert!(last_seen_alone[..200].contains("4 Mar 2026 16:00"));

    // The decision is visible against the referral too.
    let r = app.get_page(&format!("/referrals/{referral}"), Some(&sw)).await;
    assert!(r.body.contains("Child and family assessment") && r.body.contains("SW1 Person"));
});

app_test!(unknown_pages_are_404_and_the_api_keeps_problem_details, |app| async move {
    let (cookie, _) = app.session("sw1").await;
    let page = app.get_page("/no-such-page", Some(&cookie)).await;
    assert_refused(&page, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
    assert!(page.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    let api = app.api(axum::http::Method::GET, "/api/v1/no-such-thing", None, None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.headers.get("content-type").unwrap(), "application/problem+json");
    assert_eq!(api.json()["status"], 404);
});
