//! Caseloads: each worker's weighted load (brothers and sisters grouped), how cases
//! come and go, and the facts statutory timeliness is worked out from.

use crate::load::code;
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};
use domain::ids::*;
use domain::staff::Role;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

/// A case-holding worker with their load, for allocation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerLoad {
    /// Who.
    pub id: StaffId,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Their team.
    pub team: Option<TeamId>,
    /// Full-time equivalence.
    pub fte: f64,
    /// Children allocated now.
    pub open_cases: i64,
    /// Their weighted caseload (the policy's weight for each child's stage, summed).
    pub load: f64,
    /// When they qualified, if recorded (their first year has a smaller cap).
    pub qualified_on: Option<jiff::civil::Date>,
}

/// The case-holding workers of a team with their current loads, lightest first.
pub async fn team_workers(
    store: &Store,
    team: TeamId,
    weights: &domain::caseload::Weights,
) -> Result<Vec<WorkerLoad>, StoreError> {
    caseloads(store, Some(team), weights).await
}

/// The case-holding workers of a team (or of every team) with their current loads,
/// lightest first: two queries whatever the number of workers.
pub async fn caseloads(
    store: &Store,
    team: Option<TeamId>,
    weights: &domain::caseload::Weights,
) -> Result<Vec<WorkerLoad>, StoreError> {
    let filter = if team.is_some() { " AND s.team_id = $1" } else { " AND $1 = $1" };
    let sql = format!(
        "SELECT s.id, s.name, s.role, s.team_id, s.fte, s.qualified_on FROM staff s
          WHERE s.active = 1 AND s.role IN ('social_worker', 'senior_practitioner'){filter}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team.map_or(0, |t| t.0)).fetch_all(store.pool()).await?;
    let sql = format!(
        "SELECT c.worker_id, c.stage, CAST(COUNT(*) AS BIGINT) AS n FROM cases c JOIN staff s ON s.id = c.worker_id
          WHERE c.closed_at IS NULL{filter} GROUP BY c.worker_id, c.stage"
    );
    let counts = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team.map_or(0, |t| t.0)).fetch_all(store.pool()).await?;
    let mut by_stage: std::collections::HashMap<i64, Vec<(domain::case::Stage, i64)>> = Default::default();
    for r in counts {
        let stage = code("cases", &r.try_get::<String, _>("stage")?, domain::case::Stage::parse)?;
        by_stage.entry(r.try_get("worker_id")?).or_default().push((stage, r.try_get("n")?));
    }
    // With brothers and sisters grouped, only the children in a family their worker holds
    // are read one by one; every other child counts by their stage.
    let families = if weights.sibling_extra.is_some() { families_held(store, team).await? } else { Default::default() };
    let held: std::collections::HashMap<i64, (i64, f64)> = by_stage
        .into_iter()
        .map(|(worker, counts)| {
            let family = families.get(&worker);
            let children = family.map_or(&[][..], |f| &f.children[..]);
            let links = family.map_or(&[][..], |f| &f.links[..]);
            let apart: f64 = counts
                .iter()
                .map(|(stage, n)| {
                    let in_family = children.iter().filter(|(_, s)| s == stage).count() as i64;
                    weights.of(*stage) * (n - in_family) as f64
                })
                .sum();
            let open_cases = counts.iter().map(|(_, n)| n).sum();
            (worker, (open_cases, apart + weights.family_load(children, links)))
        })
        .collect();
    let mut out = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let (open_cases, load) = held.get(&id).copied().unwrap_or_default();
            Ok(WorkerLoad {
                id: StaffId(id),
                name: r.try_get("name")?,
                role: code("staff", &r.try_get::<String, _>("role")?, Role::parse)?,
                team: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
                fte: r.try_get("fte")?,
                open_cases,
                load,
                qualified_on: crate::load::qualified_on(r)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| a.load.total_cmp(&b.load).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// A worker's weighted caseload if they also held `adding`: what allocating those
/// children would take them to (less than the sum when brothers and sisters group).
pub async fn load_with(
    store: &Store,
    worker: StaffId,
    weights: &domain::caseload::Weights,
    adding: &[(PersonId, domain::case::Stage)],
) -> Result<f64, StoreError> {
    let mut conn = store.pool().acquire().await?;
    crate::load::load_with(&mut conn, worker, weights, adding).await
}

/// The children one worker holds who have a brother or sister the same worker holds.
#[derive(Default)]
struct HeldFamilies {
    /// Those children, with their stages.
    children: Vec<(i64, domain::case::Stage)>,
    /// The pairs of them who are brothers or sisters, each pair once.
    links: Vec<(i64, i64)>,
}

/// Each worker's [`HeldFamilies`], by worker id.
async fn families_held(
    store: &Store,
    team: Option<TeamId>,
) -> Result<std::collections::HashMap<i64, HeldFamilies>, StoreError> {
    let filter = if team.is_some() { " AND s.team_id = $1" } else { " AND $1 = $1" };
    // A sibling is recorded one way round, so that branch gives each pair once; the
    // parent branch meets every pair both ways round and keeps one.
    let sql = format!(
        "SELECT c1.worker_id, c1.person_id AS a, c1.stage AS a_stage, c2.person_id AS b, c2.stage AS b_stage
           FROM cases c1 JOIN staff s ON s.id = c1.worker_id
           JOIN relationships r ON r.kind = 'sibling' AND r.person_id = c1.person_id
           JOIN cases c2 ON c2.person_id = r.related_person_id AND c2.worker_id = c1.worker_id AND c2.closed_at IS NULL
          WHERE c1.closed_at IS NULL{filter}
         UNION
         SELECT c1.worker_id, c1.person_id AS a, c1.stage AS a_stage, c2.person_id AS b, c2.stage AS b_stage
           FROM cases c1 JOIN staff s ON s.id = c1.worker_id
           JOIN relationships p1 ON p1.related_person_id = c1.person_id AND p1.kind IN ('parent', 'step_parent')
           JOIN relationships p2 ON p2.person_id = p1.person_id AND p2.kind IN ('parent', 'step_parent')
                                AND p2.related_person_id > c1.person_id
           JOIN cases c2 ON c2.person_id = p2.related_person_id AND c2.worker_id = c1.worker_id AND c2.closed_at IS NULL
          WHERE c1.closed_at IS NULL{filter}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team.map_or(0, |t| t.0)).fetch_all(store.pool()).await?;
    let mut families: std::collections::HashMap<i64, HeldFamilies> = Default::default();
    for r in &rows {
        let (a, b): (i64, i64) = (r.try_get("a")?, r.try_get("b")?);
        let family = families.entry(r.try_get("worker_id")?).or_default();
        for (child, stage) in [(a, "a_stage"), (b, "b_stage")] {
            if !family.children.iter().any(|(c, _)| *c == child) {
                let stage = code("cases", &r.try_get::<String, _>(stage)?, domain::case::Stage::parse)?;
                family.children.push((child, stage));
            }
        }
        family.links.push((a, b));
    }
    Ok(families)
}

/// How cases came and went over a window, for a team or the whole service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseFlow {
    /// Cases opened in the window.
    pub opened: i64,
    /// Cases closed in the window.
    pub closed: i64,
    /// Mean days open of the cases closed in the window (none closed: the mean age of
    /// the cases open now, which undercounts, and says so on the page).
    pub mean_days_open: f64,
    /// Whether `mean_days_open` came from closed cases.
    pub from_closed: bool,
    /// Cases open now.
    pub open_now: i64,
    /// Of which no worker is allocated.
    pub unallocated: i64,
    /// When the longest-waiting unallocated case opened.
    pub oldest_unallocated_at: Option<Timestamp>,
}

/// Cases opened and closed since `since`, and what is open and unallocated now.
pub async fn case_flow(
    store: &Store,
    team: Option<TeamId>,
    since: Timestamp,
    now: Timestamp,
) -> Result<CaseFlow, StoreError> {
    let filter = if team.is_some() { " AND team_id = $2" } else { " AND $2 = $2" };
    let t = team.map_or(0, |t| t.0);
    let one = |sql: String| async move {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_micros(since)).bind(t).fetch_one(store.pool()).await
    };
    let opened = one(format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM cases WHERE opened_at >= $1{filter}")).await?;
    let closed = one(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, SUM(CAST(closed_at - opened_at AS DOUBLE PRECISION)) AS total
           FROM cases WHERE closed_at IS NOT NULL AND closed_at >= $1{filter}"
    ))
    .await?;
    // Summed as floating point: a service's timestamps in microseconds overflow a 64-bit
    // integer sum after a few thousand cases.
    let open = one(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN worker_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unallocated,
                MIN(CASE WHEN worker_id IS NULL THEN opened_at END) AS oldest,
                SUM(CAST(opened_at AS DOUBLE PRECISION)) AS opened_sum
           FROM cases WHERE closed_at IS NULL AND $1 = $1{filter}"
    ))
    .await?;
    const MICROS_PER_DAY: f64 = 86_400_000_000.0;
    let n_closed: i64 = closed.try_get("n")?;
    let n_open: i64 = open.try_get("n")?;
    let (mean_days_open, from_closed) = if n_closed > 0 {
        (closed.try_get::<Option<f64>, _>("total")?.unwrap_or(0.0) / n_closed as f64 / MICROS_PER_DAY, true)
    } else if n_open > 0 {
        let sum: f64 = open.try_get::<Option<f64>, _>("opened_sum")?.unwrap_or(0.0);
        ((to_micros(now) as f64 - sum / n_open as f64) / MICROS_PER_DAY, false)
    } else {
        (0.0, false)
    };
    Ok(CaseFlow {
        opened: opened.try_get("n")?,
        closed: n_closed,
        mean_days_open: mean_days_open.max(0.0),
        from_closed,
        open_now: n_open,
        unallocated: open.try_get::<Option<i64>, _>("unallocated")?.unwrap_or(0),
        oldest_unallocated_at: open.try_get::<Option<i64>, _>("oldest")?.map(from_micros),
    })
}

/// Open (unresolved) escalations by level, 1 to 4, for a team or the whole service.
pub async fn escalations_open_by_level(store: &Store, team: Option<TeamId>) -> Result<[i64; 4], StoreError> {
    let filter = if team.is_some() { " AND team_id = $1" } else { " AND $1 = $1" };
    let sql = format!(
        "SELECT level, CAST(COUNT(*) AS BIGINT) AS n FROM escalations WHERE state <> 'resolved'{filter} GROUP BY level"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team.map_or(0, |t| t.0)).fetch_all(store.pool()).await?;
    let mut by_level = [0i64; 4];
    for r in rows {
        let level: i64 = r.try_get("level")?;
        if let Some(slot) = usize::try_from(level - 1).ok().and_then(|i| by_level.get_mut(i)) {
            *slot = r.try_get("n")?;
        }
    }
    Ok(by_level)
}

/// What statutory timeliness is worked out from, for a team or the service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeadlineFacts {
    /// Referrals received since the cut-off: when, and when decided.
    pub referrals: Vec<(Timestamp, Option<Timestamp>)>,
    /// Cases opened from referrals received since the cut-off: when the referral arrived,
    /// and when the assessment was completed.
    pub assessments: Vec<(Timestamp, Option<Timestamp>)>,
    /// Spells on plans that ran on or after the cut-off, with every visit that saw the
    /// child during them.
    pub spells: Vec<domain::timeliness::PlanSpell>,
    /// Children on a plan now (child in need, child protection, looked after).
    pub on_plans: i64,
    /// Of which overdue a visit now (their visiting deadline has passed unmet).
    pub visits_overdue: i64,
}

/// The stages that carry a plan (`domain::practice::Plan::of_stage`), as an SQL list.
const PLAN_STAGES: &str = "('cin', 'cp', 'lac')";

/// The facts behind timeliness: referrals and assessments started since `since` and
/// spells on plans running since then with their visits (the caller works out each
/// deadline in working time), and visits as they stand now.
pub async fn deadline_facts(
    store: &Store,
    team: Option<TeamId>,
    since: Timestamp,
) -> Result<DeadlineFacts, StoreError> {
    let t = team.map_or(0, |t| t.0);
    let pairs = |sql: String| async move {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_micros(since)).bind(t).fetch_all(store.pool()).await?;
        rows.iter()
            .map(|r| Ok((from_micros(r.try_get("started")?), r.try_get::<Option<i64>, _>("met")?.map(from_micros))))
            .collect::<Result<Vec<_>, StoreError>>()
    };
    let rf = if team.is_some() { " AND team_id = $2" } else { " AND $2 = $2" };
    let referrals =
        pairs(format!("SELECT received_at AS started, decided_at AS met FROM referrals WHERE received_at >= $1{rf}"))
            .await?;
    let cf = if team.is_some() { " AND c.team_id = $2" } else { " AND $2 = $2" };
    let assessments = pairs(format!(
        "SELECT r.received_at AS started, c.assessment_completed_at AS met
           FROM cases c JOIN referrals r ON r.id = c.referral_id WHERE r.received_at >= $1{cf}"
    ))
    .await?;
    // The spells on a plan that reach into the period: read with their visits below.
    let spells_from = format!(
        "FROM case_stages cs JOIN cases c ON c.id = cs.case_id
          WHERE cs.stage IN {PLAN_STAGES} AND (cs.ended_at IS NULL OR cs.ended_at >= $1){cf}"
    );
    let spells_sql = format!(
        "SELECT cs.case_id, cs.stage, cs.started_at, cs.ended_at {spells_from} ORDER BY cs.case_id, cs.started_at"
    );
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(spells_sql)).bind(to_micros(since)).bind(t).fetch_all(store.pool()).await?;
    let mut spells = Vec::with_capacity(rows.len());
    let mut case_of = Vec::with_capacity(rows.len());
    for r in &rows {
        let stage = code("case_stages", &r.try_get::<String, _>("stage")?, domain::case::Stage::parse)?;
        let Some(plan) = domain::practice::Plan::of_stage(stage) else { continue };
        case_of.push(r.try_get::<i64, _>("case_id")?);
        spells.push(domain::timeliness::PlanSpell {
            plan,
            start: from_micros(r.try_get("started_at")?),
            end: r.try_get::<Option<i64>, _>("ended_at")?.map(from_micros),
            seen: vec![],
        });
    }
    // One row per case with its visits listed: a year of visits is hundreds of thousands
    // of rows for a service, far slower to fetch one by one.
    let list = match store.backend() {
        crate::Backend::Sqlite => "group_concat(v.visited_at, ',')",
        crate::Backend::Postgres => "string_agg(CAST(v.visited_at AS TEXT), ',')",
    };
    let visits_sql = format!(
        "SELECT v.case_id, {list} AS seen FROM visits v
          WHERE v.outcome IN ('seen', 'seen_alone') AND v.case_id IN (SELECT cs.case_id {spells_from})
          GROUP BY v.case_id"
    );
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(visits_sql)).bind(to_micros(since)).bind(t).fetch_all(store.pool()).await?;
    let mut seen: std::collections::HashMap<i64, Vec<Timestamp>> = Default::default();
    for r in &rows {
        let listed: String = r.try_get("seen")?;
        let mut times = listed
            .split(',')
            .map(|v| {
                v.parse::<i64>()
                    .map(from_micros)
                    .map_err(|e| StoreError::Corrupt { table: "visits", detail: e.to_string() })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        times.sort_unstable();
        seen.insert(r.try_get("case_id")?, times);
    }
    for (spell, case) in spells.iter_mut().zip(&case_of) {
        spell.seen = seen.get(case).cloned().unwrap_or_default();
    }
    let filter = if team.is_some() { " AND c.team_id = $1" } else { " AND $1 = $1" };
    // `state <> 'done'` lets both engines use the partial index on outstanding timers.
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS on_plans,
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM timers t WHERE t.kind = 'visit_due' AND t.state = 'fired' AND t.state <> 'done'
                                             AND t.subject = 'person:' || CAST(c.person_id AS TEXT)) THEN 1 ELSE 0 END) AS BIGINT) AS overdue
           FROM cases c WHERE c.closed_at IS NULL AND c.stage IN {PLAN_STAGES}{filter}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(t).fetch_one(store.pool()).await?;
    Ok(DeadlineFacts {
        referrals,
        assessments,
        spells,
        on_plans: row.try_get("on_plans")?,
        visits_overdue: row.try_get::<Option<i64>, _>("overdue")?.unwrap_or(0),
    })
}

/// For each worker, how many of a child's brothers and sisters (a sibling relationship,
/// or a parent in common) they hold open cases for.
pub async fn siblings_held(store: &Store, child: PersonId) -> Result<Vec<(StaffId, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.worker_id, CAST(COUNT(*) AS BIGINT) AS n FROM cases c
          WHERE c.closed_at IS NULL AND c.worker_id IS NOT NULL AND c.person_id <> $1 AND c.person_id IN (
                SELECT related_person_id FROM relationships WHERE person_id = $1 AND kind = 'sibling'
                UNION SELECT person_id FROM relationships WHERE related_person_id = $1 AND kind = 'sibling'
                UNION SELECT r2.related_person_id FROM relationships r1 JOIN relationships r2 ON r2.person_id = r1.person_id
                       WHERE r1.related_person_id = $1 AND r1.kind IN ('parent', 'step_parent')
                         AND r2.kind IN ('parent', 'step_parent'))
          GROUP BY c.worker_id",
    )
    .bind(child.0)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| Ok((StaffId(r.try_get("worker_id")?), r.try_get("n")?))).collect()
}

#[cfg(test)]
mod tests {
    use domain::case::Stage;
    use domain::practice::Plan;

    /// The SQL list names exactly the stages the domain gives a plan.
    #[test]
    fn plan_stages_are_the_domains() {
        let listed: Vec<&str> =
            super::PLAN_STAGES.trim_matches(['(', ')']).split(", ").map(|c| c.trim_matches('\'')).collect();
        let planned: Vec<&str> =
            Stage::ALL.iter().filter(|s| Plan::of_stage(**s).is_some()).map(|s| s.code()).collect();
        assert_eq!(listed, planned);
    }
}
