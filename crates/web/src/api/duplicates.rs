//! The review queue of people recorded twice (managers): find, list, merge, unmerge,
//! "not the same person".

use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
use super::{ApiJson, ApiQuery, Id};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use commands::Caller;
use commands::duplicates::{FoundSummary, ReviewPair};
use domain::ids::{DuplicatePairId, PersonId};
use serde::Deserialize;

/// `GET /duplicates?state=&limit=`: the queue, open pairs most likely first.
#[utoipa::path(
    get, path = "/duplicates", tag = "people", operation_id = "listDuplicates",
    summary = "The review queue of people recorded twice (managers): open pairs most likely first, decided pairs newest first",
    params(
        ("state" = Option<String>, Query, description = "open, merged or distinct; default open."),
        ("limit" = Option<i64>, Query, description = "At most this many; default 100.", minimum = 1, maximum = 500),
    ),
    responses(
        (status = 200, description = "Pairs", body = Vec<ReviewPair>),
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
) -> Result<Json<Vec<ReviewPair>>, ApiError> {
    let mut params = query.params(&["state", "limit"]);
    let which = params.text("state").unwrap_or_else(|| "open".into());
    let limit = params.count("limit", 500).unwrap_or(100);
    params.finish()?;
    Ok(Json(state.svc.review_queue(&actor, &which, limit).await?))
}

/// `GET /duplicates/{id}`: one pair with both records.
#[utoipa::path(
    get, path = "/duplicates/{id}", tag = "people", operation_id = "getDuplicate",
    summary = "One pair with both records (managers)",
    params(RecordPath),
    responses(
        (status = 200, description = "The pair", body = ReviewPair),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DuplicatePairId>,
) -> Result<Json<ReviewPair>, ApiError> {
    Ok(Json(state.svc.review_pair(&actor, id).await?))
}

/// What to look for: the threshold, by default the engine's own.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindBody {
    /// Match probability from which a pair is offered (0–1, exclusive).
    #[serde(default)]
    threshold: Option<f64>,
}

/// `POST /duplicates/search`: runs the engine over everyone recorded and queues new pairs.
#[utoipa::path(
    post, path = "/duplicates/search", tag = "people", operation_id = "findDuplicates",
    summary = "Run the matching engine over everyone recorded and put new likely pairs in the review queue (managers; on the trail)",
    request_body = FindBody,
    responses(
        (status = 200, description = "What was found", body = FoundSummary),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn find(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<FindBody>,
) -> Result<Json<FoundSummary>, ApiError> {
    if let Some(t) = body.threshold
        && !(t > 0.0 && t < 1.0)
    {
        return Err(
            domain::Rejection::invalid("threshold", "must be a probability between 0 and 1 (such as 0.5)").into()
        );
    }
    Ok(Json(state.svc.find_duplicates(Caller::Staff(&actor), body.threshold).await?))
}

/// Which record a merge keeps.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The person id of the record kept: one of the pair.
    keep: Option<i64>,
}

/// `POST /duplicates/{id}/merge`: merges the pair into the record kept.
#[utoipa::path(
    post, path = "/duplicates/{id}/merge", tag = "people", operation_id = "mergeDuplicate",
    summary = "Merge an open pair into the record kept: the other record's referrals, cases (with visits, notes, meetings), addresses, other names, relationships, decisions, concerns, flags, timers and escalations move onto it. Refused (409, field keep) when both have an open case, they are recorded as related, a referral names both, or both have the same flag, deadline or escalation open",
    params(RecordPath),
    request_body = MergeBody,
    responses(
        (status = 200, description = "The pair", body = ReviewPair),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn merge(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DuplicatePairId>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<ReviewPair>, ApiError> {
    let Some(keep) = body.keep.filter(|k| *k > 0) else {
        return Err(domain::Rejection::invalid("keep", "give the id of the record to keep").into());
    };
    state.svc.merge_duplicates(&actor, id, PersonId(keep)).await?;
    Ok(Json(state.svc.review_pair(&actor, id).await?))
}

/// The body of an unmerge or "not the same person": nothing, but a JSON object like every
/// other command's, so a browser cannot send one cross-site without a CORS preflight.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

/// `POST /duplicates/{id}/unmerge`: undoes a merge.
#[utoipa::path(
    post, path = "/duplicates/{id}/unmerge", tag = "people", operation_id = "unmergeDuplicate",
    summary = "Undo a merge: exactly what it moved goes back; what was recorded on the kept record since stays there. The pair is open again",
    params(RecordPath),
    request_body = EmptyBody,
    responses(
        (status = 200, description = "The pair", body = ReviewPair),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn unmerge(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DuplicatePairId>,
    ApiJson(_): ApiJson<EmptyBody>,
) -> Result<Json<ReviewPair>, ApiError> {
    state.svc.unmerge_duplicates(&actor, id).await?;
    Ok(Json(state.svc.review_pair(&actor, id).await?))
}

/// `POST /duplicates/{id}/distinct`: the two records are two people.
#[utoipa::path(
    post, path = "/duplicates/{id}/distinct", tag = "people", operation_id = "markDuplicateDistinct",
    summary = "Record that an open pair is two different people; the pair is never offered again",
    params(RecordPath),
    request_body = EmptyBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn distinct(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DuplicatePairId>,
    ApiJson(_): ApiJson<EmptyBody>,
) -> Result<StatusCode, ApiError> {
    state.svc.mark_distinct(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
