//! The OpenAPI document, derived from the handlers' `#[utoipa::path]` annotations and the types they take and return.

use super::{
    audit, caseloads, cases, duplicates, escalations, notifications, people, policy, practice, referrals, staff,
    tokens, work,
};
use crate::error::Problem;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

/// The document: every route in [`ROUTES`](super::ROUTES), with its parameters, body,
/// replies and security. The tests hold it to the routes and every reply to it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "safeguard API",
        version = "1.0.0",
        description = "Safeguarding case management for children's social care: referrals, cases, visits, \
statutory steps, escalations, people, staff and teams.\n\n\
Every request except `POST /auth/token` and `GET /openapi.json` needs a bearer token (from `POST /auth/token`) \
or a signed-in session cookie. What a caller may see and do follows their role; every accepted change is \
recorded on the tamper-evident audit trail, and a refused request changes nothing.\n\n\
Errors are RFC 9457 problem details (`application/problem+json`). Validation problems (422) list each bad \
field in `errors` by the name the client sent, e.g. `children[0].nhs_number`. Besides the statuses listed for \
each operation, any route may answer 500 (nothing was changed) and an unknown path or method under `/api/v1` \
answers 404 or 405, all as problem details. A 503 (the database cannot take the work just now; nothing was \
changed) says in `Retry-After` when to try again.\n\n\
Ids are positive integers; timestamps are RFC 3339 strings in UTC; dates are ISO dates; enumerations are their \
lower-case codes. Request bodies must be sent with `Content-Type: application/json`.\n\n\
This document is derived from the code's own types, so it says what the service sends.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/api/v1")),
    security(("bearerAuth" = []), ("cookieAuth" = [])),
    tags(
        (name = "auth", description = "Tokens and the caller"),
        (name = "people", description = "Children, adults at risk and family members"),
        (name = "referrals", description = "Information received about children, and the front-door decision"),
        (name = "cases", description = "Children's episodes of involvement: allocation, visits, notes, closure"),
        (name = "practice", description = "Statutory steps of a case, threshold decisions and new concerns: each starts or stops the clocks that escalate"),
        (name = "escalations", description = "Escalations, flags, deadlines, the inbox, welfare checks and the escalation policy"),
        (name = "staff", description = "Staff accounts, absences and teams"),
        (name = "notifications", description = "Email and webhook delivery: contact choices, partner webhooks and the outbox"),
        (name = "audit", description = "The tamper-evident trail: signed checkpoints, proofs, export and verification (auditors)"),
        (name = "meta", description = "This document"),
    ),
    paths(
        tokens::issue, tokens::me, serve,
        people::search, people::register, people::find_matches, people::record, people::access,
        people::add_alias, people::add_address, people::add_relationship,
        duplicates::list, duplicates::find, duplicates::get, duplicates::merge, duplicates::unmerge,
        duplicates::distinct,
        escalations::for_child, work::flags, work::for_child,
        practice::threshold_decision, practice::record_concern,
        referrals::list, referrals::create, referrals::get, referrals::decide,
        escalations::raise_disagreement, escalations::disagreements,
        cases::list, cases::get, cases::candidates, cases::allocate, cases::record_visit, cases::add_note,
        cases::close,
        practice::start_plan, practice::strategy_discussion, practice::icpc, practice::review_conference,
        practice::complete_assessment,
        cases::my_caseload, caseloads::dashboard, work::mine, work::inbox,
        notifications::mine, notifications::set_mine, notifications::set_theirs, notifications::list,
        notifications::retry, notifications::webhooks, notifications::set_webhook,
        escalations::list, escalations::get, escalations::acknowledge, escalations::resolve,
        escalations::welfare_checks,
        staff::list, staff::create, staff::get, staff::teams, staff::create_team, staff::team,
        staff::set_leadership, policy::set_absence, staff::set_qualification, staff::reallocate,
        audit::checkpoint, audit::proof, audit::consistency, audit::entries, audit::verify,
        policy::get, policy::set,
    ),
    components(
        schemas(Problem),
        responses(Unauthenticated, Forbidden, NotFound, Conflict, UnsupportedMediaType, Invalid, Unavailable),
    ),
    modifiers(&Schemes),
)]
pub struct ApiDoc;

/// The document as served, built once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| panic!("the OpenAPI document: {e}")));

/// The OpenAPI 3.1 document describing this API, as JSON.
pub fn document() -> &'static str {
    &DOCUMENT
}

/// `GET /openapi.json`: this document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "meta", operation_id = "getOpenApi",
    summary = "This document",
    security(),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// The `{id}` in a path: the record's id.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    /// The record's id; anything but a positive integer is 404.
    #[param(minimum = 1)]
    pub id: i64,
}

/// The two ways to present credentials, as `ApiUser` accepts them.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        bearer.description = Some("A token from `POST /auth/token`, sent as `Authorization: Bearer <token>`.".into());
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(bearer));
        let cookie = ApiKeyValue::with_description(
            crate::SESSION_COOKIE.to_string(),
            format!(
                "The session cookie set by signing in on the web pages. Served over TLS it is named `{}`.",
                crate::auth::session_cookie_name(true)
            ),
        );
        components.add_security_scheme("cookieAuth", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
    }
}

/// A problem-details reply (`application/problem+json`) described as `description`.
fn problem(description: &str) -> ResponseBuilder {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(Problem::name()))).build();
    ResponseBuilder::new().description(description).content("application/problem+json", content)
}

/// Declares shared problem replies, each a response component that operations refer to.
macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident => $build:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let built: ResponseBuilder = $build;
                (stringify!($name), built.build().into())
            }
        }
    )*};
}

problem_responses! {
    /// 401, with `WWW-Authenticate: Bearer`.
    Unauthenticated => problem("No valid token or session (or, for `POST /auth/token`, a wrong login or password)")
        .header("WWW-Authenticate", HeaderBuilder::new().schema(Some(String::schema())).description(Some("`Bearer`")).build());
    /// 403.
    Forbidden => problem("The caller's role does not allow this");
    /// 404.
    NotFound => problem("No such record (or one the caller may not know of)");
    /// 409.
    Conflict => problem("Not possible in the record's current state (e.g. already decided, case closed, name taken); `errors` names the field when there is one");
    /// 415.
    UnsupportedMediaType => problem("The body was not sent as `application/json`");
    /// 422.
    Invalid => problem("Some fields or parameters are not right; `errors` names each one");
    /// 503, with `Retry-After`.
    Unavailable => problem("The database cannot take the work just now; nothing was changed. Try again after `Retry-After` seconds")
        .header("Retry-After", HeaderBuilder::new().schema(Some(u64::schema())).description(Some("Seconds to wait before trying again")).build());
}
