//! The escalation policy (every number in the escalation rules, as data) and the
//! absences that steer routing around people who are away.

use super::doc::{Forbidden, Invalid, NotFound, RecordPath, Unauthenticated, Unavailable, UnsupportedMediaType};
use super::extract::Id;
use super::{ApiJson, invalid_json, written};
use crate::error::ApiError;
use crate::{ApiUser, AppState};
use axum::Json;
use axum::extract::State;
use commands::Caller;
use commands::escalations::AbsenceInput;
use commands::read_models::AbsenceView;
use domain::escalation::{Policy, Trigger, TriggerPolicy};
use domain::ids::StaffId;
use serde::Serialize;
use serde_json::Value;

/// A version of the policy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyVersion {
    /// Its version: 0 for the built-in default, then 1, 2, … as it is changed.
    pub version: i64,
    /// The whole policy, defaults filled in.
    pub policy: Policy,
}

/// `GET /policy`: the policy in force.
#[utoipa::path(
    get, path = "/policy", tag = "escalations", operation_id = "getPolicy",
    summary = "The escalation policy in force",
    description = "Everyone but partner-agency users. Every timescale, level and threshold the escalation rules use, as data.",
    responses(
        (status = 200, description = "The policy and its version", body = PolicyVersion),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn get(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<PolicyVersion>, ApiError> {
    let (version, policy) = state.svc.policy(&actor).await?;
    Ok(Json(PolicyVersion { version, policy: Policy::clone(&policy) }))
}

/// `PUT /policy`: a new version of the policy (administrators). The body is read as a
/// policy file is: what it leaves out takes the default.
#[utoipa::path(
    put, path = "/policy", tag = "escalations", operation_id = "setPolicy",
    summary = "Replace the escalation policy with a new version",
    description = "Administrators only. The body is a policy file: what it leaves out takes the built-in default (not the current version), and a trigger given replaces that trigger's settings as a whole. A bad value is 422 naming it, e.g. `triggers.child_not_seen.resolve_within`. Timers already running keep their times; everything from now on follows the new version. The change is on the audit trail.",
    request_body = Policy,
    responses(
        (status = 200, description = "The new version, defaults filled in", body = PolicyVersion),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn set(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<PolicyVersion>, ApiError> {
    let mut policy = read_policy(body)?;
    // Sections left out already took their defaults when the body was read; a trigger
    // left out keeps its default settings too, as `Policy::from_json` does for files.
    // (Validation is left to the command, which checks the caller's role first.)
    for (trigger, settings) in Policy::default().triggers {
        policy.triggers.entry(trigger).or_insert(settings);
    }
    let version = state.svc.set_policy(Caller::Staff(&actor), &policy).await?;
    Ok(Json(PolicyVersion { version, policy }))
}

/// Reads a policy body, naming a bad value by its place in the policy. Serde names a
/// trigger's settings `triggers.?` (its key is an enum, not text), so each trigger is
/// read on its own first, under its own name.
fn read_policy(body: Value) -> Result<Policy, ApiError> {
    let named = |at: &str, e: serde_path_to_error::Error<serde_json::Error>| {
        let path = match (at, e.path().to_string()) {
            (".", inner) => inner,
            (at, inner) if inner == "." => at.to_string(),
            (at, inner) => format!("{at}.{inner}"),
        };
        invalid_json(&path, &e.inner().to_string())
    };
    if let Some(triggers) = body.get("triggers").and_then(Value::as_object) {
        for (key, settings) in triggers {
            let at = format!("triggers.{key}");
            if !Trigger::ALL.iter().any(|t| t.code() == key) {
                let codes: Vec<&str> = Trigger::ALL.iter().map(|t| t.code()).collect();
                return Err(invalid_json(&at, &format!("is not a trigger; use {}", codes.join(", "))));
            }
            serde_path_to_error::deserialize::<_, TriggerPolicy>(settings).map_err(|e| named(&at, e))?;
        }
    }
    serde_path_to_error::deserialize(body).map_err(|e| named(".", e))
}

/// `PUT /staff/{id}/absence`: marks someone away until a time, or back now.
#[utoipa::path(
    put, path = "/staff/{id}/absence", tag = "staff", operation_id = "setAbsence",
    summary = "Mark someone away until a time, or back now",
    description = "Anyone for themselves; managers and administrators for anyone. While someone is away, escalations that would go to them go to their deputy if available, else one level up. `until` null (or left out) means back now.",
    params(RecordPath),
    request_body = AbsenceInput,
    responses(
        (status = 200, description = "The absence as recorded", body = AbsenceView),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn set_absence(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Id(id): Id<StaffId>,
    ApiJson(input): ApiJson<AbsenceInput>,
) -> Result<Json<AbsenceView>, ApiError> {
    state.svc.set_absence(Caller::Staff(&actor), id, &input).await?;
    Ok(Json(written(state.svc.absence_written(Caller::Staff(&actor), id)).await?))
}
