//! Staff accounts and teams.

use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
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
#[utoipa::path(
    get, path = "/staff", tag = "staff", operation_id = "listStaff",
    summary = "The staff directory, by name",
    params(("team" = Option<i64>, Query, description = "Only this team's.", minimum = 1)),
    responses(
        (status = 200, description = "Staff", body = Vec<StaffView>),
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
) -> Result<Json<Vec<StaffView>>, ApiError> {
    let mut params = query.params(&["team"]);
    let team = params.id::<TeamId>("team");
    params.finish()?;
    Ok(Json(state.svc.staff_list(&actor, team).await?))
}

/// `POST /staff`: gives a member of staff an account.
#[utoipa::path(
    post, path = "/staff", tag = "staff", operation_id = "addStaff",
    summary = "Give a member of staff an account",
    description = "Administrators only. A taken login is 409.",
    request_body = StaffInput,
    responses(
        (status = 201, description = "The new account", body = StaffView, headers(("Location" = String, description = "The new record's address"))),
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
    ApiJson(input): ApiJson<StaffInput>,
) -> Result<Created<StaffView>, ApiError> {
    let id = state.svc.add_staff(Caller::Staff(&actor), &input).await?;
    let staff = state.svc.staff_member(&actor, id).await?;
    Ok(Created::at(format!("/api/v1/staff/{id}"), staff))
}

/// `PUT /staff/{id}/qualification`: records when a social worker qualified.
#[utoipa::path(
    put, path = "/staff/{id}/qualification", tag = "staff", operation_id = "setQualification",
    summary = "Record when a social worker qualified (administrators)",
    description = "In their first year after qualifying a worker's cap is the policy's `newly_qualified_cap_factor` (default 0.8) of the usual one, and a child protection case needs a manager's reason.",
    params(RecordPath),
    request_body = commands::staff::QualificationInput,
    responses(
        (status = 200, description = "The member of staff", body = StaffView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Moved {
    /// The cases moved, oldest first.
    pub moved: Vec<domain::ids::CaseId>,
}

/// `POST /staff/{id}/reallocation`: moves every open case the worker holds.
#[utoipa::path(
    post, path = "/staff/{id}/reallocation", tag = "cases", operation_id = "reallocateAll",
    summary = "Move every open case a worker holds (managers)",
    description = "For a worker who is leaving or away for long. Each case goes to `to`, or (left out) to whoever in the team has most room under their own cap at that moment, with the same checks as a single allocation; a move that would take someone over their cap (or give a newly qualified worker a child protection case) needs `override_reason`. All move or none do; one entry on the trail, and every child's record shows the move.",
    params(RecordPath),
    request_body = commands::cases::ReallocationInput,
    responses(
        (status = 200, description = "The cases moved", body = Moved),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn reallocate(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
    ApiJson(input): ApiJson<commands::cases::ReallocationInput>,
) -> Result<Json<Moved>, ApiError> {
    Ok(Json(Moved { moved: state.svc.reallocate_all(&actor, id, &input).await? }))
}

/// `GET /staff/{id}`.
#[utoipa::path(
    get, path = "/staff/{id}", tag = "staff", operation_id = "getStaff",
    summary = "One member of staff (anyone may read their own entry)",
    params(RecordPath),
    responses(
        (status = 200, description = "The member of staff", body = StaffView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
) -> Result<Json<StaffView>, ApiError> {
    Ok(Json(state.svc.staff_member(&actor, id).await?))
}

/// `GET /teams`: every team. Partner users address referrals to a team and need
/// nothing else about it, so they get each team's management line left empty.
#[utoipa::path(
    get, path = "/teams", tag = "staff", operation_id = "listTeams",
    summary = "Every team, by name",
    description = "Anyone signed in. Partner-agency users see each team's id and name only: the management line is null for them.",
    responses(
        (status = 200, description = "Teams", body = Vec<TeamView>),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/teams", tag = "staff", operation_id = "createTeam",
    summary = "Create a team",
    description = "Administrators only. A taken name is 409.",
    request_body = TeamInput,
    responses(
        (status = 201, description = "The new team", body = TeamView, headers(("Location" = String, description = "The new record's address"))),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    get, path = "/teams/{id}", tag = "staff", operation_id = "getTeam",
    summary = "One team and its management line",
    params(RecordPath),
    responses(
        (status = 200, description = "The team", body = TeamView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn team(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<TeamId>,
) -> Result<Json<TeamView>, ApiError> {
    Ok(Json(state.svc.team(&actor, id).await?))
}

/// `PUT /teams/{id}/leadership`: who manages the team at each level of escalation.
#[utoipa::path(
    put, path = "/teams/{id}/leadership", tag = "staff", operation_id = "setTeamLeadership",
    summary = "Set who manages the team at each level of escalation",
    description = "Administrators only. Replaces the whole management line: a level left out is left empty. Each level needs a manager of at least that level.",
    params(RecordPath),
    request_body = LeadershipInput,
    responses(
        (status = 200, description = "The team as it now stands", body = TeamView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn set_leadership(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<TeamId>,
    ApiJson(input): ApiJson<LeadershipInput>,
) -> Result<Json<TeamView>, ApiError> {
    state.svc.set_team_leadership(Caller::Staff(&actor), id, &input).await?;
    Ok(Json(state.svc.team(&actor, id).await?))
}
