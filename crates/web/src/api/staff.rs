//! Staff accounts and teams.

use super::extract::{ApiQuery, Id};
use super::{ApiJson, Created};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::Caller;
use commands::read_models::{StaffView, TeamView};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use domain::ids::{StaffId, TeamId};
use domain::staff::Role;

/// `GET /staff?team=`: the directory, optionally one team's.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<Vec<StaffView>>, ApiError> {
    let mut params = query.params(&["team"]);
    let team = params.id::<TeamId>("team");
    params.finish()?;
    Ok(Json(state.svc.staff_list(&actor, team).await?))
}

/// `POST /staff`: gives a member of staff an account.
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<StaffInput>,
) -> Result<Created<StaffView>, ApiError> {
    let id = state.svc.add_staff(Caller::Staff(&actor), &input).await?;
    let staff = state.svc.staff_member(&actor, id).await?;
    Ok(Created::at(format!("/api/v1/staff/{id}"), staff))
}

/// `PUT /staff/{id}/qualification`: records when a social worker qualified.
pub async fn set_qualification(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
    ApiJson(input): ApiJson<commands::staff::QualificationInput>,
) -> Result<Json<StaffView>, ApiError> {
    state.svc.set_qualification(Caller::Staff(&actor), id, &input).await?;
    Ok(Json(state.svc.staff_member(&actor, id).await?))
}

/// What a bulk reallocation moved.
#[derive(Debug, serde::Serialize)]
pub struct Moved {
    /// The cases moved, oldest first.
    pub moved: Vec<domain::ids::CaseId>,
}

/// `POST /staff/{id}/reallocation`: moves every open case the worker holds.
pub async fn reallocate(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
    ApiJson(input): ApiJson<commands::cases::ReallocationInput>,
) -> Result<Json<Moved>, ApiError> {
    Ok(Json(Moved { moved: state.svc.reallocate_all(&actor, id, &input).await? }))
}

/// `GET /staff/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
) -> Result<Json<StaffView>, ApiError> {
    Ok(Json(state.svc.staff_member(&actor, id).await?))
}

/// `GET /teams`: every team. Partner users address referrals to a team and need
/// nothing else about it, so they get each team's management line left empty.
pub async fn teams(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Vec<TeamView>>, ApiError> {
    let mut teams = state.svc.teams(&actor).await?;
    if actor.role == Role::Partner {
        for t in &mut teams {
            t.team_manager = None;
            t.service_manager = None;
            t.head_of_service = None;
        }
    }
    Ok(Json(teams))
}

/// `POST /teams`: creates a team.
pub async fn create_team(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Created<TeamView>, ApiError> {
    let id = state.svc.create_team(Caller::Staff(&actor), &input).await?;
    let team = state.svc.team(&actor, id).await?;
    Ok(Created::at(format!("/api/v1/teams/{id}"), team))
}

/// `GET /teams/{id}`.
pub async fn team(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<TeamId>,
) -> Result<Json<TeamView>, ApiError> {
    Ok(Json(state.svc.team(&actor, id).await?))
}

/// `PUT /teams/{id}/leadership`: who manages the team at each level of escalation.
pub async fn set_leadership(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<TeamId>,
    ApiJson(input): ApiJson<LeadershipInput>,
) -> Result<Json<TeamView>, ApiError> {
    state.svc.set_team_leadership(Caller::Staff(&actor), id, &input).await?;
    Ok(Json(state.svc.team(&actor, id).await?))
}
