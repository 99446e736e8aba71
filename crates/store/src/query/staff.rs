//! Teams and staff as the directory shows them, and who is away.

use super::{Named, named_staff, opt_ts, ts};
use crate::load::code;
use crate::{Store, StoreError};
use domain::ids::*;
use domain::staff::{Agency, Role};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A team and its management line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamView {
    /// The team.
    pub id: TeamId,
    /// Its name.
    pub name: String,
    /// Level 1.
    pub team_manager: Option<Named<StaffId>>,
    /// Level 2.
    pub service_manager: Option<Named<StaffId>>,
    /// Level 3.
    pub head_of_service: Option<Named<StaffId>>,
}

const TEAM_SELECT: &str =
    "SELECT t.id, t.name, t.team_manager_id, tm.name AS tm_name, t.service_manager_id, sm.name AS sm_name,
        t.head_of_service_id, hs.name AS hs_name
   FROM teams t
   LEFT JOIN staff tm ON tm.id = t.team_manager_id
   LEFT JOIN staff sm ON sm.id = t.service_manager_id
   LEFT JOIN staff hs ON hs.id = t.head_of_service_id";

fn team_from_row(r: &AnyRow) -> Result<TeamView, StoreError> {
    Ok(TeamView {
        id: TeamId(r.try_get("id")?),
        name: r.try_get("name")?,
        team_manager: named_staff(r, "team_manager_id", "tm_name")?,
        service_manager: named_staff(r, "service_manager_id", "sm_name")?,
        head_of_service: named_staff(r, "head_of_service_id", "hs_name")?,
    })
}

/// Every team, by name.
pub async fn teams(store: &Store) -> Result<Vec<TeamView>, StoreError> {
    let sql = format!("{TEAM_SELECT} ORDER BY t.name");
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(store.pool()).await?.iter().map(team_from_row).collect()
}

/// One team.
pub async fn team(store: &Store, id: TeamId) -> Result<Option<TeamView>, StoreError> {
    let sql = format!("{TEAM_SELECT} WHERE t.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(team_from_row)
        .transpose()
}

/// A member of staff as the directory shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    /// Who.
    pub id: StaffId,
    /// Sign-in name.
    pub login: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Agency, for partners.
    pub agency: Option<Agency>,
    /// Team.
    pub team: Option<Named<TeamId>>,
    /// Full-time equivalence.
    pub fte: f64,
    /// Deputy.
    pub deputy: Option<Named<StaffId>>,
    /// Whether the account is active.
    pub active: bool,
}

const STAFF_SELECT: &str = "SELECT s.id, s.login, s.name, s.role, s.agency, s.team_id, t.name AS team_name, s.fte,
        s.deputy_id, d.name AS deputy_name, s.active
   FROM staff s LEFT JOIN teams t ON t.id = s.team_id LEFT JOIN staff d ON d.id = s.deputy_id";

fn staff_from_row(r: &AnyRow) -> Result<StaffView, StoreError> {
    Ok(StaffView {
        id: StaffId(r.try_get("id")?),
        login: r.try_get("login")?,
        name: r.try_get("name")?,
        role: code("staff", &r.try_get::<String, _>("role")?, Role::parse)?,
        agency: match r.try_get::<Option<String>, _>("agency")? {
            Some(a) => Some(code("staff", &a, Agency::parse)?),
            None => None,
        },
        team: match (r.try_get::<Option<i64>, _>("team_id")?, r.try_get::<Option<String>, _>("team_name")?) {
            (Some(id), Some(name)) => Some(Named { id: TeamId(id), name }),
            _ => None,
        },
        fte: r.try_get("fte")?,
        deputy: named_staff(r, "deputy_id", "deputy_name")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

/// Staff, optionally only one team's, by name.
pub async fn staff_list(store: &Store, team: Option<TeamId>) -> Result<Vec<StaffView>, StoreError> {
    let sql = format!("{STAFF_SELECT} WHERE ($1 IS NULL OR s.team_id = $1) ORDER BY s.name, s.id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(team.map(|t| t.0))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(staff_from_row)
        .collect()
}

/// One member of staff.
pub async fn staff(store: &Store, id: StaffId) -> Result<Option<StaffView>, StoreError> {
    let sql = format!("{STAFF_SELECT} WHERE s.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(staff_from_row)
        .transpose()
}

/// Who is away at `now`, and until when (absences that have not yet ended).
pub async fn absences(store: &Store, now: Timestamp) -> Result<Vec<(StaffId, Timestamp)>, StoreError> {
    sqlx::query("SELECT id, absent_until FROM staff WHERE absent_until IS NOT NULL AND absent_until > $1 ORDER BY id")
        .bind(crate::time::to_micros(now))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| Ok((StaffId(r.try_get("id")?), ts(r, "absent_until")?)))
        .collect()
}

/// Whether someone is marked away, and until when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AbsenceView {
    /// Who.
    pub staff: Named<StaffId>,
    /// Away until then; none when not marked away.
    pub until: Option<Timestamp>,
}

/// A member of staff's absence as recorded (the time may have passed).
pub async fn absence(store: &Store, staff: StaffId) -> Result<Option<AbsenceView>, StoreError> {
    sqlx::query("SELECT id, name, absent_until FROM staff WHERE id = $1")
        .bind(staff.0)
        .fetch_optional(store.pool())
        .await?
        .map(|r| {
            Ok(AbsenceView {
                staff: Named { id: StaffId(r.try_get("id")?), name: r.try_get("name")? },
                until: opt_ts(&r, "absent_until")?,
            })
        })
        .transpose()
}
