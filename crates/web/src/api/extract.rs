//! Extractors for ids in the path and filters in the query string whose failures are
//! problem details naming the parameter, never axum's plain-text rejections.

use crate::error::{ApiError, Problem};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use domain::escalation::EscalationId;
use domain::ids::{CaseId, DeliveryId, DuplicatePairId, PersonId, ReferralId, StaffId, TeamId};
use domain::{FieldError, FieldErrors, Rejection};

/// A record id that may appear in an API path or query string.
pub trait RecordId: Copy + Send {
    /// The kind of record in words ("person", "referral").
    const KIND: &'static str;
    /// The id from its number.
    fn from_number(n: i64) -> Self;
}

macro_rules! record_id {
    ($($t:ty),*) => {$(
        impl RecordId for $t {
            const KIND: &'static str = <$t>::KIND;
            fn from_number(n: i64) -> Self {
                Self(n)
            }
        }
    )*};
}
record_id!(PersonId, ReferralId, CaseId, StaffId, TeamId, EscalationId, DeliveryId, DuplicatePairId);

/// Reads a positive whole number; ids in URLs are plain integers.
fn positive(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|n| *n > 0)
}

/// The `{id}` in the path. Anything but a positive integer names no record, so it is a
/// 404 problem rather than a plain-text rejection.
#[derive(Debug, Clone, Copy)]
pub struct Id<T>(pub T);

impl<T: RecordId, S: Send + Sync> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|e| {
            ApiError(Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong", e.to_string()))
        })?;
        let raw = params.iter().find(|(name, _)| *name == "id").map(|(_, v)| v.to_string()).unwrap_or_default();
        match positive(&raw) {
            Some(n) => Ok(Id(T::from_number(n))),
            None => Err(ApiError(Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("there is no {} {raw:?}: ids are whole numbers", T::KIND),
            ))),
        }
    }
}

/// The query string as name/value pairs. Handlers read it with [`ApiQuery::params`],
/// which refuses names it does not know so a mistyped filter is not silently ignored.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw).map(ApiQuery).map_err(|e| {
            invalid(FieldErrors::from(FieldError::new("query", format!("the query string cannot be read: {e}"))))
        })
    }
}

impl ApiQuery {
    /// A reader for the query that accepts only the `known` names, each at most once.
    pub fn params(&self, known: &'static [&'static str]) -> Params<'_> {
        let mut errors = FieldErrors::new();
        for (i, (name, value)) in self.0.iter().enumerate() {
            if name.contains('\0') || value.contains('\0') {
                // No database column can store a NUL; refuse it here, by name.
                errors.push(name.replace('\0', "\\0"), "text cannot contain a NUL character");
            } else if !known.contains(&name.as_str()) {
                errors.push(name.clone(), format!("is not a parameter here; use {}", known.join(", ")));
            } else if self.0[..i].iter().any(|(n, _)| n == name) {
                errors.push(name.clone(), "give this parameter once");
            }
        }
        Params { pairs: &self.0, errors }
    }
}

/// Reads typed values from the query, collecting every bad one by name.
#[derive(Debug)]
pub struct Params<'a> {
    pairs: &'a [(String, String)],
    errors: FieldErrors,
}

impl Params<'_> {
    /// The value given for `name`, trimmed. An empty value is still a value (and, for a
    /// number or switch, a wrong one): leaving a filter out is how to not filter.
    fn raw(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim())
    }

    /// Whether `name` was given at all (even with a bad value).
    pub fn given(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// Free text, when given and not blank.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.is_empty()).map(str::to_string)
    }

    /// A record id.
    pub fn id<T: RecordId>(&mut self, name: &str) -> Option<T> {
        let raw = self.raw(name)?;
        match positive(raw) {
            Some(n) => Some(T::from_number(n)),
            None => {
                self.errors.push(name, format!("must be a {} id (a whole number)", T::KIND));
                None
            }
        }
    }

    /// A `true`/`false` switch; false when left out.
    pub fn flag(&mut self, name: &str) -> bool {
        match self.raw(name) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                self.errors.push(name, "must be true or false");
                false
            }
        }
    }

    /// A whole number from 1 to `max`, when given.
    pub fn count(&mut self, name: &str, max: i64) -> Option<i64> {
        let raw = self.raw(name)?;
        match raw.parse::<i64>().ok().filter(|n| (1..=max).contains(n)) {
            Some(n) => Some(n),
            None => {
                self.errors.push(name, format!("must be a whole number from 1 to {max}"));
                None
            }
        }
    }

    /// Records a failure found by the handler.
    pub fn push(&mut self, name: &str, message: &str) {
        self.errors.push(name, message);
    }

    /// `Ok` when every parameter was good, else a 422 problem naming each bad one.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(invalid(self.errors)) }
    }
}

/// The 422 problem for bad fields.
fn invalid(errors: FieldErrors) -> ApiError {
    ApiError::from(Rejection::Invalid(errors.errors().to_vec()))
}
