//! Operations: `/ready` for load balancers and `/metrics` in Prometheus' text format.
//!
//! Request latencies are counted per method and route pattern (`/api/v1/referrals/{id}`,
//! never the concrete path, so a record's id never becomes a label). The store's figures
//! are read when scraped.

use crate::{ApiError, ApiUser, AppState, Problem};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use commands::Readiness;
use commands::read_models::OperationalFigures;
use jiff::Timestamp;
use prometheus::{Gauge, HistogramOpts, HistogramVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use std::sync::Arc;
use std::time::Instant;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Request latencies, per (method, route pattern, status class).
#[derive(Debug)]
pub struct RequestMetrics {
    latency: HistogramVec,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        let opts = HistogramOpts::new("safeguard_http_request_duration_seconds", "Time to answer a request.")
            .buckets(BUCKETS.to_vec());
        // Only a bad name or unsorted buckets fail, and both are fixed here.
        let latency = HistogramVec::new(opts, &["method", "route", "status"]).expect("a valid histogram");
        Self { latency }
    }
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
        self.latency.with_label_values(&[method, route, class]).observe(seconds);
    }
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

/// `GET /ready`: 200 when the database answers, its schema is current and it takes
/// writes, else 503 (so a load balancer sends no traffic to a process that cannot serve it).
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    match state.svc.ready().await {
        Ok(Readiness::Ready) => (StatusCode::OK, "ready").into_response(),
        Ok(Readiness::SchemaBehind) => {
            (StatusCode::SERVICE_UNAVAILABLE, "the database schema is not current: run safeguard migrate")
                .into_response()
        }
        Ok(Readiness::CannotWrite) => {
            tracing::warn!("not ready: the database refuses writes (full, or out of reach)");
            (StatusCode::SERVICE_UNAVAILABLE, "the database refuses writes: is its disk full?").into_response()
        }
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
    let figures = state.svc.operational_figures(&actor).await?;
    let page = render(&figures, state.svc.now(), &requests).map_err(|e| {
        tracing::error!(error = %e, "the metrics could not be written");
        ApiError(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong",
            "the metrics could not be written",
        ))
    })?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], page).into_response())
}

/// The whole page: the figures as gauges (in a registry of this scrape's own, since they
/// are read afresh each time) and the request latencies kept since start.
fn render(f: &OperationalFigures, now: Timestamp, requests: &RequestMetrics) -> prometheus::Result<String> {
    let age =
        |t: Option<Timestamp>| t.map_or(0.0, |t| (now.as_millisecond() - t.as_millisecond()).max(0) as f64 / 1000.0);
    let registry = Registry::new();
    let int = |name: &str, help: &str, value: i64| -> prometheus::Result<()> {
        let g = IntGauge::new(name, help)?;
        g.set(value);
        registry.register(Box::new(g))
    };
    let seconds = |name: &str, help: &str, value: f64| -> prometheus::Result<()> {
        let g = Gauge::new(name, help)?;
        g.set(value);
        registry.register(Box::new(g))
    };
    let labelled = |name: &str, help: &str, label: &str, values: &[(String, i64)]| -> prometheus::Result<()> {
        let g = IntGaugeVec::new(Opts::new(name, help), &[label])?;
        for (value_of_label, n) in values {
            g.with_label_values(&[value_of_label.as_str()]).set(*n);
        }
        registry.register(Box::new(g))
    };
    let levels: Vec<(String, i64)> =
        f.escalations_open_by_level.iter().enumerate().map(|(i, n)| ((i + 1).to_string(), *n)).collect();
    int("safeguard_timers_due", "Timers due and not yet fired (the sweeper's backlog).", f.timers_due)?;
    seconds(
        "safeguard_timers_oldest_due_age_seconds",
        "How long the oldest unfired due timer has waited.",
        age(f.oldest_due_at),
    )?;
    int("safeguard_timers_failed", "Timers set aside after failing on their own.", f.timers_failed)?;
    labelled("safeguard_escalations_open", "Open (unresolved) escalations by level.", "level", &levels)?;
    int("safeguard_audit_entries", "Entries on the audit log.", f.audit_entries)?;
    labelled(
        "safeguard_outbox_pending",
        "Deliveries (email, webhook) queued and not yet sent: the outbox's depth.",
        "channel",
        &f.outbox_pending,
    )?;
    seconds(
        "safeguard_outbox_oldest_age_seconds",
        "How long the oldest undelivered item has waited since it was queued.",
        age(f.outbox_oldest_at),
    )?;
    labelled(
        "safeguard_deliveries_failed",
        "Deliveries that failed for good (an administrator was told).",
        "channel",
        &f.deliveries_failed,
    )?;
    labelled("safeguard_deliveries_sent", "Deliveries accepted by the receiver.", "channel", &f.deliveries_sent)?;
    // A clone shares the histogram's counts; gathering leaves out families with no series.
    registry.register(Box::new(requests.latency.clone()))?;
    TextEncoder::new().encode_to_string(&registry.gather())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::core::Collector;

    fn latencies(m: &RequestMetrics) -> String {
        TextEncoder::new().encode_to_string(&m.latency.collect()).unwrap()
    }

    #[test]
    fn latencies_fall_in_every_bucket_at_or_above_them() {
        let m = RequestMetrics::default();
        m.observe("GET", "/a", StatusCode::OK, 0.02);
        m.observe("GET", "/a", StatusCode::OK, 3.0);
        m.observe("GET", "/a", StatusCode::NOT_FOUND, 0.001);
        let out = latencies(&m);
        for line in [
            r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="0.01"} 0"#,
            r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="0.025"} 1"#,
            r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="5"} 2"#,
            r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="2xx",le="+Inf"} 2"#,
            r#"safeguard_http_request_duration_seconds_count{method="GET",route="/a",status="2xx"} 2"#,
            r#"safeguard_http_request_duration_seconds_bucket{method="GET",route="/a",status="4xx",le="0.005"} 1"#,
        ] {
            assert!(out.lines().any(|l| l == line), "no {line} in\n{out}");
        }
    }

    #[test]
    fn the_figures_are_gauges_and_label_values_are_escaped() {
        let now: Timestamp = "2026-03-03T10:00:00Z".parse().unwrap();
        let f = OperationalFigures {
            timers_due: 2,
            oldest_due_at: Some(now - jiff::SignedDuration::from_millis(1500)),
            timers_failed: 0,
            escalations_open_by_level: [1, 0, 0, 4],
            audit_entries: 10,
            outbox_pending: vec![("e\"m\\a\nil".to_string(), 3)],
            outbox_oldest_at: None,
            deliveries_failed: vec![],
            deliveries_sent: vec![],
        };
        let out = render(&f, now, &RequestMetrics::default()).unwrap();
        for line in [
            "# TYPE safeguard_timers_due gauge",
            "safeguard_timers_due 2",
            "safeguard_timers_oldest_due_age_seconds 1.5",
            r#"safeguard_escalations_open{level="1"} 1"#,
            r#"safeguard_escalations_open{level="4"} 4"#,
            "safeguard_audit_entries 10",
            r#"safeguard_outbox_pending{channel="e\"m\\a\nil"} 3"#,
        ] {
            assert!(out.lines().any(|l| l == line), "no {line} in\n{out}");
        }
    }
}
