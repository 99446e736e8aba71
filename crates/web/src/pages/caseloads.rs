//! The caseload dashboard: every worker's load against their cap (a histogram drawn
//! here as SVG, and a row each), unallocated cases, open escalations, the staffing gap
//! and its 12-month forecast with the working shown; printable, and as CSV.

use super::{Layout, render, waited, when};
use crate::{AppState, Origin, PageError, PageUser};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use commands::caseloads::Dashboard;
use domain::case::trim_number;
use domain::caseload::round_up_tenth;
use domain::event::Event;
use domain::ids::TeamId;
use serde::Deserialize;
use std::fmt::Write;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/caseloads", get(show)).route("/caseloads.csv", get(csv))
}

#[derive(Debug, Deserialize, Default)]
struct TeamQuery {
    #[serde(default)]
    team: Option<String>,
}

impl TeamQuery {
    /// The team asked for; anything but a positive number is "the whole service".
    fn team(&self) -> Option<TeamId> {
        self.team.as_deref().and_then(|t| t.parse::<i64>().ok()).filter(|t| *t > 0).map(TeamId)
    }
}

struct Row {
    id: i64,
    name: String,
    role: &'static str,
    fte: String,
    open_cases: i64,
    load: String,
    cap: String,
    headroom: String,
    over: bool,
    /// Load as a percentage of the cap, for the bar (capped at 200).
    pct: u32,
}

#[derive(askama::Template)]
#[template(path = "caseloads.html")]
struct Page {
    layout: Layout,
    title: String,
    team_query: String,
    teams: Vec<(i64, String, bool)>,
    at: String,
    cap_per_fte: String,
    weights: String,
    rows: Vec<Row>,
    chart: String,
    bands: Vec<(&'static str, usize)>,
    workers: usize,
    over: usize,
    fte: String,
    load: String,
    capacity: String,
    gap_working: Vec<String>,
    gap_fte: String,
    forecast_working: Vec<String>,
    forecast_gap: String,
    forecast_short: bool,
    from_closed: bool,
    unallocated: i64,
    oldest_unallocated: String,
    escalations: Vec<(usize, i64)>,
    /// (what, met, due, percentage) for each statutory measure.
    timeliness: Vec<(&'static str, i64, i64, String)>,
    /// Month by month: (month, then on time / due / share for referrals, assessments, visits).
    monthly: Vec<(String, [Cell; 3])>,
    /// The monthly shares as an SVG line chart.
    trend: String,
}

/// On time, due, and the share, for one measure in one month.
type Cell = (i64, i64, String);

/// "83%", or a dash when nothing fell due.
fn percent(met: i64, due: i64) -> String {
    if due == 0 { "—".into() } else { format!("{}%", (met as f64 * 100.0 / due as f64).round()) }
}

/// The share of each measure met on time, month by month, as an accessible SVG line
/// chart (the same figures are in the table beside it); a month where nothing fell due
/// breaks the line.
pub fn trend(t: &commands::caseloads::Timeliness) -> String {
    let (w, h, top, bottom, left, right) = (640.0, 260.0, 16.0, 64.0, 40.0, 8.0);
    let n = t.months.len().max(1);
    let step = (w - left - right) / (n.saturating_sub(1).max(1)) as f64;
    let x = |i: usize| left + step * i as f64;
    let y = |share: f64| top + (h - top - bottom) * (1.0 - share);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="trend-title trend-desc" class="chart"><title id="trend-title">Share of deadlines met on time, by month</title><desc id="trend-desc">Referral decisions, assessments and visits; the table beside it has the figures.</desc>"#
    );
    for pct in [0.0, 0.5, 1.0] {
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#b1b4b6" stroke-width="1"/><text x="{}" y="{}" font-size="11" text-anchor="end">{}%</text>"##,
            w - right,
            left - 4.0,
            y(pct) + 4.0,
            pct * 100.0,
            y = y(pct)
        );
    }
    for (i, month) in t.months.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="end" transform="rotate(-45 {} {})">{}</text>"#,
            x(i),
            h - bottom + 16.0,
            x(i),
            h - bottom + 16.0,
            escaped(month)
        );
    }
    let lines = [
        ("Referral decisions", "#1d70b8", &t.referrals),
        ("Assessments", "#f47738", &t.assessments),
        ("Visits", "#00703c", &t.visits),
    ];
    for (k, (label, colour, series)) in lines.iter().enumerate() {
        let mut path = String::new();
        let mut pen_down = false;
        for i in 0..series.due.len() {
            if series.due[i] == 0 {
                pen_down = false;
                continue;
            }
            let share = series.on_time[i] as f64 / series.due[i] as f64;
            let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(share));
            pen_down = true;
            let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#, x(i), y(share));
        }
        if !path.is_empty() {
            let _ = write!(s, r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#, path.trim_end());
        }
        let lx = left + 170.0 * k as f64;
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}" font-size="12">{label}</text>"#,
            h - 14.0,
            lx + 16.0,
            h - 3.0
        );
    }
    s.push_str("</svg>");
    s
}

/// The histogram as an accessible SVG bar chart (the same figures are in a table below it).
pub fn chart(bands: &[(&str, usize)]) -> String {
    let (w, h, top, bottom, left) = (640.0, 240.0, 24.0, 48.0, 8.0);
    let max = bands.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let slot = (w - 2.0 * left) / bands.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="chart-title chart-desc" class="chart"><title id="chart-title">Workers by caseload against their cap</title><desc id="chart-desc">"#
    );
    let desc: Vec<String> = bands.iter().map(|(l, n)| format!("{l}: {n}")).collect();
    let _ = write!(s, "{}</desc>", escaped(&desc.join("; ")));
    for (i, (label, n)) in bands.iter().enumerate() {
        let bar_h = (h - top - bottom) * (*n as f64) / max;
        let x = left + slot * i as f64 + slot * 0.15;
        let y = h - bottom - bar_h;
        let over = i >= 4;
        let fill = if over {
            "#d4351c"
        } else if i == 3 {
            "#f47738"
        } else {
            "#1d70b8"
        };
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{bar_h:.1}" fill="{fill}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="14">{n}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{}</text>"#,
            slot * 0.7,
            x + slot * 0.35,
            y - 6.0,
            x + slot * 0.35,
            h - bottom + 18.0,
            escaped(label)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#0b0c0c"/></svg>"##,
        h - bottom,
        w - left,
        h - bottom
    );
    s
}

/// Text for the SVG, escaped as the templates escape it (askama's HTML escaper, which
/// covers `'` too).
fn escaped(s: &str) -> impl std::fmt::Display + '_ {
    let Ok(safe) = askama::filters::escape(s, askama::filters::Html);
    safe
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<TeamQuery>,
) -> Result<Response, PageError> {
    let d = state.svc.caseload_dashboard(&user.actor, q.team()).await?;
    let teams = state.svc.teams(&user.actor).await?;
    let now = state.svc.now();
    let bands: Vec<(&'static str, usize)> = d.histogram.iter().map(|b| (b.label, b.workers)).collect();
    let Dashboard { gap, forecast, flow, .. } = &d;
    let page = Page {
        layout: Layout::load(&state, &user, "/caseloads").await?,
        title: match &d.team {
            Some((_, name)) => format!("Caseloads: {name}"),
            None => "Caseloads: the whole service".into(),
        },
        team_query: d.team.as_ref().map(|(id, _)| format!("?team={}", id.0)).unwrap_or_default(),
        teams: teams
            .iter()
            .map(|t| (t.id.0, t.name.clone(), d.team.as_ref().is_some_and(|(id, _)| *id == t.id)))
            .collect(),
        at: when(&d.at),
        cap_per_fte: trim_number(d.cap_per_fte),
        weights: format!(
            "assessment {}, child in need {}, child protection {}, looked after {}",
            trim_number(d.weights.assessment),
            trim_number(d.weights.cin),
            trim_number(d.weights.cp),
            trim_number(d.weights.lac)
        ),
        rows: d
            .workers
            .iter()
            .rev()
            .map(|w| Row {
                id: w.id.0,
                name: w.name.clone(),
                role: w.role.label(),
                fte: trim_number(w.fte),
                open_cases: w.open_cases,
                load: trim_number(w.load),
                cap: trim_number(w.cap),
                headroom: trim_number(w.headroom),
                over: w.over_cap,
                pct: if w.cap > 0.0 { ((w.load / w.cap) * 100.0).round().clamp(0.0, 200.0) as u32 } else { 200 },
            })
            .collect(),
        chart: chart(&bands),
        bands,
        workers: gap.workers,
        over: gap.workers_over_cap,
        fte: trim_number(gap.fte),
        load: trim_number(gap.load),
        capacity: trim_number(gap.capacity),
        gap_working: gap.working.clone(),
        gap_fte: trim_number(round_up_tenth(gap.fte_needed)),
        forecast_working: forecast.working.clone(),
        forecast_gap: trim_number(round_up_tenth(forecast.gap.abs())),
        forecast_short: forecast.gap > 0.0,
        from_closed: flow.from_closed,
        unallocated: flow.unallocated,
        oldest_unallocated: flow.oldest_unallocated_at.map(|t| waited(t, now)).unwrap_or_default(),
        escalations: d.escalations_open_by_level.iter().enumerate().map(|(i, n)| (i + 1, *n)).collect(),
        timeliness: {
            let t = &d.timeliness;
            let seen = t.on_plans - t.visits_overdue;
            vec![
                (
                    "Referrals decided within 1 working day",
                    t.referrals_on_time,
                    t.referrals_due,
                    percent(t.referrals_on_time, t.referrals_due),
                ),
                (
                    "Assessments completed within 45 working days",
                    t.assessments_on_time,
                    t.assessments_due,
                    percent(t.assessments_on_time, t.assessments_due),
                ),
                (
                    "Visits to children on plans made within the plan's frequency",
                    t.visits_on_time,
                    t.visits_due,
                    percent(t.visits_on_time, t.visits_due),
                ),
                ("Children on plans not overdue a visit now", seen, t.on_plans, percent(seen, t.on_plans)),
            ]
        },
        monthly: {
            let t = &d.timeliness;
            let cell =
                |s: &domain::timeliness::Series, i: usize| (s.on_time[i], s.due[i], percent(s.on_time[i], s.due[i]));
            (0..t.months.len())
                .rev()
                .map(|i| (t.months[i].clone(), [cell(&t.referrals, i), cell(&t.assessments, i), cell(&t.visits, i)]))
                .collect()
        },
        trend: trend(&d.timeliness),
    };
    Ok(render(&page))
}

/// Quotes a CSV field when it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

async fn csv(
    State(state): State<AppState>,
    user: PageUser,
    origin: Origin,
    Query(q): Query<TeamQuery>,
) -> Result<Response, PageError> {
    let d = state.svc.caseload_dashboard(&user.actor, q.team()).await?;
    let mut out = String::from("worker_id,name,role,fte,open_cases,load,cap,headroom,over_cap\n");
    for w in &d.workers {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            w.id.0,
            field(&w.name),
            w.role.code(),
            trim_number(w.fte),
            w.open_cases,
            trim_number(w.load),
            trim_number(w.cap),
            trim_number(w.headroom),
            w.over_cap
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "figure,value");
    for (k, v) in [
        ("workers", d.gap.workers.to_string()),
        ("fte_in_post", trim_number(d.gap.fte)),
        ("load", trim_number(d.gap.load)),
        ("capacity", trim_number(d.gap.capacity)),
        ("over_cap", trim_number(d.gap.over_cap)),
        ("fte_needed_today", trim_number(d.gap.fte_needed)),
        ("cases_opened_12_months", d.forecast.opened.to_string()),
        ("mean_days_open", trim_number(d.flow.mean_days_open)),
        ("forecast_open_cases", trim_number(d.forecast.expected_open)),
        ("forecast_fte_needed", trim_number(d.forecast.fte_needed)),
        ("forecast_gap_fte", trim_number(d.forecast.gap)),
        ("unallocated_cases", d.flow.unallocated.to_string()),
        ("referrals_due_12_months", d.timeliness.referrals_due.to_string()),
        ("referrals_decided_on_time", d.timeliness.referrals_on_time.to_string()),
        ("assessments_due_12_months", d.timeliness.assessments_due.to_string()),
        ("assessments_completed_on_time", d.timeliness.assessments_on_time.to_string()),
        ("visits_due_12_months", d.timeliness.visits_due.to_string()),
        ("visits_made_on_time", d.timeliness.visits_on_time.to_string()),
        ("children_on_plans", d.timeliness.on_plans.to_string()),
        ("children_on_plans_visit_overdue", d.timeliness.visits_overdue.to_string()),
    ] {
        let _ = writeln!(out, "{k},{v}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "month,referrals_due,referrals_on_time,assessments_due,assessments_on_time,visits_due,visits_on_time"
    );
    let t = &d.timeliness;
    for (i, month) in t.months.iter().enumerate() {
        let _ = writeln!(
            out,
            "{month},{},{},{},{},{},{}",
            t.referrals.due[i],
            t.referrals.on_time[i],
            t.assessments.due[i],
            t.assessments.on_time[i],
            t.visits.due[i],
            t.visits.on_time[i]
        );
    }
    let name = match &d.team {
        Some((id, _)) => format!("caseloads-team-{}.csv", id.0),
        None => "caseloads-service.csv".into(),
    };
    // The download leaves the service, so it goes on the trail before it is sent.
    let (subject, what) = match &d.team {
        Some((id, team)) => (id.subject(), format!("caseloads of {team} ({name})")),
        None => ("caseloads".to_string(), format!("caseloads of the service ({name})")),
    };
    let rows = u32::try_from(d.workers.len()).unwrap_or(u32::MAX);
    state.svc.record_read(&user.actor, &subject, Event::DataExported { what, rows, read: origin.page() }).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_a_bar_per_band_scaled_to_the_largest() {
        let svg = chart(&[("a", 2), ("b", 4), ("c", 0), ("d", 1), ("e", 1), ("f", 0)]);
        assert_eq!(svg.matches("<rect").count(), 6);
        // The tallest bar fills the plot (240 − 24 − 48 = 168); half of it is 84.
        assert!(svg.contains(r#"height="168.0""#), "{svg}");
        assert!(svg.contains(r#"height="84.0""#), "{svg}");
        assert!(svg.contains("<desc id=\"chart-desc\">a: 2; b: 4; c: 0; d: 1; e: 1; f: 0</desc>"));
    }

    #[test]
    fn labels_in_the_chart_are_escaped_quotes_and_all() {
        let svg = chart(&[("O'Brien <&> \"team\"", 1)]);
        assert!(svg.contains("O&#39;Brien &#60;&#38;&#62; &#34;team&#34;: 1</desc>"), "{svg}");
        assert!(svg.contains(">O&#39;Brien &#60;&#38;&#62; &#34;team&#34;</text>"), "{svg}");
        assert!(!svg.contains("O'Brien"), "{svg}");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("Ana"), "Ana");
        assert_eq!(field("O\"Neil, Ana"), "\"O\"\"Neil, Ana\"");
    }
}
