//! The statutory steps of a case (plans, strategy discussions, conferences, assessments)
//! and what is recorded about a child outside a referral (threshold decisions, concerns).
//! Each starts or stops the clocks that escalate.

use super::cases::case_after;
use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
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
#[utoipa::path(
    post, path = "/cases/{id}/plan", tag = "practice", operation_id = "startPlan",
    summary = "Start a child in need, child protection or looked-after plan",
    description = "Managers only. Ends the plan before, if any, and sets the visit clock for the new plan. A child protection plan needs a `category`. Starting the plan the child is already on, or any plan on a closed case, is 409.",
    params(RecordPath),
    request_body = PlanInput,
    responses(
        (status = 200, description = "The case as it now stands", body = CaseView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/strategy-discussion", tag = "practice", operation_id = "recordStrategyDiscussion",
    summary = "Record a strategy discussion",
    description = "Managers only. With `s47: true` it starts a s47 enquiry and the clock for the initial child protection conference. A closed case is 409.",
    params(RecordPath),
    request_body = StrategyDiscussionInput,
    responses(
        (status = 200, description = "The case as it now stands", body = CaseView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/icpc", tag = "practice", operation_id = "recordIcpc",
    summary = "Record the initial child protection conference",
    description = "Managers only. Stops the conference clock. A closed case is 409.",
    params(RecordPath),
    request_body = WhenInput,
    responses(
        (status = 200, description = "The case as it now stands", body = CaseView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/review-conference", tag = "practice", operation_id = "recordReviewConference",
    summary = "Record a review child protection conference",
    description = "Managers only, for a child on a child protection plan (else 409). Sets the clock for the next review.",
    params(RecordPath),
    request_body = WhenInput,
    responses(
        (status = 200, description = "The case as it now stands", body = CaseView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/assessment-completion", tag = "practice", operation_id = "completeAssessment",
    summary = "Record that the assessment is complete",
    description = "The allocated worker or a manager. Stops the assessment clock. Completing it twice, or on a closed case, is 409.",
    params(RecordPath),
    request_body = WhenInput,
    responses(
        (status = 200, description = "The case as it now stands", body = CaseView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people/{id}/threshold-decisions", tag = "practice", operation_id = "recordThresholdDecision",
    summary = "Record whether the threshold for a s47 enquiry or for proceedings was met",
    description = "Managers only. A decision that the threshold is not met needs a `review_by` date (today or later): when it passes with no new decision, `threshold_review_overdue` escalates, and a new referral or concern within the window after it escalates at level 2.",
    params(RecordPath),
    request_body = ThresholdInput,
    responses(
        (status = 201, description = "The decision as recorded", body = ThresholdDecisionView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/people/{id}/concerns", tag = "practice", operation_id = "recordConcern",
    summary = "Record a new concern about a person already known",
    description = "Practice staff and partner agencies. Concerns count towards the `cumulative_harm` and `disguised_compliance` flags, and a concern soon after a \"threshold not met\" decision escalates.",
    params(RecordPath),
    request_body = ConcernInput,
    responses(
        (status = 201, description = "The concern as recorded", body = ConcernView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn record_concern(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<PersonId>,
    ApiJson(input): ApiJson<ConcernInput>,
) -> Result<Created<ConcernView>, ApiError> {
    let concern = state.svc.record_concern(&actor, id, &input).await?;
    Ok(Created::new(written(state.svc.concern_written(&actor, id, concern)).await?))
}
