//! Timers and escalations: when the next timer falls due, escalations and their history,
//! and the flags and deadlines on a child.

use super::{Named, named_staff, opt_ts, ts};
use crate::load::code;
use crate::time::from_micros;
use crate::{Store, StoreError};
use domain::ids::*;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// The earliest moment a scheduled timer falls due, if any.
pub async fn next_timer_due(store: &Store) -> Result<Option<Timestamp>, StoreError> {
    let row = sqlx::query("SELECT due_at FROM timers WHERE state = 'scheduled' ORDER BY due_at LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get::<i64, _>("due_at")).transpose()?.map(from_micros))
}

/// The latest escalation for a trigger and subject (open or not).
pub async fn latest_escalation(store: &Store, trigger: &str, subject: &str) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT id FROM escalations WHERE trigger = $1 AND subject = $2 ORDER BY id DESC LIMIT 1")
        .bind(trigger.to_string())
        .bind(subject.to_string())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get::<i64, _>("id")).transpose()?)
}

/// How many escalations are not yet resolved.
pub async fn open_escalation_count(store: &Store) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM escalations WHERE state <> 'resolved'")
        .fetch_one(store.pool())
        .await?;
    Ok(row.try_get("n")?)
}

/// An escalation as people see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscalationView {
    /// Its id.
    pub id: domain::escalation::EscalationId,
    /// What raised it.
    pub trigger: domain::escalation::Trigger,
    /// What it is about.
    pub subject: domain::escalation::Subject,
    /// The subject in words (the child's or worker's name, or the referral's reference).
    pub subject_label: String,
    /// The child it concerns, when there is one (for links to the record).
    pub child: Option<PersonId>,
    /// The team whose line it climbs.
    pub team: Option<Named<TeamId>>,
    /// Its level.
    pub level: i64,
    /// Who holds it.
    pub assignee: Named<StaffId>,
    /// open, acknowledged or resolved.
    pub state: domain::escalation::EscalationState,
    /// Why it was raised, in words.
    pub detail: String,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// When it reached its level.
    pub level_reached_at: Timestamp,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// How it was resolved.
    pub resolution: Option<String>,
    /// The action recorded when resolved by hand.
    pub action: Option<String>,
    /// Whether the police were asked to check on the child.
    pub welfare_check_requested: bool,
}

/// One line of an escalation's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscalationHistoryView {
    /// When.
    pub at: Timestamp,
    /// raised, climbed, reminded, repeated, acknowledged, resolved, welfare_check_requested.
    pub what: String,
    /// Level reached (raised, climbed, reminded).
    pub level: Option<i64>,
    /// Who held it then.
    pub assignee: Option<Named<StaffId>>,
    /// Why (climb reason, routing, resolution).
    pub reason: Option<String>,
    /// The person it was routed away from.
    pub routed_from: Option<Named<StaffId>>,
    /// Who acted.
    pub by: Option<Named<StaffId>>,
    /// Their note or action.
    pub note: Option<String>,
}

const ESCALATION_SELECT: &str = "SELECT e.id, e.trigger, e.subject, e.team_id, t.name AS team_name, e.level, e.assignee_id,
        a.name AS assignee_name, e.state, e.detail, e.raised_at, e.level_reached_at, e.resolved_at, e.resolution, e.action,
        e.welfare_check_requested,
        p.given_name, p.family_name, w.name AS worker_name
   FROM escalations e
   JOIN staff a ON a.id = e.assignee_id
   LEFT JOIN teams t ON t.id = e.team_id
   LEFT JOIN people p ON p.id = CASE WHEN e.subject LIKE 'person:%' THEN CAST(SUBSTR(e.subject, 8) AS BIGINT) END
   LEFT JOIN staff w ON w.id = CASE WHEN e.subject LIKE 'staff:%' THEN CAST(SUBSTR(e.subject, 7) AS BIGINT) END";

fn escalation_from_row(r: &AnyRow) -> Result<EscalationView, StoreError> {
    use domain::escalation::{EscalationId, EscalationState, Subject, Trigger};
    let subject_key: String = r.try_get("subject")?;
    let subject = Subject::parse_key(&subject_key)
        .ok_or(StoreError::Corrupt { table: "escalations", detail: subject_key.clone() })?;
    let subject_label = match subject {
        Subject::Child(_) => format!(
            "{} {}",
            r.try_get::<Option<String>, _>("given_name")?.unwrap_or_default(),
            r.try_get::<Option<String>, _>("family_name")?.unwrap_or_default()
        ),
        Subject::Referral(id) => id.reference(),
        Subject::Worker(_) => r.try_get::<Option<String>, _>("worker_name")?.unwrap_or_default(),
        Subject::Disagreement(d) => format!("Disagreement {d}"),
    };
    Ok(EscalationView {
        id: EscalationId(r.try_get("id")?),
        trigger: code("escalations", &r.try_get::<String, _>("trigger")?, Trigger::parse)?,
        child: match subject {
            Subject::Child(p) => Some(p),
            _ => None,
        },
        subject,
        subject_label,
        team: match (r.try_get::<Option<i64>, _>("team_id")?, r.try_get::<Option<String>, _>("team_name")?) {
            (Some(id), Some(name)) => Some(Named { id: TeamId(id), name }),
            _ => None,
        },
        level: r.try_get("level")?,
        assignee: Named { id: StaffId(r.try_get("assignee_id")?), name: r.try_get("assignee_name")? },
        state: code("escalations", &r.try_get::<String, _>("state")?, EscalationState::parse)?,
        detail: r.try_get("detail")?,
        raised_at: ts(r, "raised_at")?,
        level_reached_at: ts(r, "level_reached_at")?,
        resolved_at: opt_ts(r, "resolved_at")?,
        resolution: r.try_get("resolution")?,
        action: r.try_get("action")?,
        welfare_check_requested: r.try_get::<i64, _>("welfare_check_requested")? != 0,
    })
}

/// Which escalations to list.
#[derive(Debug, Clone, Default)]
pub struct EscalationFilter {
    /// Only those held by this person.
    pub assignee: Option<StaffId>,
    /// Only those about this subject (`person:3`, `referral:2`, `staff:5`).
    pub subject: Option<String>,
    /// Only those about a referral about this child, or the child themselves.
    pub child: Option<PersonId>,
    /// Only those in this team's line.
    pub team: Option<TeamId>,
    /// Include resolved ones.
    pub include_resolved: bool,
    /// At most this many.
    pub limit: i64,
}

/// Escalations matching a filter: unresolved first, highest level first, then oldest.
pub async fn escalations(store: &Store, f: &EscalationFilter) -> Result<Vec<EscalationView>, StoreError> {
    let sql = format!(
        "{ESCALATION_SELECT}
          WHERE ($1 IS NULL OR e.assignee_id = $1)
            AND ($2 IS NULL OR e.subject = $2)
            AND ($3 IS NULL OR e.subject = 'person:' || CAST($3 AS TEXT)
                 OR e.subject IN (SELECT 'referral:' || CAST(rc.referral_id AS TEXT) FROM referral_children rc WHERE rc.person_id = $3))
            AND ($4 IS NULL OR e.team_id = $4)
            AND ($5 = 1 OR e.state <> 'resolved')
          ORDER BY CASE WHEN e.state = 'resolved' THEN 1 ELSE 0 END, e.level DESC, e.raised_at, e.id
          LIMIT $6"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.assignee.map(|s| s.0))
        .bind(f.subject.clone())
        .bind(f.child.map(|c| c.0))
        .bind(f.team.map(|t| t.0))
        .bind(i64::from(f.include_resolved))
        .bind(if f.limit > 0 { f.limit } else { 200 })
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(escalation_from_row)
        .collect()
}

/// One escalation and its history, oldest first.
pub async fn escalation(
    store: &Store,
    id: domain::escalation::EscalationId,
) -> Result<Option<(EscalationView, Vec<EscalationHistoryView>)>, StoreError> {
    let sql = format!("{ESCALATION_SELECT} WHERE e.id = $1");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(store.pool()).await? else {
        return Ok(None);
    };
    let view = escalation_from_row(&row)?;
    let history = sqlx::query(
        "SELECT h.at, h.what, h.level, h.assignee_id, a.name AS assignee_name, h.reason, h.routed_from, rf.name AS routed_from_name,
                h.by_staff_id, b.name AS by_name, h.note
           FROM escalation_history h
           LEFT JOIN staff a ON a.id = h.assignee_id
           LEFT JOIN staff rf ON rf.id = h.routed_from
           LEFT JOIN staff b ON b.id = h.by_staff_id
          WHERE h.escalation_id = $1 ORDER BY h.at, h.what",
    )
    .bind(id.0)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(EscalationHistoryView {
            at: ts(r, "at")?,
            what: r.try_get("what")?,
            level: r.try_get("level")?,
            assignee: named_staff(r, "assignee_id", "assignee_name")?,
            reason: r.try_get("reason")?,
            routed_from: named_staff(r, "routed_from", "routed_from_name")?,
            by: named_staff(r, "by_staff_id", "by_name")?,
            note: r.try_get("note")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some((view, history)))
}

/// A flag raised on a child's record.
#[derive(Debug, Clone, Serialize)]
pub struct FlagView {
    /// Which flag.
    pub flag: domain::flags::Flag,
    /// When it was raised.
    pub raised_at: Timestamp,
    /// The events that raised it.
    pub evidence: Vec<String>,
}

/// The flags raised on a child now.
pub async fn flags(store: &Store, child: PersonId) -> Result<Vec<FlagView>, StoreError> {
    sqlx::query("SELECT flag, raised_at, evidence FROM flags WHERE person_id = $1 AND cleared_at IS NULL ORDER BY raised_at, flag")
        .bind(child.0)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(FlagView {
                flag: code("flags", &r.try_get::<String, _>("flag")?, domain::flags::Flag::parse)?,
                raised_at: ts(r, "raised_at")?,
                evidence: serde_json::from_str(&r.try_get::<String, _>("evidence")?).unwrap_or_default(),
            })
        })
        .collect()
}

/// A deadline still to be met.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueView {
    /// What is due.
    pub kind: domain::timer::TimerKind,
    /// The child it concerns, if any.
    pub child: Option<Named<PersonId>>,
    /// The referral it concerns, if any.
    pub referral: Option<ReferralId>,
    /// When it is (or was) due.
    pub due_at: Timestamp,
    /// Whether the time has passed.
    pub overdue: bool,
}

/// Deadlines still to be met for the given children (and referrals about them), earliest first.
pub async fn due(store: &Store, children: &[PersonId], referrals: &[ReferralId]) -> Result<Vec<DueView>, StoreError> {
    if children.is_empty() && referrals.is_empty() {
        return Ok(vec![]);
    }
    let subjects: Vec<String> =
        children.iter().map(|c| c.subject()).chain(referrals.iter().map(|r| r.subject())).collect();
    let kinds = [
        "referral_decision_due",
        "visit_due",
        "assessment_due",
        "icpc_due",
        "review_conference_due",
        "case_unallocated_due",
        "threshold_review_due",
    ];
    let mut out = vec![];
    // In chunks: the placeholder list stays short whatever the caseload. (`<> 'done'`
    // names the predicate of the index of outstanding timers, so the planner uses it.)
    for chunk in subjects.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "SELECT t.kind, t.subject, t.due_at, t.state, p.id AS person_id, p.given_name, p.family_name
               FROM timers t LEFT JOIN people p ON p.id = CASE WHEN t.subject LIKE 'person:%' THEN CAST(SUBSTR(t.subject, 8) AS BIGINT) END
              WHERE t.state IN ('scheduled', 'fired') AND t.state <> 'done' AND t.kind IN ({}) AND t.subject IN ({})
              ORDER BY t.due_at",
            kinds.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", "),
            placeholders.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q.bind(s.clone());
        }
        for r in q.fetch_all(store.pool()).await? {
            let subject: String = r.try_get("subject")?;
            out.push(DueView {
                kind: code("timers", &r.try_get::<String, _>("kind")?, domain::timer::TimerKind::parse)?,
                child: match r.try_get::<Option<i64>, _>("person_id")? {
                    Some(id) => Some(Named {
                        id: PersonId(id),
                        name: format!(
                            "{} {}",
                            r.try_get::<Option<String>, _>("given_name")?.unwrap_or_default(),
                            r.try_get::<Option<String>, _>("family_name")?.unwrap_or_default()
                        ),
                    }),
                    None => None,
                },
                referral: subject.strip_prefix("referral:").and_then(|s| s.parse().ok()).map(ReferralId),
                due_at: ts(&r, "due_at")?,
                overdue: r.try_get::<String, _>("state")? == "fired",
            });
        }
    }
    out.sort_by_key(|d| d.due_at);
    Ok(out)
}
