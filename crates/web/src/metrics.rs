//! Operations: `/ready` for load balancers and `/metrics` in Prometheus' text format.
//!
//! Request latencies are counted per method and route pattern (`/api/v1/referrals/{id}`,
//! never the concrete path, so a record's id never becomes a label). The store's figures
//! are read when scraped.

use crate::{ApiError, ApiUser, AppState};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound, then the total.
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request latencies, per (method, route pattern, status class).
#[derive(Debug, Default)]
pub struct RequestMetrics {
    by_route: Mutex<BTreeMap<(String, String, &'static str), Histogram>>,
}

impl RequestMetrics {
    fn observe(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut map = self.by_route.lock().unwrap_or_else(|p| p.into_inner());
        let h = map.entry((method.to_string(), route.to_string(), class)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    fn render(&self, out: &mut String) {
        let map = self.by_route.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let _ = writeln!(out, "# HELP safeguard_http_request_duration_seconds Time to answer a request.");
        let _ = writeln!(out, "# TYPE safeguard_http_request_duration_seconds histogram");
        for ((method, route, class), h) in &map {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{class}\"", escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "safeguard_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(out, "safeguard_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "safeguard_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "safeguard_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
    }
}

/// A label value as Prometheus' text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: times each request against its route pattern.
pub(crate) async fn record(State(metrics): State<Arc<RequestMetrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    // Unmatched paths share one label, so probing random URLs cannot grow the series.
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let response = next.run(req).await;
    metrics.observe(&method, &route, response.status(), started.elapsed().as_secs_f64());
    response
}

/// `GET /ready`: 200 when the database answers and its schema is current, else 503 (so a
/// load balancer sends no traffic to a process that cannot serve it).
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    match state.svc.ready().await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "the database schema is not current: run safeguard migrate")
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer").into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format, for administrators (a session, or a bearer
/// token from `POST /api/v1/auth/token` in the scraper's configuration).
pub(crate) async fn metrics(
    State(state): State<AppState>,
    axum::Extension(requests): axum::Extension<Arc<RequestMetrics>>,
    ApiUser(actor): ApiUser,
) -> Result<Response, ApiError> {
    let f = state.svc.operational_figures(&actor).await?;
    let mut out = String::new();
    let gauge = |out: &mut String, name: &str, help: &str, value: String| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
    };
    gauge(
        &mut out,
        "safeguard_timers_due",
        "Timers due and not yet fired (the sweeper's backlog).",
        f.timers_due.to_string(),
    );
    let age =
        f.oldest_due_at.map_or(0.0, |t| (state.svc.now().as_millisecond() - t.as_millisecond()).max(0) as f64 / 1000.0);
    gauge(
        &mut out,
        "safeguard_timers_oldest_due_age_seconds",
        "How long the oldest unfired due timer has waited.",
        age.to_string(),
    );
    gauge(
        &mut out,
        "safeguard_timers_failed",
        "Timers set aside after failing on their own.",
        f.timers_failed.to_string(),
    );
    let _ = writeln!(out, "# HELP safeguard_escalations_open Open (unresolved) escalations by level.");
    let _ = writeln!(out, "# TYPE safeguard_escalations_open gauge");
    for (i, n) in f.escalations_open_by_level.iter().enumerate() {
        let _ = writeln!(out, "safeguard_escalations_open{{level=\"{}\"}} {n}", i + 1);
    }
    gauge(&mut out, "safeguard_audit_entries", "Entries on the audit log.", f.audit_entries.to_string());
    let per_channel = |out: &mut String, name: &str, help: &str, values: &[(String, i64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (channel, n) in values {
            let _ = writeln!(out, "{name}{{channel=\"{}\"}} {n}", escape(channel));
        }
    };
    per_channel(
        &mut out,
        "safeguard_outbox_pending",
        "Deliveries (email, webhook) queued and not yet sent: the outbox's depth.",
        &f.outbox_pending,
    );
    let outbox_age = f
        .outbox_oldest_at
        .map_or(0.0, |t| (state.svc.now().as_millisecond() - t.as_millisecond()).max(0) as f64 / 1000.0);
    gauge(
        &mut out,
        "safeguard_outbox_oldest_age_seconds",
        "How long the oldest undelivered item has waited since it was queued.",
        outbox_age.to_string(),
    );
    per_channel(
        &mut out,
        "safeguard_deliveries_failed",
        "Deliveries that failed for good (an administrator was told).",
        &f.deliveries_failed,
    );
    per_channel(&mut out, "safeguard_deliveries_sent", "Deliveries accepted by the receiver.", &f.deliveries_sent);
    requests.render(&mut out);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_every_bucket_at_or_above_them() {
        let m = RequestMetrics::default();
        m.observe("GET", "/a", StatusCode::OK, 0.02);
        m.observe("GET", "/a", StatusCode::OK, 3.0);
        m.observe("GET", "/a", StatusCode::NOT_FOUND, 0.001);
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains(
                r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="0.01"} 0"#
            ),
            "{out}"
        );
        assert!(
            out.contains(
                r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="0.025"} 1"#
            ),
            "{out}"
        );
        assert!(
            out.contains(
                r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="5"} 2"#
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"safeguard_http_request_duration_seconds_count{method="GET",route="/a",status="2xx"} 2"#),
            "{out}"
        );
        assert!(
            out.contains(
                r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="4xx",le="0.005"} 1"#
            ),
            "{out}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
