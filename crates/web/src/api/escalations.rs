//! Escalations: what is waiting on whom, acknowledging and resolving them, and the
//! welfare checks they ask of the police.

use super::Created;
use super::extract::{ApiQuery, Id};
use super::{ApiJson, gone, written};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::escalations::{AcknowledgeInput, DisagreementInput, ResolveInput};
use commands::read_models::{DisagreementView, EscalationHistoryView, EscalationView, WelfareCheckView};
use domain::authz::Actor;
use domain::escalation::EscalationId;
use domain::ids::{PersonId, ReferralId, TeamId};
use serde::Serialize;

/// An escalation with its whole history, oldest first.
#[derive(Debug, Serialize)]
pub struct EscalationRecord {
    /// The escalation as it stands.
    pub escalation: EscalationView,
    /// Every raise, climb, reminder, acknowledgement and resolution.
    pub history: Vec<EscalationHistoryView>,
}

impl From<(EscalationView, Vec<EscalationHistoryView>)> for EscalationRecord {
    fn from((escalation, history): (EscalationView, Vec<EscalationHistoryView>)) -> Self {
        Self { escalation, history }
    }
}

/// `GET /escalations?team=&include_resolved=`: the caller's unresolved escalations, or
/// (for managers) a team's, highest level first.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<Vec<EscalationView>>, ApiError> {
    let mut params = query.params(&["team", "include_resolved"]);
    let team = params.id::<TeamId>("team");
    let include_resolved = params.flag("include_resolved");
    // The caller's own list is what is waiting on them now; resolved ones are read
    // through their team (or the child's record), so a stray switch is not ignored.
    if include_resolved && !params.given("team") {
        params.push("include_resolved", "applies to a team's escalations: give team as well");
    }
    params.finish()?;
    let list = match team {
        Some(team) => state.svc.team_escalations(&actor, Some(team), include_resolved).await?,
        None => state.svc.my_escalations(&actor).await?,
    };
    Ok(Json(list))
}

/// `GET /escalations/{id}`: one escalation and its history.
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: crate::Origin,
    Id(id): Id<EscalationId>,
) -> Result<Json<EscalationRecord>, ApiError> {
    let found = state.svc.escalation(&actor, id).await?;
    // An escalation about a child names them: a read of their record.
    if let Some(child) = found.0.child {
        super::viewed(&state, &actor, child, &origin).await?;
    }
    Ok(Json(found.into()))
}

/// The escalation as it stands after a command the caller was allowed to make.
async fn escalation_after(state: &AppState, actor: &Actor, id: EscalationId) -> Result<EscalationRecord, ApiError> {
    Ok(written(state.svc.escalation(actor, id)).await?.into())
}

/// `POST /escalations/{id}/acknowledgement`: the holder (or a manager at or above its
/// level) says they are dealing with it. It still climbs if not resolved in time.
pub async fn acknowledge(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<EscalationId>,
    ApiJson(input): ApiJson<AcknowledgeInput>,
) -> Result<Json<EscalationRecord>, ApiError> {
    state.svc.acknowledge_escalation(&actor, id, &input).await?;
    Ok(Json(escalation_after(&state, &actor, id).await?))
}

/// `POST /escalations/{id}/resolution`: resolves it by hand, with the action taken.
pub async fn resolve(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<EscalationId>,
    ApiJson(input): ApiJson<ResolveInput>,
) -> Result<Json<EscalationRecord>, ApiError> {
    state.svc.resolve_escalation(&actor, id, &input).await?;
    Ok(Json(escalation_after(&state, &actor, id).await?))
}

/// `GET /people/{id}/escalations`: every escalation about the child (and referrals
/// naming them), open first, each with its history.
pub async fn for_child(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: crate::Origin,
    Id(id): Id<PersonId>,
) -> Result<Json<Vec<EscalationRecord>>, ApiError> {
    // The person first: an unknown id is 404, not an empty list.
    state.svc.person(&actor, id).await?;
    let mut out = vec![];
    for e in state.svc.child_escalations(&actor, id).await? {
        out.push(escalation_after(&state, &actor, e.id).await?);
    }
    super::viewed(&state, &actor, id, &origin).await?;
    Ok(Json(out))
}

/// `GET /welfare-checks`: requests to the police to check on a child, newest first.
pub async fn welfare_checks(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<WelfareCheckView>>, ApiError> {
    Ok(Json(state.svc.welfare_checks(&actor).await?))
}

/// `POST /referrals/{id}/disagreements`: a partner disagrees with the decision on a
/// referral they made; it escalates in stages through the deciding team's line.
pub async fn raise_disagreement(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<ReferralId>,
    ApiJson(input): ApiJson<DisagreementInput>,
) -> Result<Created<DisagreementView>, ApiError> {
    let raised = state.svc.raise_disagreement(&actor, id, &input).await?;
    let view = state
        .svc
        .disagreements(&actor, Some(id))
        .await?
        .into_iter()
        .find(|d| d.id == raised)
        .ok_or_else(|| gone(format!("disagreement {raised}")))?;
    Ok(Created::new(view))
}

/// `GET /disagreements`: a partner's own, or (managers) all, with the stage reached.
pub async fn disagreements(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<DisagreementView>>, ApiError> {
    Ok(Json(state.svc.disagreements(&actor, None).await?))
}
