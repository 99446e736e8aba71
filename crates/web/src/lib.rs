//! The web front of safeguard: a JSON API under `/api/v1` and server-rendered,
//! accessible HTML pages, both over the same commands.
//!
//! Every route except sign-in, health, readiness and the static stylesheet needs a
//! signed-in person: a session cookie (pages and API) or a bearer token (API).

pub mod api;
mod auth;
mod error;
mod metrics;
pub mod pages;
mod security;

pub use auth::{ApiUser, Origin, PageUser, SESSION_COOKIE};
pub use error::{ApiError, PageError, Problem};

use axum::Router;
use axum::routing::get;
use commands::Service;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The service (commands and queries).
    pub svc: Service,
    /// Whether cookies are marked `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
}

/// The whole application: API, pages, health, readiness, metrics and static files.
pub fn router(state: AppState) -> Router {
    let requests = std::sync::Arc::new(metrics::RequestMetrics::default());
    Router::new()
        .nest("/api/v1", api::routes())
        // A nested router's fallback misses its own root with a trailing slash.
        .route("/api/v1/", axum::routing::any(api::no_such_route))
        .merge(pages::routes())
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(metrics::ready))
        .route("/metrics", get(metrics::metrics))
        .route("/static/app.css", get(security::stylesheet))
        // After routing, so each request is timed against its route pattern.
        .route_layer(axum::middleware::from_fn_with_state(requests.clone(), metrics::record))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::Extension(requests))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
