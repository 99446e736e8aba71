//! The JSON API under `/api/v1`. Errors are RFC 9457 problem details naming the field.
//!
//! [`ROUTES`] is the one list of what the API serves: the router is built from it, and
//! the tests check it against the OpenAPI document ([`doc::ApiDoc`], derived from the
//! handlers' annotations and served at `/api/v1/openapi.json`) in both directions.

mod audit;
mod caseloads;
mod cases;
pub mod doc;
mod duplicates;
mod escalations;
mod extract;
mod notifications;
mod people;
mod policy;
mod practice;
mod referrals;
mod staff;
mod tokens;
mod work;

pub use extract::{ApiQuery, Id, Params, RecordId};

use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Router;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use domain::FieldError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Defines [`ROUTES`] and the router from one table, so they cannot disagree.
macro_rules! api_routes {
    ($($method:ident $path:literal => $handler:expr,)*) => {
        /// Every route the API serves: (method, path under `/api/v1`).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn table() -> Router<AppState> {
            Router::new()$(.route($path, on(MethodFilter::$method, $handler)))*
        }
    };
}

api_routes! {
    POST "/auth/token" => tokens::issue,
    GET "/me" => tokens::me,
    GET "/openapi.json" => doc::serve,
    GET "/people" => people::search,
    POST "/people" => people::register,
    POST "/people/match" => people::find_matches,
    GET "/people/{id}" => people::record,
    GET "/people/{id}/access" => people::access,
    GET "/duplicates" => duplicates::list,
    POST "/duplicates/search" => duplicates::find,
    GET "/duplicates/{id}" => duplicates::get,
    POST "/duplicates/{id}/merge" => duplicates::merge,
    POST "/duplicates/{id}/unmerge" => duplicates::unmerge,
    POST "/duplicates/{id}/distinct" => duplicates::distinct,
    POST "/people/{id}/aliases" => people::add_alias,
    POST "/people/{id}/addresses" => people::add_address,
    POST "/people/{id}/relationships" => people::add_relationship,
    GET "/people/{id}/escalations" => escalations::for_child,
    GET "/people/{id}/flags" => work::flags,
    GET "/people/{id}/due" => work::for_child,
    POST "/people/{id}/threshold-decisions" => practice::threshold_decision,
    POST "/people/{id}/concerns" => practice::record_concern,
    GET "/referrals" => referrals::list,
    POST "/referrals" => referrals::create,
    GET "/referrals/{id}" => referrals::get,
    POST "/referrals/{id}/decision" => referrals::decide,
    POST "/referrals/{id}/disagreements" => escalations::raise_disagreement,
    GET "/disagreements" => escalations::disagreements,
    GET "/cases" => cases::list,
    GET "/cases/{id}" => cases::get,
    GET "/cases/{id}/allocation-candidates" => cases::candidates,
    POST "/cases/{id}/allocation" => cases::allocate,
    POST "/cases/{id}/visits" => cases::record_visit,
    POST "/cases/{id}/notes" => cases::add_note,
    POST "/cases/{id}/closure" => cases::close,
    POST "/cases/{id}/plan" => practice::start_plan,
    POST "/cases/{id}/strategy-discussion" => practice::strategy_discussion,
    POST "/cases/{id}/icpc" => practice::icpc,
    POST "/cases/{id}/review-conference" => practice::review_conference,
    POST "/cases/{id}/assessment-completion" => practice::complete_assessment,
    GET "/my/caseload" => cases::my_caseload,
    GET "/caseloads" => caseloads::dashboard,
    GET "/my/due" => work::mine,
    GET "/my/inbox" => work::inbox,
    GET "/my/contact" => notifications::mine,
    PUT "/my/contact" => notifications::set_mine,
    PUT "/staff/{id}/contact" => notifications::set_theirs,
    GET "/deliveries" => notifications::list,
    POST "/deliveries/{id}/retry" => notifications::retry,
    GET "/webhooks" => notifications::webhooks,
    PUT "/webhooks/{agency}" => notifications::set_webhook,
    GET "/escalations" => escalations::list,
    GET "/escalations/{id}" => escalations::get,
    POST "/escalations/{id}/acknowledgement" => escalations::acknowledge,
    POST "/escalations/{id}/resolution" => escalations::resolve,
    GET "/welfare-checks" => escalations::welfare_checks,
    GET "/staff" => staff::list,
    POST "/staff" => staff::create,
    GET "/staff/{id}" => staff::get,
    GET "/teams" => staff::teams,
    POST "/teams" => staff::create_team,
    GET "/teams/{id}" => staff::team,
    PUT "/teams/{id}/leadership" => staff::set_leadership,
    PUT "/staff/{id}/absence" => policy::set_absence,
    PUT "/staff/{id}/qualification" => staff::set_qualification,
    POST "/staff/{id}/reallocation" => staff::reallocate,
    GET "/audit/checkpoint" => audit::checkpoint,
    GET "/audit/proof/{seq}" => audit::proof,
    GET "/audit/consistency" => audit::consistency,
    GET "/audit/entries" => audit::entries,
    POST "/audit/verify" => audit::verify,
    GET "/policy" => policy::get,
    PUT "/policy" => policy::set,
}

/// Records that `actor` read part of `person`'s record through the API, once the read
/// was allowed and before the answer goes out.
pub(crate) async fn viewed(
    state: &AppState,
    actor: &domain::authz::Actor,
    person: domain::ids::PersonId,
    origin: &crate::Origin,
) -> Result<(), ApiError> {
    let event = domain::event::Event::RecordViewed { person, read: origin.api() };
    state.svc.record_read(actor, &person.subject(), event).await?;
    Ok(())
}

/// The routes that answer without credentials; every other route needs an [`ApiUser`](crate::ApiUser).
pub const PUBLIC_ROUTES: &[(&str, &str)] = &[("POST", "/auth/token"), ("GET", "/openapi.json")];

/// The API routes (mounted under `/api/v1`). Unknown paths and methods get problem
/// details too, not empty or plain-text replies.
pub fn routes() -> Router<AppState> {
    table().method_not_allowed_fallback(method_not_allowed).fallback(no_such_route)
}

/// The answer for a path under `/api/v1` that names no route.
pub async fn no_such_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError(Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("there is no API route {}", uri.path()),
    ))
}

async fn method_not_allowed(method: axum::http::Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError(Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} does not answer {method}", uri.path()),
    ))
}

/// A 201 reply: the new record, and its address when it has one of its own.
#[derive(Debug)]
pub struct Created<T> {
    location: Option<String>,
    body: T,
}

impl<T> Created<T> {
    /// A new record found at `location`.
    pub fn at(location: String, body: T) -> Self {
        Self { location: Some(location), body }
    }

    /// A new record with no address of its own (it is read as part of another).
    pub fn new(body: T) -> Self {
        Self { location: None, body }
    }
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut res = (StatusCode::CREATED, axum::Json(self.body)).into_response();
        if let Some(loc) = self.location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
            res.headers_mut().insert(header::LOCATION, loc);
        }
        res
    }
}

/// Reads back what the caller's command has just written, for the reply. The change
/// stands, so a record not found now is one that could not be read back (see [`gone`]).
async fn written<T>(read: impl Future<Output = commands::Result<T>>) -> Result<T, ApiError> {
    match read.await {
        Err(commands::CommandError::Rejected(domain::Rejection::NotFound(what))) => Err(gone(what)),
        other => Ok(other?),
    }
}

/// A record a command has just written cannot be read back. The change stands; only
/// the reply is missing, and the client is told so rather than that it failed.
fn gone(what: String) -> ApiError {
    tracing::error!(record = %what, "a record just written could not be read back");
    ApiError(Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong",
        format!("the change was recorded but {what} could not be read back; reload to see it"),
    ))
}

/// A JSON object request body whose parse errors name the offending field (422), and which
/// insists on `Content-Type: application/json` (415) so browsers cannot post it
/// cross-site without a CORS preflight.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send JSON",
                "the body must be JSON with Content-Type: application/json",
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            ApiError(Problem::new(StatusCode::BAD_REQUEST, "bad-body", "The body could not be read", e.to_string()))
        })?;
        // Every body is an object; serde would otherwise read a struct from an array.
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| invalid_json(".", &e.to_string()))?;
        if !value.is_object() {
            return Err(invalid_json(".", "the body must be a JSON object"));
        }
        if let Some(field) = nul_in(&value, "") {
            return Err(invalid_json(&field, NUL_MESSAGE));
        }
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| invalid_json(&e.path().to_string(), &e.inner().to_string()))
    }
}

/// Why text with a NUL character is refused.
const NUL_MESSAGE: &str = "text cannot contain a NUL character";

/// The first place in `v` (under `path`) where a string or key holds a NUL character:
/// no database column can store one, so it is refused here by name rather than failing
/// in the store.
fn nul_in(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
    };
    match v {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() { ".".into() } else { path.to_string() }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| nul_in(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.contains('\0') { Some(join(&k.replace('\0', "\\0"))) } else { nul_in(x, &join(k)) }
        }),
        _ => None,
    }
}

/// The 422 problem for a body that is not the JSON expected, naming the field.
fn invalid_json(path: &str, message: &str) -> ApiError {
    // serde_json appends " at line L column C"; the field name says more.
    let message = message.split(" at line ").next().unwrap_or(message).to_string();
    let field = field_name(path, &message);
    let mut p = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-input",
        "Some fields are not right",
        format!("{field}: {message}"),
    );
    p.errors = vec![FieldError::new(field, message)];
    ApiError(p)
}

/// The name of the field a JSON error is about: the path to it, or for a missing field
/// the path to its object plus the field's own name (serde reports it on the object).
fn field_name(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|m| m.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_string(),
        (".", None) => "body".to_string(),
        (p, Some(name)) => format!("{p}.{name}"),
        (p, None) => p.to_string(),
    }
}
