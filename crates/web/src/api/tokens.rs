//! Bearer tokens for API clients, and who the caller is.

use super::ApiJson;
use super::doc::{Invalid, Unauthenticated, Unavailable, UnsupportedMediaType};
use crate::error::{ApiError, Problem};
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commands::CommandError;
use commands::read_models::StaffView;
use domain::ids::TokenId;
use domain::text::Label;
use domain::{FieldErrors, Rejection};
use serde::{Deserialize, Serialize};

/// The token's name when the client gives none.
const DEFAULT_TOKEN_NAME: &str = "api";

/// A request for a token: the person's own login and password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Sign-in name.
    #[serde(default)]
    pub login: String,
    /// Password.
    #[serde(default)]
    pub password: String,
    /// What the token is for (e.g. the system using it); `api` if left out.
    #[serde(default)]
    pub name: Option<String>,
}

/// A new token, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The bearer token to send as `Authorization: Bearer …`.
    pub token: String,
    /// The token's record (for revoking it later).
    pub token_id: TokenId,
}

/// `POST /auth/token`: checks the login and password, then issues a bearer token.
#[utoipa::path(
    post, path = "/auth/token", tag = "auth", operation_id = "issueToken",
    summary = "Exchange a login and password for a bearer token",
    description = "The token is shown once; only its hash is kept. A wrong login or password is 401 without saying which was wrong. Signing in and issuing the token are both recorded on the audit trail.",
    security(),
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The new token", body = IssuedToken),
        (status = 401, response = Unauthenticated),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn issue(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    // Every field is checked before signing in, so a refused request leaves no trace.
    let mut errors = FieldErrors::new();
    if req.login.trim().is_empty() {
        errors.push("login", "enter your login");
    }
    if req.password.is_empty() {
        errors.push("password", "enter your password");
    }
    let name = errors.field("name", Label::parse(req.name.as_deref().unwrap_or(DEFAULT_TOKEN_NAME)));
    errors.finish()?;
    let session = match state.svc.sign_in(&req.login, &req.password).await {
        Ok(s) => s,
        // The same answer whichever was wrong, so logins cannot be discovered.
        Err(CommandError::Rejected(Rejection::Invalid(_))) => {
            return Err(ApiError(Problem::new(
                StatusCode::UNAUTHORIZED,
                "bad-credentials",
                "Sign-in failed",
                "the login or password is not right",
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let name = name.map(|n| n.to_string()).unwrap_or_else(|| DEFAULT_TOKEN_NAME.into());
    let (token_id, token) = state.svc.issue_token(&session.actor, &name).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, token_id })))
}

/// `GET /me`: the caller's own staff entry.
#[utoipa::path(
    get, path = "/me", tag = "auth", operation_id = "getMe",
    summary = "The caller's own staff entry",
    responses(
        (status = 200, description = "The caller", body = StaffView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn me(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<StaffView>, ApiError> {
    Ok(Json(state.svc.staff_member(&actor, actor.staff).await?))
}
