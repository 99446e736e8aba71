//! What escalations send people: inbox notifications, welfare-check requests to the
//! police, and professional disagreements.

use super::{Named, opt_date, opt_ts, ts};
use crate::{Store, StoreError};
use domain::ids::*;
use domain::person::DateOfBirth;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

/// A notification in someone's inbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    /// Its id.
    pub id: i64,
    /// The escalation it is about.
    pub escalation: Option<domain::escalation::EscalationId>,
    /// What it says.
    pub body: String,
    /// When.
    pub created_at: Timestamp,
    /// When it was read.
    pub read_at: Option<Timestamp>,
}

/// A person's inbox, newest first.
pub async fn inbox(store: &Store, staff: StaffId, limit: i64) -> Result<Vec<NotificationView>, StoreError> {
    sqlx::query("SELECT id, escalation_id, body, created_at, read_at FROM notifications WHERE staff_id = $1 AND channel = 'inbox' ORDER BY created_at DESC, id DESC LIMIT $2")
        .bind(staff.0)
        .bind(limit)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(NotificationView {
                id: r.try_get("id")?,
                escalation: r.try_get::<Option<i64>, _>("escalation_id")?.map(domain::escalation::EscalationId),
                body: r.try_get("body")?,
                created_at: ts(r, "created_at")?,
                read_at: opt_ts(r, "read_at")?,
            })
        })
        .collect()
}

/// A request to the police to check on a child.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WelfareCheckView {
    /// The request.
    pub id: i64,
    /// The child.
    pub child: Named<PersonId>,
    /// The child's date of birth.
    pub child_dob: DateOfBirth,
    /// The child's current address, if known.
    pub address: Option<String>,
    /// The escalation that asked.
    pub escalation: domain::escalation::EscalationId,
    /// The team asking.
    pub team: Option<String>,
    /// When it was asked.
    pub requested_at: Timestamp,
    /// Whether a visit has been recorded since.
    pub visited_since: bool,
}

/// Welfare-check requests to an agency, newest first.
pub async fn welfare_checks(store: &Store, agency: &str, limit: i64) -> Result<Vec<WelfareCheckView>, StoreError> {
    sqlx::query(
        "SELECT w.id, w.person_id, p.given_name, p.family_name, p.dob, p.dob_precision, w.escalation_id, t.name AS team_name, w.requested_at,
                (SELECT a.line || COALESCE(', ' || a.town, '') || COALESCE(' ' || a.postcode, '') FROM person_addresses a
                  WHERE a.person_id = w.person_id AND a.to_date IS NULL ORDER BY a.id DESC LIMIT 1) AS address,
                CAST((SELECT COUNT(*) FROM visits v WHERE v.person_id = w.person_id AND v.visited_at >= w.requested_at) AS BIGINT) AS visits
           FROM welfare_checks w JOIN people p ON p.id = w.person_id
           JOIN escalations e ON e.id = w.escalation_id LEFT JOIN teams t ON t.id = e.team_id
          WHERE w.agency = $1 ORDER BY w.requested_at DESC, w.id DESC LIMIT $2",
    )
    .bind(agency.to_string())
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(WelfareCheckView {
            id: r.try_get("id")?,
            child: Named { id: PersonId(r.try_get("person_id")?), name: format!("{} {}", r.try_get::<String, _>("given_name")?, r.try_get::<String, _>("family_name")?) },
            child_dob: DateOfBirth::from_parts(opt_date("people", r, "dob")?, &r.try_get::<String, _>("dob_precision")?),
            address: r.try_get("address")?,
            escalation: domain::escalation::EscalationId(r.try_get("escalation_id")?),
            team: r.try_get("team_name")?,
            requested_at: ts(r, "requested_at")?,
            visited_since: r.try_get::<i64, _>("visits")? > 0,
        })
    })
    .collect()
}

/// A professional disagreement and the stage it has reached.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisagreementView {
    /// Its id.
    pub id: i64,
    /// The referral whose decision is disputed.
    pub referral: ReferralId,
    /// Who raised it.
    pub raised_by: Named<StaffId>,
    /// What they said.
    pub body: String,
    /// When.
    pub raised_at: Timestamp,
    /// The stage reached (the escalation's level), if it has been escalated.
    pub stage: Option<i64>,
    /// open, acknowledged or resolved.
    pub state: Option<String>,
    /// The response recorded when it was resolved.
    pub response: Option<String>,
    /// The escalation carrying it.
    pub escalation: Option<domain::escalation::EscalationId>,
}

/// Disagreements, optionally only those raised by one person, newest first.
pub async fn disagreements(
    store: &Store,
    raised_by: Option<StaffId>,
    referral: Option<ReferralId>,
) -> Result<Vec<DisagreementView>, StoreError> {
    sqlx::query(
        "SELECT d.id, d.referral_id, d.raised_by, s.name AS raised_by_name, d.body, d.raised_at, e.id AS escalation_id, e.level, e.state, e.action
           FROM disagreements d JOIN staff s ON s.id = d.raised_by
           LEFT JOIN escalations e ON e.trigger = 'professional_disagreement' AND e.subject = 'disagreement:' || CAST(d.id AS TEXT)
          WHERE ($1 IS NULL OR d.raised_by = $1) AND ($2 IS NULL OR d.referral_id = $2)
          ORDER BY d.raised_at DESC, d.id DESC LIMIT 500",
    )
    .bind(raised_by.map(|s| s.0))
    .bind(referral.map(|r| r.0))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(DisagreementView {
            id: r.try_get("id")?,
            referral: ReferralId(r.try_get("referral_id")?),
            raised_by: Named { id: StaffId(r.try_get("raised_by")?), name: r.try_get("raised_by_name")? },
            body: r.try_get("body")?,
            raised_at: ts(r, "raised_at")?,
            stage: r.try_get("level")?,
            state: r.try_get("state")?,
            response: r.try_get("action")?,
            escalation: r.try_get::<Option<i64>, _>("escalation_id")?.map(domain::escalation::EscalationId),
        })
    })
    .collect()
}
