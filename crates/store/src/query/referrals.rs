//! Referrals with their decisions, one or by filter.

use super::{Named, named_staff, opt_ts, ts};
use crate::load::code;
use crate::{Store, StoreError};
use domain::ids::*;
use domain::referral::{Category, Decision, ReferralSource};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A referral with its decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    /// The referral.
    pub id: ReferralId,
    /// The team that received it.
    pub team: Named<TeamId>,
    /// Source.
    pub source: ReferralSource,
    /// Who referred, as told.
    pub referrer: Option<String>,
    /// Who recorded it.
    pub recorded_by: Named<StaffId>,
    /// When it was received.
    pub received_at: Timestamp,
    /// The concern.
    pub concern: String,
    /// Categories.
    pub categories: Vec<Category>,
    /// The decision.
    pub decision: Option<Decision>,
    /// Why.
    pub decision_reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<Named<StaffId>>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// The children it is about.
    pub children: Vec<Named<PersonId>>,
}

/// Which referrals to list.
#[derive(Debug, Clone, Default)]
pub struct ReferralFilter {
    /// Only this team's.
    pub team: Option<TeamId>,
    /// Only undecided ones.
    pub undecided: bool,
    /// Only those recorded by this person (a partner sees their own).
    pub recorded_by: Option<StaffId>,
    /// Only those about this child.
    pub child: Option<PersonId>,
    /// At most this many (newest first).
    pub limit: i64,
}

const REFERRAL_SELECT: &str = "SELECT r.id, r.team_id, t.name AS team_name, r.source, r.referrer, r.recorded_by,
        rb.name AS recorded_by_name, r.received_at, r.concern, r.categories, r.decision, r.decision_reason,
        r.decided_by, db.name AS decided_by_name, r.decided_at
   FROM referrals r JOIN teams t ON t.id = r.team_id JOIN staff rb ON rb.id = r.recorded_by
   LEFT JOIN staff db ON db.id = r.decided_by";

async fn referral_from_row(store: &Store, r: &AnyRow) -> Result<ReferralView, StoreError> {
    let id = ReferralId(r.try_get("id")?);
    let children = sqlx::query(
        "SELECT p.id, p.given_name, p.family_name FROM referral_children rc JOIN people p ON p.id = rc.person_id
          WHERE rc.referral_id = $1 ORDER BY p.id",
    )
    .bind(id.0)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|c| {
        Ok(Named {
            id: PersonId(c.try_get("id")?),
            name: format!("{} {}", c.try_get::<String, _>("given_name")?, c.try_get::<String, _>("family_name")?),
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let categories = r
        .try_get::<String, _>("categories")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|c| code("referrals", c, Category::parse))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReferralView {
        id,
        team: Named { id: TeamId(r.try_get("team_id")?), name: r.try_get("team_name")? },
        source: code("referrals", &r.try_get::<String, _>("source")?, ReferralSource::parse)?,
        referrer: r.try_get("referrer")?,
        recorded_by: Named { id: StaffId(r.try_get("recorded_by")?), name: r.try_get("recorded_by_name")? },
        received_at: ts(r, "received_at")?,
        concern: r.try_get("concern")?,
        categories,
        decision: match r.try_get::<Option<String>, _>("decision")? {
            Some(d) => Some(code("referrals", &d, Decision::parse)?),
            None => None,
        },
        decision_reason: r.try_get("decision_reason")?,
        decided_by: named_staff(r, "decided_by", "decided_by_name")?,
        decided_at: opt_ts(r, "decided_at")?,
        children,
    })
}

/// One referral.
pub async fn referral(store: &Store, id: ReferralId) -> Result<Option<ReferralView>, StoreError> {
    let sql = format!("{REFERRAL_SELECT} WHERE r.id = $1");
    match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(store.pool()).await? {
        Some(r) => Ok(Some(referral_from_row(store, &r).await?)),
        None => Ok(None),
    }
}

/// Referrals matching a filter, newest first.
pub async fn referrals(store: &Store, f: &ReferralFilter) -> Result<Vec<ReferralView>, StoreError> {
    let sql = format!(
        "{REFERRAL_SELECT}
          WHERE ($1 IS NULL OR r.team_id = $1)
            AND ($2 = 0 OR r.decision IS NULL)
            AND ($3 IS NULL OR r.recorded_by = $3)
            AND ($4 IS NULL OR r.id IN (SELECT referral_id FROM referral_children WHERE person_id = $4))
          ORDER BY r.received_at DESC, r.id DESC LIMIT $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.team.map(|t| t.0))
        .bind(i64::from(f.undecided))
        .bind(f.recorded_by.map(|s| s.0))
        .bind(f.child.map(|c| c.0))
        .bind(if f.limit > 0 { f.limit } else { 100 })
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(referral_from_row(store, r).await?);
    }
    Ok(out)
}
