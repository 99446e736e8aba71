//! Errors at the web boundary: RFC 9457 problem details for the API, an error page for
//! people. Internal details are logged, never shown.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use commands::CommandError;
use domain::{FieldError, Rejection};
use serde::Serialize;

/// An RFC 9457 problem details body, with `errors` naming each bad field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `https://safeguard.invalid/problems/invalid-input`.
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong this time, in plain words.
    pub detail: String,
    /// Each bad field with its reason (for validation problems), by the name the client
    /// sent, e.g. `children[0].nhs_number` or a query parameter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(min_items = 1)]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem of `status` with a type slug such as `invalid-input`.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://safeguard.invalid/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: vec![],
        }
    }

    /// The problem for a rejection or failure.
    pub fn from_command(e: &CommandError) -> Self {
        match e {
            CommandError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign-in required",
                "sign in, or send a bearer token",
            ),
            CommandError::Rejected(Rejection::Invalid(fields)) => {
                let detail = fields.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; ");
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-input",
                    "Some fields are not right",
                    detail,
                );
                p.errors = fields.clone();
                p
            }
            CommandError::Rejected(Rejection::Forbidden(why)) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not permitted", why.clone())
            }
            CommandError::Rejected(Rejection::NotFound(what)) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", format!("{what} not found"))
            }
            CommandError::Rejected(Rejection::Conflict { field, message }) => {
                let mut p = Problem::new(StatusCode::CONFLICT, "conflict", "Not possible now", message.clone());
                if let Some(f) = field {
                    p.errors = vec![FieldError::new(f.clone(), message.clone())];
                }
                p
            }
            CommandError::Unavailable(err) => {
                tracing::warn!(error = %err, "store unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Not available just now",
                    "the service cannot record this just now and nothing was changed; try again in a minute",
                )
            }
            CommandError::Store(err) => {
                tracing::error!(error = %err, "store failure");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong",
                    "the request was not completed and nothing was changed; try again",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(&self)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        retry_after(&mut res);
        res
    }
}

/// An error from an API handler.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        ApiError(Problem::from_command(&e))
    }
}

impl From<Rejection> for ApiError {
    fn from(e: Rejection) -> Self {
        ApiError(Problem::from_command(&CommandError::Rejected(e)))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// An error from a page handler: an error page (or, for sign-in, a redirect).
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page and come back.
    SignIn {
        /// Where to return after signing in.
        next: String,
    },
    /// Anything else, shown as a page.
    Show(Problem),
}

impl From<CommandError> for PageError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Unauthenticated => PageError::SignIn { next: "/".into() },
            other => PageError::Show(Problem::from_command(&other)),
        }
    }
}

impl From<Rejection> for PageError {
    fn from(e: Rejection) -> Self {
        PageError::from(CommandError::Rejected(e))
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    problem: &'a Problem,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let to = format!("/login?next={}", crate::pages::urlencode(&next));
                axum::response::Redirect::to(&to).into_response()
            }
            PageError::Show(problem) => {
                let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = askama::Template::render(&ErrorPage { problem: &problem })
                    .unwrap_or_else(|_| "<!doctype html><title>Error</title><h1>Something went wrong</h1>".into());
                let mut res = (status, Html(body)).into_response();
                retry_after(&mut res);
                res
            }
        }
    }
}

/// A 503 says when to come back (RFC 9110 `Retry-After`, in seconds).
fn retry_after(res: &mut Response) {
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(CommandError::RETRY_AFTER_SECS));
    }
}
