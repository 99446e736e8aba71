//! How people are reached: contact details and choices, partner webhooks, and the
//! outbox for administrators.

use super::ApiJson;
use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
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
use domain::staff::Agency;
use serde::Deserialize;

/// `GET /my/contact`: the caller's email address and whether notifications are emailed.
#[utoipa::path(
    get, path = "/my/contact", tag = "notifications", operation_id = "getMyContact",
    summary = "The caller's email address and notification choices",
    responses(
        (status = 200, description = "Contact details", body = Contact),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn mine(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Contact>, ApiError> {
    Ok(Json(state.svc.contact(Caller::Staff(&actor), actor.staff).await?))
}

/// `PUT /my/contact`: sets them.
#[utoipa::path(
    put, path = "/my/contact", tag = "notifications", operation_id = "setMyContact",
    summary = "Set the caller's email address and whether notifications are emailed",
    description = "Escalations and every other notification always reach the inbox; email is in addition, when an address is set and email is on. Emails name children by initials and reference only.",
    request_body = ContactInput,
    responses(
        (status = 200, description = "Contact details as recorded", body = Contact),
        (status = 401, response = Unauthenticated),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn set_mine(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<Json<Contact>, ApiError> {
    state.svc.set_contact(Caller::Staff(&actor), actor.staff, &input).await?;
    Ok(Json(state.svc.contact(Caller::Staff(&actor), actor.staff).await?))
}

/// `PUT /staff/{id}/contact`: an administrator sets someone's.
#[utoipa::path(
    put, path = "/staff/{id}/contact", tag = "notifications", operation_id = "setStaffContact",
    summary = "Set someone's email address and choices (administrators)",
    params(RecordPath),
    request_body = ContactInput,
    responses(
        (status = 200, description = "Contact details as recorded", body = Contact),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/deliveries", tag = "notifications", operation_id = "listDeliveries",
    summary = "The outbox: deliveries by state, newest first (administrators)",
    params(
        ("state" = Option<String>, Query, description = "pending, sent or failed; default failed."),
        ("limit" = Option<i64>, Query, description = "At most this many; default 100.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Deliveries", body = Vec<Delivery>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RetryBody {}

/// `POST /deliveries/{id}/retry`: sends a failed delivery again.
#[utoipa::path(
    post, path = "/deliveries/{id}/retry", tag = "notifications", operation_id = "retryDelivery",
    summary = "Send a failed delivery again, with a fresh set of tries (administrators)",
    params(RecordPath),
    request_body = RetryBody,
    responses(
        (status = 202, description = "Queued again"),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/webhooks", tag = "notifications", operation_id = "listWebhooks",
    summary = "Partner webhook endpoints, without their secrets (administrators)",
    responses(
        (status = 200, description = "Endpoints", body = Vec<WebhookView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn webhooks(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(state.svc.webhook_endpoints(Caller::Staff(&actor)).await?))
}

/// A webhook endpoint's body: the agency is in the path.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EndpointBody {
    /// Where calls go.
    #[serde(default)]
    url: String,
    /// The signing secret.
    #[serde(default)]
    secret: String,
}

/// `PUT /webhooks/{agency}`: sets up a partner's endpoint.
#[utoipa::path(
    put, path = "/webhooks/{agency}", tag = "notifications", operation_id = "setWebhook",
    summary = "Set up a partner agency's webhook endpoint (administrators)",
    description = "Welfare-check requests are POSTed as JSON with `Safeguard-Event`, `Idempotency-Key` and `Safeguard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.\" + body, keyed with the secret>`. Retried on 5xx, 408, 429 and timeouts; not on other 4xx.",
    params(
        ("agency" = Agency, Path, description = "The partner agency whose endpoint this is."),
    ),
    request_body = EndpointBody,
    responses(
        (status = 200, description = "The endpoint (without its secret)", body = WebhookView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
