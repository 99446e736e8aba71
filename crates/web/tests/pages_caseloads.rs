//! The caseload dashboard in the browser's terms: managers see the page (with its SVG
//! chart and the working), the CSV and the JSON; practitioners and partners do not.
#![allow(clippy::unwrap_used)]

mod api_support;
mod support;

use api_support::{Api, open_case};
use axum::http::{Method, StatusCode, header};

app_test!(managers_see_caseloads_others_do_not, |app| async move {
    let api = Api::new(app);
    let (tm, sw, pc) = (app.token(&app.tm).await, app.token(&app.sw).await, app.token(&app.partner).await);
    // One case allocated to sw1.
    let (case, _) = open_case(&api, &tm, "assessment").await;
    api.command(
        Method::POST,
        &format!("/api/v1/cases/{case}/allocation"),
        &tm,
        serde_json::json!({"worker": app.sw.staff.0}),
        StatusCode::OK,
    )
    .await;

    let d = api.get_ok(&format!("/api/v1/caseloads?team={}", app.team.0), &tm).await;
    let sw1 = d["workers"].as_array().unwrap().iter().find(|w| w["id"] == app.sw.staff.0).unwrap().clone();
    assert_eq!(
        (sw1["open_cases"].as_i64(), sw1["load"].as_f64(), sw1["cap"].as_f64()),
        (Some(1), Some(1.0), Some(15.0))
    );
    assert_eq!(d["gap"]["fte_needed"], 0.0);
    for who in [&sw, &pc] {
        api.refused(Method::GET, "/api/v1/caseloads", Some(who), None, StatusCode::FORBIDDEN, None).await;
    }
    api.refused(Method::GET, "/api/v1/caseloads?team=999", Some(&tm), None, StatusCode::NOT_FOUND, None).await;

    let (cookie, _) = app.session("tm1").await;
    let page = app.get_page(&format!("/caseloads?team={}", app.team.0), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg") && page.body.contains("Workers by caseload against their cap"));
    assert!(page.body.contains("Nobody is over their cap"), "the working is shown");
    assert!(page.body.contains("Expected open cases (Little"), "the forecast's working is shown:\n{}", page.body);
    let csv = app.get_page(&format!("/caseloads.csv?team={}", app.team.0), Some(&cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with("worker_id,name,role,fte,open_cases,load,cap,headroom,over_cap\n"));
    assert!(csv.body.contains(&format!("{},", app.sw.staff.0)));
    assert!(csv.body.contains("fte_needed_today,0"));
    // Timeliness month by month: a line chart, a table row per month, and a CSV section
    // with one line for each of the 12 months.
    assert!(page.body.contains("Share of deadlines met on time, by month"));
    assert_eq!(page.body.matches("<th scope=\"row\">20").count(), 12, "a row per month");
    let monthly = csv.body.split("month,referrals_due,referrals_on_time").nth(1).expect("a monthly section");
    assert_eq!(monthly.lines().skip(1).filter(|l| !l.is_empty()).count(), 12);
    let (sw_cookie, sw_csrf) = app.session("sw1").await;
    assert_eq!(app.get_page("/caseloads", Some(&sw_cookie)).await.status, StatusCode::FORBIDDEN);

    // sw1 is leaving: the manager moves all their cases from their page (spread across the
    // team); a worker cannot.
    let theirs = format!("/staff/{}", app.sw.staff.0);
    let (tm_cookie, tm_csrf) = app.session("tm1").await;
    let staff_page = app.get_page(&theirs, Some(&tm_cookie)).await;
    assert!(staff_page.body.contains("Move all their cases"));
    let move_all = format!("{theirs}/reallocate");
    let refused = app.post_form(&move_all, Some(&sw_cookie), &[("csrf", &sw_csrf), ("to", "")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let moved = app.post_form(&move_all, Some(&tm_cookie), &[("csrf", &tm_csrf), ("to", "")]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let d = api.get_ok(&format!("/api/v1/caseloads?team={}", app.team.0), &tm).await;
    let loads: Vec<(i64, i64)> = d["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_i64().unwrap(), w["open_cases"].as_i64().unwrap()))
        .collect();
    assert!(loads.contains(&(app.sw.staff.0, 0)), "{loads:?}");
    assert_eq!(loads.iter().map(|(_, n)| n).sum::<i64>(), 1, "the case moved to a colleague");
    // Nothing left to move: said beside the field.
    let again = app.post_form(&move_all, Some(&tm_cookie), &[("csrf", &tm_csrf), ("to", "")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("holds no open cases"));
});
