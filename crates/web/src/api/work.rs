//! What needs doing: the flags on a child's record, deadlines for a child or across a
//! caseload, and the caller's inbox.

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
#[derive(Debug, Serialize)]
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
pub async fn mine(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Vec<DueView>>, ApiError> {
    Ok(Json(state.svc.my_due(&actor).await?))
}

/// `GET /my/inbox`: the caller's notifications, newest first.
pub async fn inbox(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    Ok(Json(state.svc.inbox(&actor).await?))
}
