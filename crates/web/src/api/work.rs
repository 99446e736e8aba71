//! What needs doing: the flags on a child's record, deadlines for a child or across a
//! caseload, and the caller's inbox.

use super::doc::{Forbidden, NotFound, RecordPath, Unauthenticated, Unavailable};
use super::extract::Id;
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::read_models::{DueView, NotificationView};
use domain::flags::Flag;
use domain::ids::PersonId;
use jiff::Timestamp;
use serde::Serialize;

/// A flag on a child's record: the rule that raised it, in words, and its evidence.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagOut {
    /// Which flag.
    pub flag: Flag,
    /// Its name in words.
    pub label: &'static str,
    /// The rule, with the numbers of the policy in force, so it can be read and challenged.
    pub rule: String,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// The events that raised it.
    pub evidence: Vec<String>,
}

/// `GET /people/{id}/flags`: the flags raised on the child now.
#[utoipa::path(
    get, path = "/people/{id}/flags", tag = "escalations", operation_id = "getChildFlags",
    summary = "The flags raised on the person's record now",
    description = "Practice staff only. Flags are transparent rules, not scores: each names its rule (with the numbers of the policy in force) and the events that raised it. A flag clears as soon as its rule no longer holds.",
    params(RecordPath),
    responses(
        (status = 200, description = "Flags, oldest first, each with the rule that raised it and its evidence", body = Vec<FlagOut>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn flags(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    origin: crate::Origin,
    Id(id): Id<PersonId>,
) -> Result<Json<Vec<FlagOut>>, ApiError> {
    state.svc.person(&actor, id).await?;
    let flags = state.svc.flags(&actor, id).await?;
    super::viewed(&state, &actor, id, &origin).await?;
    let (_, policy) = state.svc.current_policy().await?;
    Ok(Json(
        flags
            .into_iter()
            .map(|f| FlagOut {
                flag: f.flag,
                label: f.flag.label(),
                rule: f.flag.rule(&policy),
                raised_at: f.raised_at,
                evidence: f.evidence,
            })
            .collect(),
    ))
}

/// `GET /people/{id}/due`: deadlines still to be met for the child, earliest first.
#[utoipa::path(
    get, path = "/people/{id}/due", tag = "escalations", operation_id = "getChildDue",
    summary = "Deadlines still to be met for the person (and undecided referrals about them)",
    description = "Practice staff only.",
    params(RecordPath),
    responses(
        (status = 200, description = "Deadlines, earliest first; `overdue` once the time has passed", body = Vec<DueView>),
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
) -> Result<Json<Vec<DueView>>, ApiError> {
    state.svc.person(&actor, id).await?;
    let due = state.svc.due_for_child(&actor, id).await?;
    super::viewed(&state, &actor, id, &origin).await?;
    Ok(Json(due))
}

/// `GET /my/due`: deadlines across the caller's caseload (and a team manager's team's
/// undecided referrals), earliest first.
#[utoipa::path(
    get, path = "/my/due", tag = "escalations", operation_id = "getMyDue",
    summary = "Deadlines across the caller's caseload (and, for a team manager, the team's undecided referrals)",
    responses(
        (status = 200, description = "Deadlines, earliest first", body = Vec<DueView>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn mine(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Vec<DueView>>, ApiError> {
    Ok(Json(state.svc.my_due(&actor).await?))
}

/// `GET /my/inbox`: the caller's notifications, newest first.
#[utoipa::path(
    get, path = "/my/inbox", tag = "escalations", operation_id = "getMyInbox",
    summary = "The caller's notifications, newest first",
    description = "Every raise, climb and reminder of an escalation notifies its holder and tells the child's allocated worker.",
    responses(
        (status = 200, description = "Notifications (at most 200)", body = Vec<NotificationView>),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn inbox(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    Ok(Json(state.svc.inbox(&actor).await?))
}
