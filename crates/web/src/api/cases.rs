//! Cases: listing, allocation, visits, notes and closure.

use super::extract::{ApiQuery, Id};
use super::{ApiJson, Created, written};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::cases::{CloseInput, NoteInput};
use commands::input::{AllocationInput, VisitInput};
use commands::read_models::{CaseFilter, CaseView, NoteView, VisitView};
use domain::authz::Actor;
use domain::ids::CaseId;
use serde::Serialize;

/// `GET /cases?worker=&team=&unallocated=&open=&child=&limit=`: the longest unseen first.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    query: ApiQuery,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let mut params = query.params(&["worker", "team", "unallocated", "open", "child", "limit"]);
    let filter = CaseFilter {
        worker: params.id("worker"),
        team: params.id("team"),
        unallocated: params.flag("unallocated"),
        open_only: params.flag("open"),
        child: params.id("child"),
        limit: params.count("limit", 1000).unwrap_or(500),
    };
    params.finish()?;
    Ok(Json(state.svc.cases(&actor, filter).await?))
}

/// `GET /cases/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: crate::Origin,
    Id(id): Id<CaseId>,
) -> Result<Json<CaseView>, ApiError> {
    let case = state.svc.case(&actor, id).await?;
    super::viewed(&state, &actor, case.child.id, &origin).await?;
    Ok(Json(case))
}

/// `GET /my/caseload`: the caller's open cases.
pub async fn my_caseload(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(state.svc.my_caseload(&actor).await?))
}

/// A case with the workers who could take it.
#[derive(Debug, Serialize)]
pub struct AllocationCandidates {
    /// The case.
    pub case: CaseView,
    /// The case-holding workers of its team, ranked (see `Service::allocation_candidates`).
    pub workers: Vec<commands::views::Candidate>,
}

/// `GET /cases/{id}/allocation-candidates`.
pub async fn candidates(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
) -> Result<Json<AllocationCandidates>, ApiError> {
    let (case, workers) = state.svc.allocation_candidates(&actor, id).await?;
    Ok(Json(AllocationCandidates { case, workers }))
}

/// The case as it stands after a command the caller was allowed to make.
pub(super) async fn case_after(state: &AppState, actor: &Actor, id: CaseId) -> Result<CaseView, ApiError> {
    written(state.svc.case(actor, id)).await
}

/// `POST /cases/{id}/allocation`: allocates (or reallocates) the case to a worker.
pub async fn allocate(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<AllocationInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.allocate(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}

/// `POST /cases/{id}/visits`: records a visit to the child.
pub async fn record_visit(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<VisitInput>,
) -> Result<Created<VisitView>, ApiError> {
    let visit = state.svc.record_visit(&actor, id, &input).await?;
    Ok(Created::new(written(state.svc.visit_written(&actor, id, visit)).await?))
}

/// `POST /cases/{id}/notes`: writes a case note.
pub async fn add_note(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<Created<NoteView>, ApiError> {
    let note = state.svc.add_case_note(&actor, id, &input).await?;
    Ok(Created::new(written(state.svc.note_written(&actor, id, note)).await?))
}

/// `POST /cases/{id}/closure`: closes the case with a reason.
pub async fn close(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<CloseInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.close_case(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}
