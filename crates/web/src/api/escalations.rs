//! Escalations: what is waiting on whom, acknowledging and resolving them, and the
//! welfare checks they ask of the police.

use super::Created;
use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
#[utoipa::path(
    get, path = "/escalations", tag = "escalations", operation_id = "listEscalations",
    summary = "Escalations waiting on the caller, or a team's",
    description = "Without `team`: the unresolved escalations the caller holds (practice staff). With `team`: every unresolved escalation in that team's line, and with `include_resolved=true` resolved ones too (managers only). `include_resolved` without `team` is 422.",
    params(
        ("team" = Option<i64>, Query, description = "Only this team's.", minimum = 1),
        ("include_resolved" = Option<bool>, Query, description = "With `team`: resolved escalations too. Default false."),
    ),
    responses(
        (status = 200, description = "Escalations: unresolved first, highest level first, then oldest", body = Vec<EscalationView>),
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
#[utoipa::path(
    get, path = "/escalations/{id}", tag = "escalations", operation_id = "getEscalation",
    summary = "One escalation and its whole history",
    description = "Practice staff only.",
    params(RecordPath),
    responses(
        (status = 200, description = "The escalation and its history, oldest first", body = EscalationRecord),
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
#[utoipa::path(
    post, path = "/escalations/{id}/acknowledgement", tag = "escalations", operation_id = "acknowledgeEscalation",
    summary = "Acknowledge an escalation: say it is being dealt with",
    description = "Its holder, or a manager at or above its level. It stops climbing for want of acknowledgement, but still climbs if its condition holds past the level's time to resolve. Acknowledging twice, or a resolved escalation, is 409.",
    params(RecordPath),
    request_body = AcknowledgeInput,
    responses(
        (status = 200, description = "The escalation as it now stands", body = EscalationRecord),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/escalations/{id}/resolution", tag = "escalations", operation_id = "resolveEscalation",
    summary = "Resolve an escalation by hand, with the action taken",
    description = "Its holder, or a manager at or above its level. The action is on the record and the trail. Escalations also resolve by themselves when their condition clears. Resolving a resolved escalation is 409.",
    params(RecordPath),
    request_body = ResolveInput,
    responses(
        (status = 200, description = "The resolved escalation", body = EscalationRecord),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/people/{id}/escalations", tag = "escalations", operation_id = "getChildEscalations",
    summary = "Every escalation about the person, and about referrals naming them, each with its history",
    description = "Practice staff only. Resolved escalations are included, with how they were resolved.",
    params(RecordPath),
    responses(
        (status = 200, description = "Escalations: unresolved first, highest level first, then oldest", body = Vec<EscalationRecord>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/welfare-checks", tag = "escalations", operation_id = "listWelfareChecks",
    summary = "Requests to the police to check on a child, newest first",
    description = "Police partner users and managers. A request is made when a `child_not_seen` escalation about a child on a child protection plan reaches level 2.",
    responses(
        (status = 200, description = "Welfare-check requests (at most 500)", body = Vec<WelfareCheckView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn welfare_checks(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<WelfareCheckView>>, ApiError> {
    Ok(Json(state.svc.welfare_checks(&actor).await?))
}

/// `POST /referrals/{id}/disagreements`: a partner disagrees with the decision on a
/// referral they made; it escalates in stages through the deciding team's line.
#[utoipa::path(
    post, path = "/referrals/{id}/disagreements", tag = "referrals", operation_id = "raiseDisagreement",
    summary = "Raise a professional disagreement about the decision on a referral",
    description = "Partner-agency users, about a decided referral they made (another agency's referral is 404). It escalates through the deciding team's line in stages, starting at stage 1 (the team manager), 5 working days at each stage; the partner sees the stage reached with `GET /disagreements`. Undecided referral: 409.",
    params(RecordPath),
    request_body = DisagreementInput,
    responses(
        (status = 201, description = "The disagreement and the stage it is at", body = DisagreementView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/disagreements", tag = "referrals", operation_id = "listDisagreements",
    summary = "Professional disagreements and the stage each has reached, newest first",
    description = "A partner sees those they raised; managers see all. Others: 403.",
    responses(
        (status = 200, description = "Disagreements (at most 500)", body = Vec<DisagreementView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn disagreements(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<DisagreementView>>, ApiError> {
    Ok(Json(state.svc.disagreements(&actor, None).await?))
}
