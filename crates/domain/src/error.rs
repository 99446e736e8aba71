//! Errors the domain hands back: bad fields (parse failures) and rejections (rules).

use std::fmt;

/// One input field that could not be parsed, with the reason in plain words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as the caller sent it (e.g. `nhs_number`, `children[0].dob`).
    pub field: String,
    /// What is wrong, written for the person who typed it.
    pub message: String,
}

impl FieldError {
    /// A field error for `field` with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects every bad field of one request so the caller hears about all of them at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the parsed value, or records the failure against `field` and returns `None`.
    pub fn field<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// Records a failure directly.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Adds every error of `other`, prefixing its field names (e.g. `children[1].`).
    pub fn extend_prefixed(&mut self, prefix: &str, other: FieldErrors) {
        for e in other.0 {
            self.0.push(FieldError::new(format!("{prefix}{}", e.field), e.message));
        }
    }

    /// True when nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors collected so far.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(())` when empty, else the errors as a [`Rejection::Invalid`].
    pub fn finish(self) -> Result<(), Rejection> {
        if self.0.is_empty() { Ok(()) } else { Err(Rejection::Invalid(self.0)) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

/// Why the domain refused a command. Nothing is written when this comes back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// One or more fields are wrong.
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The actor's role or relation to the record does not allow this.
    #[error("not permitted: {0}")]
    Forbidden(String),
    /// The record the command names does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The command does not fit the record's current state (e.g. deciding a decided referral).
    #[error("{message}")]
    Conflict {
        /// The field the conflict is about, when there is one.
        field: Option<String>,
        /// What is in the way.
        message: String,
    },
}

impl Rejection {
    /// A one-field invalid-input rejection.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection::Invalid(vec![FieldError::new(field, message)])
    }

    /// A conflict about `field`.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection::Conflict { field: Some(field.into()), message: message.into() }
    }
}
