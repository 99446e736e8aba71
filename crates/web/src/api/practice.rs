//! The statutory steps of a case (plans, strategy discussions, conferences, assessments)
//! and what is recorded about a child outside a referral (threshold decisions, concerns).
//! Each starts or stops the clocks that escalate.

use super::cases::case_after;
use super::extract::Id;
use super::{ApiJson, Created, written};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::practice::{ConcernInput, PlanInput, StrategyDiscussionInput, ThresholdInput, WhenInput};
use commands::read_models::{CaseView, ConcernView, ThresholdDecisionView};
use domain::ids::{CaseId, PersonId};

/// `POST /cases/{id}/plan`: starts a CIN, CP or LAC plan (ending the one before).
pub async fn start_plan(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<PlanInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.start_plan(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}

/// `POST /cases/{id}/strategy-discussion`: with `s47` it starts the ICPC clock.
pub async fn strategy_discussion(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<StrategyDiscussionInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.strategy_discussion(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}

/// `POST /cases/{id}/icpc`: the initial child protection conference was held.
pub async fn icpc(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<WhenInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.icpc(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}

/// `POST /cases/{id}/review-conference`: a review child protection conference was held.
pub async fn review_conference(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<WhenInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.review_conference(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}

/// `POST /cases/{id}/assessment-completion`: the assessment is complete.
pub async fn complete_assessment(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<WhenInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.complete_assessment(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}

/// `POST /people/{id}/threshold-decisions`: whether the threshold for a s47 enquiry or
/// for proceedings was met, with reasons (and a review date when it was not).
pub async fn threshold_decision(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
    ApiJson(input): ApiJson<ThresholdInput>,
) -> Result<Created<ThresholdDecisionView>, ApiError> {
    let decision = state.svc.threshold_decision(&actor, id, &input).await?;
    Ok(Created::new(written(state.svc.threshold_decision_written(&actor, id, decision)).await?))
}

/// `POST /people/{id}/concerns`: a new concern about a child already known.
pub async fn record_concern(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
    ApiJson(input): ApiJson<ConcernInput>,
) -> Result<Created<ConcernView>, ApiError> {
    let concern = state.svc.record_concern(&actor, id, &input).await?;
    Ok(Created::new(written(state.svc.concern_written(&actor, id, concern)).await?))
}
