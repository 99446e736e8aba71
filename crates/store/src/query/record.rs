//! A child's whole record: details, addresses, relationships, referrals, cases, stages,
//! allocations, visits and notes.

use super::{
    AddressView, AliasView, CaseFilter, CaseView, Named, PersonView, ReferralFilter, ReferralView, RelationshipView,
    cases, opt_date, opt_ts, person, referrals, ts,
};
use crate::load::code;
use crate::{Store, StoreError};
use domain::case::Stage;
use domain::ids::*;
use domain::person::RelationshipKind;
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

/// A stage in a case's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageView {
    /// The case.
    pub case: CaseId,
    /// Stage.
    pub stage: Stage,
    /// From.
    pub started_at: Timestamp,
    /// Until (none: current).
    pub ended_at: Option<Timestamp>,
    /// Plan category, when a plan.
    pub category: Option<String>,
}

/// One allocation in a case's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    /// The case.
    pub case: CaseId,
    /// The worker.
    pub worker: Named<StaffId>,
    /// From.
    pub from_at: Timestamp,
    /// Until (none: current).
    pub to_at: Option<Timestamp>,
    /// Who allocated.
    pub allocated_by: Named<StaffId>,
    /// The reason given for going over the worker's cap.
    pub override_reason: Option<String>,
}

/// A visit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    /// The visit.
    pub id: VisitId,
    /// The case.
    pub case: CaseId,
    /// When it happened.
    pub visited_at: Timestamp,
    /// Who visited.
    pub by: Named<StaffId>,
    /// Outcome.
    pub outcome: VisitOutcome,
    /// Note.
    pub note: Option<String>,
}

/// A case note.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    /// The note.
    pub id: NoteId,
    /// The case.
    pub case: CaseId,
    /// When.
    pub written_at: Timestamp,
    /// Who.
    pub author: Named<StaffId>,
    /// Text.
    pub body: String,
}

/// Everything on a child's record, each list in date order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChildRecord {
    /// The child's details.
    pub person: PersonView,
    /// Other names.
    pub aliases: Vec<AliasView>,
    /// Addresses, latest first.
    pub addresses: Vec<AddressView>,
    /// Relationships.
    pub relationships: Vec<RelationshipView>,
    /// Referrals about the child, oldest first.
    pub referrals: Vec<ReferralView>,
    /// Cases (episodes), oldest first.
    pub cases: Vec<CaseView>,
    /// Stage history across cases, oldest first.
    pub stages: Vec<StageView>,
    /// Allocation history, oldest first.
    pub allocations: Vec<AllocationView>,
    /// Visits, oldest first.
    pub visits: Vec<VisitView>,
    /// Case notes, oldest first.
    pub notes: Vec<NoteView>,
}

/// A person's whole record, or `None` when there is no such person.
pub async fn child_record(store: &Store, id: PersonId) -> Result<Option<ChildRecord>, StoreError> {
    let Some(person) = person(store, id).await? else { return Ok(None) };
    let pool = store.pool();
    let aliases =
        sqlx::query("SELECT given_name, family_name FROM person_aliases WHERE person_id = $1 ORDER BY created_at")
            .bind(id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok(AliasView { given_name: r.try_get("given_name")?, family_name: r.try_get("family_name")? }))
            .collect::<Result<Vec<_>, StoreError>>()?;
    let addresses = sqlx::query(
        "SELECT id, line, town, postcode, from_date, to_date FROM person_addresses WHERE person_id = $1
          ORDER BY CASE WHEN to_date IS NULL THEN 0 ELSE 1 END, from_date DESC, id DESC",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(AddressView {
            id: AddressId(r.try_get("id")?),
            line: r.try_get("line")?,
            town: r.try_get("town")?,
            postcode: r.try_get("postcode")?,
            from: opt_date("person_addresses", r, "from_date")?,
            to: opt_date("person_addresses", r, "to_date")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let relationships = sqlx::query(
        "SELECT r.id, r.kind, r.person_id, r.related_person_id, p.id AS other_id, p.given_name, p.family_name
           FROM relationships r JOIN people p ON p.id = CASE WHEN r.person_id = $1 THEN r.related_person_id ELSE r.person_id END
          WHERE r.person_id = $1 OR r.related_person_id = $1 ORDER BY r.id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(RelationshipView {
            id: RelationshipId(r.try_get("id")?),
            other: Named {
                id: PersonId(r.try_get("other_id")?),
                name: format!("{} {}", r.try_get::<String, _>("given_name")?, r.try_get::<String, _>("family_name")?),
            },
            kind: code("relationships", &r.try_get::<String, _>("kind")?, RelationshipKind::parse)?,
            other_is_subject: r.try_get::<i64, _>("related_person_id")? == id.0,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let mut referrals =
        referrals(store, &ReferralFilter { child: Some(id), limit: 10_000, ..Default::default() }).await?;
    referrals.reverse();
    let cases_list = cases(store, &CaseFilter { child: Some(id), limit: 10_000, ..Default::default() }).await?;
    let mut cases_list = cases_list;
    cases_list.sort_by_key(|c| (c.opened_at, c.id));
    let stages = sqlx::query(
        "SELECT s.case_id, s.stage, s.started_at, s.ended_at, s.category FROM case_stages s JOIN cases c ON c.id = s.case_id
          WHERE c.person_id = $1 ORDER BY s.started_at, s.case_id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(StageView {
            case: CaseId(r.try_get("case_id")?),
            stage: code("case_stages", &r.try_get::<String, _>("stage")?, Stage::parse)?,
            started_at: ts(r, "started_at")?,
            ended_at: opt_ts(r, "ended_at")?,
            category: r.try_get("category")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let allocations = sqlx::query(
        "SELECT a.case_id, a.worker_id, w.name AS worker_name, a.from_at, a.to_at, a.allocated_by, b.name AS by_name, a.override_reason
           FROM allocations a JOIN cases c ON c.id = a.case_id JOIN staff w ON w.id = a.worker_id JOIN staff b ON b.id = a.allocated_by
          WHERE c.person_id = $1 ORDER BY a.from_at",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(AllocationView {
            case: CaseId(r.try_get("case_id")?),
            worker: Named { id: StaffId(r.try_get("worker_id")?), name: r.try_get("worker_name")? },
            from_at: ts(r, "from_at")?,
            to_at: opt_ts(r, "to_at")?,
            allocated_by: Named { id: StaffId(r.try_get("allocated_by")?), name: r.try_get("by_name")? },
            override_reason: r.try_get("override_reason")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let visits = visits_for(store, id).await?;
    let notes = sqlx::query(
        "SELECT n.id, n.case_id, n.written_at, n.author_id, s.name AS author_name, n.body
           FROM case_notes n JOIN staff s ON s.id = n.author_id WHERE n.person_id = $1 ORDER BY n.written_at, n.id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(NoteView {
            id: NoteId(r.try_get("id")?),
            case: CaseId(r.try_get("case_id")?),
            written_at: ts(r, "written_at")?,
            author: Named { id: StaffId(r.try_get("author_id")?), name: r.try_get("author_name")? },
            body: r.try_get("body")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(ChildRecord {
        person,
        aliases,
        addresses,
        relationships,
        referrals,
        cases: cases_list,
        stages,
        allocations,
        visits,
        notes,
    }))
}

/// A child's visits, oldest first.
pub async fn visits_for(store: &Store, child: PersonId) -> Result<Vec<VisitView>, StoreError> {
    sqlx::query(
        "SELECT v.id, v.case_id, v.visited_at, v.by_staff_id, s.name AS by_name, v.outcome, v.note
           FROM visits v JOIN staff s ON s.id = v.by_staff_id WHERE v.person_id = $1 ORDER BY v.visited_at, v.id",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(VisitView {
            id: VisitId(r.try_get("id")?),
            case: CaseId(r.try_get("case_id")?),
            visited_at: ts(r, "visited_at")?,
            by: Named { id: StaffId(r.try_get("by_staff_id")?), name: r.try_get("by_name")? },
            outcome: code("visits", &r.try_get::<String, _>("outcome")?, VisitOutcome::parse)?,
            note: r.try_get("note")?,
        })
    })
    .collect()
}
