//! The statutory side of a child's history: concerns, threshold decisions, strategy
//! discussions, conferences and completed assessments.

use super::{Named, named_staff, opt_date, ts};
use crate::load::code;
use crate::{Store, StoreError};
use domain::ids::*;
use domain::referral::{Category, ReferralSource};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row;

/// A statutory step on a case: a strategy discussion, a conference, the assessment completed.
#[derive(Debug, Clone, Serialize)]
pub struct CaseStepView {
    /// The case.
    pub case: CaseId,
    /// strategy_discussion, s47_strategy_discussion, icpc, review_conference or assessment_completed.
    pub kind: String,
    /// When.
    pub at: Timestamp,
    /// Who recorded it (not kept for the assessment).
    pub by: Option<Named<StaffId>>,
}

/// The statutory side of a child's history, for the chronology, each oldest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PracticeHistory {
    /// New concerns.
    pub concerns: Vec<ConcernView>,
    /// Threshold decisions.
    pub decisions: Vec<ThresholdDecisionView>,
    /// Strategy discussions, conferences and completed assessments.
    pub steps: Vec<CaseStepView>,
}

/// A child's concerns, threshold decisions and statutory steps.
pub async fn practice_history(store: &Store, child: PersonId) -> Result<PracticeHistory, StoreError> {
    let concerns = concerns(store, child).await?;
    let decisions = threshold_decisions(store, child).await?;
    let mut steps = vec![];
    for r in sqlx::query(
        "SELECT d.case_id, d.s47, d.held_at, d.by_staff_id, s.name AS by_name
           FROM strategy_discussions d JOIN staff s ON s.id = d.by_staff_id WHERE d.person_id = $1",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?
    {
        let s47 = r.try_get::<i64, _>("s47")? != 0;
        steps.push(CaseStepView {
            case: CaseId(r.try_get("case_id")?),
            kind: if s47 { "s47_strategy_discussion" } else { "strategy_discussion" }.into(),
            at: ts(&r, "held_at")?,
            by: named_staff(&r, "by_staff_id", "by_name")?,
        });
    }
    for r in sqlx::query(
        "SELECT c.case_id, c.kind, c.held_at, c.by_staff_id, s.name AS by_name
           FROM conferences c JOIN staff s ON s.id = c.by_staff_id WHERE c.person_id = $1",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?
    {
        let kind: String = r.try_get("kind")?;
        steps.push(CaseStepView {
            case: CaseId(r.try_get("case_id")?),
            kind: if kind == "icpc" { "icpc".into() } else { "review_conference".into() },
            at: ts(&r, "held_at")?,
            by: named_staff(&r, "by_staff_id", "by_name")?,
        });
    }
    for r in sqlx::query(
        "SELECT id, assessment_completed_at FROM cases WHERE person_id = $1 AND assessment_completed_at IS NOT NULL",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?
    {
        steps.push(CaseStepView {
            case: CaseId(r.try_get("id")?),
            kind: "assessment_completed".into(),
            at: ts(&r, "assessment_completed_at")?,
            by: None,
        });
    }
    steps.sort_by_key(|s| (s.at, s.case));
    Ok(PracticeHistory { concerns, decisions, steps })
}

/// A decision on whether the threshold (for a s47 enquiry or for proceedings) was met.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThresholdDecisionView {
    /// The decision.
    pub id: i64,
    /// The child it is about.
    pub child: PersonId,
    /// Where it was made.
    pub forum: domain::practice::Forum,
    /// Met or not met.
    pub outcome: domain::practice::ThresholdOutcome,
    /// Why.
    pub reason: String,
    /// Whether the family's cooperation was one of the reasons.
    pub cooperation_noted: bool,
    /// When it must be looked at again.
    pub review_by: Option<Date>,
    /// Who recorded it.
    pub by: Named<StaffId>,
    /// When.
    pub decided_at: Timestamp,
}

/// The threshold decisions about a child, oldest first.
pub async fn threshold_decisions(store: &Store, child: PersonId) -> Result<Vec<ThresholdDecisionView>, StoreError> {
    sqlx::query(
        "SELECT d.id, d.person_id, d.forum, d.outcome, d.reason, d.cooperation_noted, d.review_by, d.by_staff_id, s.name AS by_name, d.decided_at
           FROM threshold_decisions d JOIN staff s ON s.id = d.by_staff_id
          WHERE d.person_id = $1 ORDER BY d.decided_at, d.id",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(ThresholdDecisionView {
            id: r.try_get("id")?,
            child: PersonId(r.try_get("person_id")?),
            forum: code("threshold_decisions", &r.try_get::<String, _>("forum")?, domain::practice::Forum::parse)?,
            outcome: code("threshold_decisions", &r.try_get::<String, _>("outcome")?, domain::practice::ThresholdOutcome::parse)?,
            reason: r.try_get("reason")?,
            cooperation_noted: r.try_get::<i64, _>("cooperation_noted")? != 0,
            review_by: opt_date("threshold_decisions", r, "review_by")?,
            by: Named { id: StaffId(r.try_get("by_staff_id")?), name: r.try_get("by_name")? },
            decided_at: ts(r, "decided_at")?,
        })
    })
    .collect()
}

/// A concern about a child already known, recorded outside a referral.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConcernView {
    /// The concern.
    pub id: i64,
    /// The child it is about.
    pub child: PersonId,
    /// Where it came from.
    pub source: ReferralSource,
    /// What it is.
    pub concern: String,
    /// Categories.
    pub categories: Vec<Category>,
    /// Who recorded it.
    pub by: Named<StaffId>,
    /// When it was received.
    pub received_at: Timestamp,
}

/// The concerns recorded about a child, oldest first.
pub async fn concerns(store: &Store, child: PersonId) -> Result<Vec<ConcernView>, StoreError> {
    sqlx::query(
        "SELECT c.id, c.person_id, c.source, c.body, c.categories, c.by_staff_id, s.name AS by_name, c.received_at
           FROM concerns c JOIN staff s ON s.id = c.by_staff_id
          WHERE c.person_id = $1 ORDER BY c.received_at, c.id",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(ConcernView {
            id: r.try_get("id")?,
            child: PersonId(r.try_get("person_id")?),
            source: code("concerns", &r.try_get::<String, _>("source")?, ReferralSource::parse)?,
            concern: r.try_get("body")?,
            categories: r
                .try_get::<String, _>("categories")?
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|c| code("concerns", c, Category::parse))
                .collect::<Result<Vec<_>, _>>()?,
            by: Named { id: StaffId(r.try_get("by_staff_id")?), name: r.try_get("by_name")? },
            received_at: ts(r, "received_at")?,
        })
    })
    .collect()
}
