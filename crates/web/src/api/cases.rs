//! Cases: listing, allocation, visits, notes and closure.

use super::doc::{
    Conflict, Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType,
};
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
#[utoipa::path(
    get, path = "/cases", tag = "cases", operation_id = "listCases",
    summary = "Cases: open before closed, the child seen longest ago first",
    params(
        ("worker" = Option<i64>, Query, description = "Only those allocated to this worker (a staff id).", minimum = 1),
        ("team" = Option<i64>, Query, description = "Only this team's.", minimum = 1),
        ("unallocated" = Option<bool>, Query, description = "Only open cases with no allocated worker. Default false."),
        ("open" = Option<bool>, Query, description = "Only open cases. Default false."),
        ("child" = Option<i64>, Query, description = "Only those about this child (a person id).", minimum = 1),
        ("limit" = Option<i64>, Query, description = "At most this many; default 500.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Cases", body = Vec<CaseView>),
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
#[utoipa::path(
    get, path = "/cases/{id}", tag = "cases", operation_id = "getCase",
    summary = "One case",
    params(RecordPath),
    responses(
        (status = 200, description = "The case", body = CaseView),
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
    Id(id): Id<CaseId>,
) -> Result<Json<CaseView>, ApiError> {
    let case = state.svc.case(&actor, id).await?;
    super::viewed(&state, &actor, case.child.id, &origin).await?;
    Ok(Json(case))
}

/// `GET /my/caseload`: the caller's open cases.
#[utoipa::path(
    get, path = "/my/caseload", tag = "cases", operation_id = "getMyCaseload",
    summary = "The caller's open cases, the child seen longest ago first",
    responses(
        (status = 200, description = "Open cases allocated to the caller", body = Vec<CaseView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn my_caseload(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(state.svc.my_caseload(&actor).await?))
}

/// A case with the workers who could take it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocationCandidates {
    /// The case.
    pub case: CaseView,
    /// The case-holding workers of its team, ranked (see `Service::allocation_candidates`).
    pub workers: Vec<commands::views::Candidate>,
}

/// `GET /cases/{id}/allocation-candidates`.
#[utoipa::path(
    get, path = "/cases/{id}/allocation-candidates", tag = "cases", operation_id = "getAllocationCandidates",
    summary = "The case-holding workers of the case's team with their loads, lightest first",
    params(RecordPath),
    responses(
        (status = 200, description = "The case and its candidate workers", body = AllocationCandidates),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/allocation", tag = "cases", operation_id = "allocateCase",
    summary = "Allocate (or reallocate) the case to a worker",
    description = "Managers only. Allocating a worker at or over their caseload cap needs an `override_reason`.",
    params(RecordPath),
    request_body = AllocationInput,
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
#[utoipa::path(
    post, path = "/cases/{id}/visits", tag = "cases", operation_id = "recordVisit",
    summary = "Record a visit to the child",
    description = "By the allocated worker or a manager.",
    params(RecordPath),
    request_body = VisitInput,
    responses(
        (status = 201, description = "The visit as recorded", body = VisitView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/notes", tag = "cases", operation_id = "addCaseNote",
    summary = "Write a case note",
    params(RecordPath),
    request_body = NoteInput,
    responses(
        (status = 201, description = "The note as recorded", body = NoteView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
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
#[utoipa::path(
    post, path = "/cases/{id}/closure", tag = "cases", operation_id = "closeCase",
    summary = "Close the case, with the reason",
    description = "Managers only. A closed case cannot be closed again (409).",
    params(RecordPath),
    request_body = CloseInput,
    responses(
        (status = 200, description = "The closed case", body = CaseView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn close(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<CaseId>,
    ApiJson(input): ApiJson<CloseInput>,
) -> Result<Json<CaseView>, ApiError> {
    state.svc.close_case(&actor, id, &input).await?;
    Ok(Json(case_after(&state, &actor, id).await?))
}
