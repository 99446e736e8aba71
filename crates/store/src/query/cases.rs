//! Cases with their child, worker and when the child was last seen, one or by filter.

use super::{Named, named_staff, opt_date, opt_ts, ts};
use crate::load::code;
use crate::{Store, StoreError};
use domain::case::Stage;
use domain::ids::*;
use domain::person::DateOfBirth;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A case with its child, worker and when the child was last seen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// The case.
    pub id: CaseId,
    /// The child.
    pub child: Named<PersonId>,
    /// The child's date of birth.
    pub child_dob: DateOfBirth,
    /// The team.
    pub team: Named<TeamId>,
    /// Stage.
    pub stage: Stage,
    /// Opened.
    pub opened_at: Timestamp,
    /// Closed.
    pub closed_at: Option<Timestamp>,
    /// Why it closed.
    pub closure_reason: Option<String>,
    /// The allocated worker.
    pub worker: Option<Named<StaffId>>,
    /// Allocated since.
    pub allocated_at: Option<Timestamp>,
    /// Last visit of any outcome.
    pub last_visit_at: Option<Timestamp>,
    /// Last time the child was seen.
    pub last_seen_at: Option<Timestamp>,
    /// Last time the child was seen alone.
    pub last_seen_alone_at: Option<Timestamp>,
}

const CASE_SELECT: &str = "SELECT c.id, c.person_id, p.given_name, p.family_name, p.dob, p.dob_precision, c.team_id,
        t.name AS team_name, c.stage, c.opened_at, c.closed_at, c.closure_reason, c.worker_id, w.name AS worker_name,
        c.allocated_at, c.last_visit_at, c.last_seen_at, c.last_seen_alone_at
   FROM cases c JOIN people p ON p.id = c.person_id JOIN teams t ON t.id = c.team_id
   LEFT JOIN staff w ON w.id = c.worker_id";

fn case_from_row(r: &AnyRow) -> Result<CaseView, StoreError> {
    Ok(CaseView {
        id: CaseId(r.try_get("id")?),
        child: Named {
            id: PersonId(r.try_get("person_id")?),
            name: format!("{} {}", r.try_get::<String, _>("given_name")?, r.try_get::<String, _>("family_name")?),
        },
        child_dob: DateOfBirth::from_parts(opt_date("people", r, "dob")?, &r.try_get::<String, _>("dob_precision")?),
        team: Named { id: TeamId(r.try_get("team_id")?), name: r.try_get("team_name")? },
        stage: code("cases", &r.try_get::<String, _>("stage")?, Stage::parse)?,
        opened_at: ts(r, "opened_at")?,
        closed_at: opt_ts(r, "closed_at")?,
        closure_reason: r.try_get("closure_reason")?,
        worker: named_staff(r, "worker_id", "worker_name")?,
        allocated_at: opt_ts(r, "allocated_at")?,
        last_visit_at: opt_ts(r, "last_visit_at")?,
        last_seen_at: opt_ts(r, "last_seen_at")?,
        last_seen_alone_at: opt_ts(r, "last_seen_alone_at")?,
    })
}

/// One case.
pub async fn case(store: &Store, id: CaseId) -> Result<Option<CaseView>, StoreError> {
    let sql = format!("{CASE_SELECT} WHERE c.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(case_from_row)
        .transpose()
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only this worker's.
    pub worker: Option<StaffId>,
    /// Only this team's.
    pub team: Option<TeamId>,
    /// Only open cases.
    pub open_only: bool,
    /// Only open cases with no allocated worker.
    pub unallocated: bool,
    /// Only this child's.
    pub child: Option<PersonId>,
    /// At most this many.
    pub limit: i64,
}

/// Cases matching a filter: the longest unseen first, then oldest.
pub async fn cases(store: &Store, f: &CaseFilter) -> Result<Vec<CaseView>, StoreError> {
    let sql = format!(
        "{CASE_SELECT}
          WHERE ($1 IS NULL OR c.worker_id = $1)
            AND ($2 IS NULL OR c.team_id = $2)
            AND ($3 = 0 OR c.closed_at IS NULL)
            AND ($4 = 0 OR (c.closed_at IS NULL AND c.worker_id IS NULL))
            AND ($5 IS NULL OR c.person_id = $5)
          ORDER BY CASE WHEN c.closed_at IS NULL THEN 0 ELSE 1 END, COALESCE(c.last_seen_at, 0), c.opened_at, c.id
          LIMIT $6"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.worker.map(|w| w.0))
        .bind(f.team.map(|t| t.0))
        .bind(i64::from(f.open_only))
        .bind(i64::from(f.unallocated))
        .bind(f.child.map(|c| c.0))
        .bind(if f.limit > 0 { f.limit } else { 500 })
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(case_from_row)
        .collect()
}
