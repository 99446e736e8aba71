//! Referrals: recording them, listing them and the front-door decision.

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
#[derive(Debug, Serialize)]
pub struct DecisionMade {
    /// The referral with its decision.
    pub referral: ReferralView,
    /// Cases the decision opened.
    pub opened: Vec<CaseId>,
    /// Open cases the referral joined.
    pub linked: Vec<CaseId>,
}

/// `POST /referrals/{id}/decision`: the front-door decision.
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
