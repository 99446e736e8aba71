//! The caseload dashboard as JSON.

use super::extract::ApiQuery;
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::caseloads::Dashboard;
use domain::ids::TeamId;

/// `GET /caseloads?team=`: loads against the cap, the staffing gap and its forecast,
/// for a team or (without `team`) the whole service.
pub async fn dashboard(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<Dashboard>, ApiError> {
    let mut params = query.params(&["team"]);
    let team = params.id::<TeamId>("team");
    params.finish()?;
    Ok(Json(state.svc.caseload_dashboard(&actor, team).await?))
}
