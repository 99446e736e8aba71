//! How people are reached: contact details and choices, partner webhooks, and the
//! outbox for administrators.

use super::ApiJson;
use super::extract::{ApiQuery, Id};
use crate::error::{ApiError, Problem};
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use commands::Caller;
use commands::notifications::{Contact, ContactInput, WebhookInput, WebhookView};
use commands::read_models::Delivery;
use domain::ids::{DeliveryId, StaffId};
use serde::Deserialize;

/// `GET /my/contact`: the caller's email address and whether notifications are emailed.
pub async fn mine(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Contact>, ApiError> {
    Ok(Json(state.svc.contact(Caller::Staff(&actor), actor.staff).await?))
}

/// `PUT /my/contact`: sets them.
pub async fn set_mine(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Json<Contact>, ApiError> {
    state.svc.set_contact(Caller::Staff(&actor), actor.staff, &input).await?;
    Ok(Json(state.svc.contact(Caller::Staff(&actor), actor.staff).await?))
}

/// `PUT /staff/{id}/contact`: an administrator sets someone's.
pub async fn set_theirs(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Json<Contact>, ApiError> {
    state.svc.set_contact(Caller::Staff(&actor), id, &input).await?;
    Ok(Json(state.svc.contact(Caller::Staff(&actor), id).await?))
}

/// `GET /deliveries?state=&limit=`: the outbox (administrators), newest first.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    let mut params = query.params(&["state", "limit"]);
    let which = params.text("state").unwrap_or_else(|| "failed".into());
    let limit = params.count("limit", 1000).unwrap_or(100);
    params.finish()?;
    Ok(Json(state.svc.deliveries(Caller::Staff(&actor), &which, limit).await?))
}

/// The body of a retry: nothing yet, but a JSON object like every other command's, so a
/// browser cannot send one cross-site without a CORS preflight.
#[derive(Debug, Deserialize)]
pub struct RetryBody {}

/// `POST /deliveries/{id}/retry`: sends a failed delivery again.
pub async fn retry(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DeliveryId>,
    ApiJson(_): ApiJson<RetryBody>,
) -> Result<StatusCode, ApiError> {
    state.svc.retry_delivery(Caller::Staff(&actor), id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /webhooks`: partner endpoints (never their secrets).
pub async fn webhooks(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(state.svc.webhook_endpoints(Caller::Staff(&actor)).await?))
}

/// A webhook endpoint's body: the agency is in the path.
#[derive(Debug, Deserialize)]
pub struct EndpointBody {
    /// Where calls go.
    #[serde(default)]
    url: String,
    /// The signing secret.
    #[serde(default)]
    secret: String,
}

/// `PUT /webhooks/{agency}`: sets up a partner's endpoint.
pub async fn set_webhook(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(agency): Path<String>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<Json<WebhookView>, ApiError> {
    let input = WebhookInput { agency: agency.clone(), url: body.url, secret: body.secret };
    state.svc.set_webhook_endpoint(Caller::Staff(&actor), &input).await?;
    state
        .svc
        .webhook_endpoints(Caller::Staff(&actor))
        .await?
        .into_iter()
        .find(|w| w.agency == agency)
        .map(Json)
        .ok_or_else(|| {
            ApiError(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong",
                "the endpoint was set but could not be read back",
            ))
        })
}
