//! Referrals: recording them, listing them and the front-door decision.

use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
use super::extract::{ApiQuery, Id};
use super::{ApiJson, Created};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::input::{DecisionInput, ReferralInput};
use commands::read_models::{ReferralFilter, ReferralView};
use domain::ids::{CaseId, ReferralId};
use serde::Serialize;

/// `GET /referrals?team=&undecided=&child=&limit=`: newest first; a partner sees their own.
#[utoipa::path(
    get, path = "/referrals", tag = "referrals", operation_id = "listReferrals",
    summary = "Referrals, newest first",
    description = "A partner-agency user sees only the referrals they made (the `child` filter does not apply to them).",
    params(
        ("team" = Option<i64>, Query, description = "Only this team's.", minimum = 1),
        ("undecided" = Option<bool>, Query, description = "Only referrals not yet decided. Default false."),
        ("child" = Option<i64>, Query, description = "Only those about this child (a person id).", minimum = 1),
        ("limit" = Option<i64>, Query, description = "At most this many; default 100.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Referrals", body = Vec<ReferralView>),
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
) -> Result<Json<Vec<ReferralView>>, ApiError> {
    let mut params = query.params(&["team", "undecided", "child", "limit"]);
    let filter = ReferralFilter {
        team: params.id("team"),
        undecided: params.flag("undecided"),
        recorded_by: None,
        child: params.id("child"),
        limit: params.count("limit", 1000).unwrap_or(100),
    };
    params.finish()?;
    Ok(Json(state.svc.referrals(&actor, filter).await?))
}

/// `POST /referrals`: records a referral, registering any new children named in it.
#[utoipa::path(
    post, path = "/referrals", tag = "referrals", operation_id = "createReferral",
    summary = "Record a referral",
    description = "Children are named by `person_id` when already recorded, or by their details (registered with the referral). A decision is due within one working day.",
    request_body = ReferralInput,
    responses(
        (status = 201, description = "The referral as recorded", body = ReferralView, headers(("Location" = String, description = "The new record's address"))),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<ReferralInput>,
) -> Result<Created<ReferralView>, ApiError> {
    let id = state.svc.create_referral(&actor, &input).await?;
    let referral = state.svc.referral(&actor, id).await?;
    Ok(Created::at(format!("/api/v1/referrals/{id}"), referral))
}

/// `GET /referrals/{id}`.
#[utoipa::path(
    get, path = "/referrals/{id}", tag = "referrals", operation_id = "getReferral",
    summary = "One referral with its decision",
    description = "A partner-agency user gets 404 for a referral they did not make.",
    params(RecordPath),
    responses(
        (status = 200, description = "The referral", body = ReferralView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: crate::Origin,
    Id(id): Id<ReferralId>,
) -> Result<Json<ReferralView>, ApiError> {
    let r = state.svc.referral(&actor, id).await?;
    // A read of each child the referral names.
    for c in &r.children {
        super::viewed(&state, &actor, c.id, &origin).await?;
    }
    Ok(Json(r))
}

/// What a decision did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionMade {
    /// The referral with its decision.
    pub referral: ReferralView,
    /// Cases the decision opened.
    pub opened: Vec<CaseId>,
    /// Open cases the referral joined.
    pub linked: Vec<CaseId>,
}

/// `POST /referrals/{id}/decision`: the front-door decision.
#[utoipa::path(
    post, path = "/referrals/{id}/decision", tag = "referrals", operation_id = "decideReferral",
    summary = "Make the front-door decision",
    description = "Managers only. `assessment` and `strategy_discussion` open a case for each child without an open case, and link the referral to open ones. A decided referral cannot be decided again (409).",
    params(RecordPath),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "The decided referral and the cases it opened or joined", body = DecisionMade),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn decide(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<ReferralId>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<DecisionMade>, ApiError> {
    let outcome = state.svc.decide_referral(&actor, id, &input).await?;
    let referral = state.svc.referral(&actor, id).await?;
    Ok(Json(DecisionMade { referral, opened: outcome.opened, linked: outcome.linked }))
}
