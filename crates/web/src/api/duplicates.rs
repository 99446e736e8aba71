//! The review queue of people recorded twice (managers): find, list, merge, unmerge,
//! "not the same person".

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
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DuplicatePairId>,
) -> Result<Json<ReviewPair>, ApiError> {
    Ok(Json(state.svc.review_pair(&actor, id).await?))
}

/// What to look for: the threshold, by default the engine's own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindBody {
    /// Match probability from which a pair is offered (0–1, exclusive).
    #[serde(default)]
    threshold: Option<f64>,
}

/// `POST /duplicates/search`: runs the engine over everyone recorded and queues new pairs.
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The person id of the record kept: one of the pair.
    keep: Option<i64>,
}

/// `POST /duplicates/{id}/merge`: merges the pair into the record kept.
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

/// `POST /duplicates/{id}/unmerge`: undoes a merge.
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
pub async fn distinct(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<DuplicatePairId>,
    ApiJson(_): ApiJson<EmptyBody>,
) -> Result<StatusCode, ApiError> {
    state.svc.mark_distinct(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
