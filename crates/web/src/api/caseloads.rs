//! The caseload dashboard as JSON.

use super::doc::{Forbidden, Invalid, NotFound, Unauthenticated, Unavailable};
use super::extract::ApiQuery;
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::caseloads::Dashboard;
use domain::ids::TeamId;

/// `GET /caseloads?team=`: loads against the cap, the staffing gap and its forecast,
/// for a team or (without `team`) the whole service.
#[utoipa::path(
    get, path = "/caseloads", tag = "cases", operation_id = "getCaseloads",
    summary = "Caseloads against the cap, the staffing gap and its 12-month forecast (managers and administrators)",
    description = "For a team (`team`) or the whole service. Each worker's weighted load (the policy's `caseload_weights` by stage) against their cap (`cap_per_fte` × FTE); a histogram of loads as a share of each cap; the FTE needed today to bring everyone to or under their cap (only load over each worker's own cap counts), and a Little's-law forecast from the last 12 months' inflow and time open, each with its working in words.",
    params(("team" = Option<i64>, Query, description = "Only this team's.", minimum = 1)),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
