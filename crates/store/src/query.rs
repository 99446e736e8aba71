//! Read models: what pages and the API show. Reads never change anything.

use crate::load::code;
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};
use domain::case::Stage;
use domain::ids::*;
use domain::person::{DateOfBirth, PersonKind, RelationshipKind, Sex};
use domain::referral::{Category, Decision, ReferralSource};
use domain::staff::{Agency, Role};
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

fn ts(row: &AnyRow, col: &str) -> Result<Timestamp, StoreError> {
    Ok(from_micros(row.try_get(col)?))
}

fn opt_ts(row: &AnyRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(from_micros))
}

fn opt_date(table: &'static str, row: &AnyRow, col: &str) -> Result<Option<Date>, StoreError> {
    match row.try_get::<Option<String>, _>(col)? {
        Some(s) => Ok(Some(s.parse().map_err(|_| StoreError::Corrupt { table, detail: format!("{col} {s:?}") })?)),
        None => Ok(None),
    }
}

/// A person named on a page: id and name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named<I> {
    /// Their id.
    pub id: I,
    /// Their name.
    pub name: String,
}

fn named_staff(row: &AnyRow, id_col: &str, name_col: &str) -> Result<Option<Named<StaffId>>, StoreError> {
    Ok(match (row.try_get::<Option<i64>, _>(id_col)?, row.try_get::<Option<String>, _>(name_col)?) {
        (Some(id), Some(name)) => Some(Named { id: StaffId(id), name }),
        _ => None,
    })
}

// ---------------------------------------------------------------- teams and staff

/// A team and its management line.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// A case-holding worker with their load, for allocation.
#[derive(Debug, Clone, Serialize)]
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

/// A person's identifying details as person matching reads them (latest address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchingRow {
    /// Who.
    pub id: PersonId,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// ISO date of birth, if recorded.
    pub dob: Option<String>,
    /// `male`, `female` or `unknown`.
    pub sex: String,
    /// NHS number, if recorded.
    pub nhs_number: Option<String>,
    /// Their latest address: line, town, postcode.
    pub address: Option<(String, Option<String>, Option<String>)>,
    /// Other names they are known by: given, family.
    pub aliases: Vec<(String, String)>,
}

/// How far person matching has read: the highest person and address ids seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchingMark {
    /// Highest person id read.
    pub people: i64,
    /// Highest address id read.
    pub addresses: i64,
    /// When the latest other name read was recorded (microseconds).
    pub aliases: i64,
}

impl MatchingMark {
    /// The further of two marks, field by field.
    pub fn furthest(self, other: MatchingMark) -> MatchingMark {
        MatchingMark {
            people: self.people.max(other.people),
            addresses: self.addresses.max(other.addresses),
            aliases: self.aliases.max(other.aliases),
        }
    }
}

/// People recorded, or given a new address or another name, since `after` (everyone
/// from the default mark), and the mark to read from next time. People never change
/// otherwise.
pub async fn people_for_matching(
    store: &Store,
    after: MatchingMark,
) -> Result<(Vec<MatchingRow>, MatchingMark), StoreError> {
    // The mark is read first: anything written meanwhile is read again next time, which
    // is harmless (the caller replaces a person's record).
    let row = sqlx::query(
        "SELECT (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM people) AS people,
                (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM person_addresses) AS addresses,
                (SELECT CAST(COALESCE(MAX(created_at), 0) AS BIGINT) FROM person_aliases) AS aliases",
    )
    .fetch_one(store.pool())
    .await?;
    let mark = MatchingMark {
        people: row.try_get("people")?,
        addresses: row.try_get("addresses")?,
        aliases: row.try_get("aliases")?,
    };
    if mark == after {
        return Ok((vec![], mark));
    }
    // Aliases recorded at the mark's own moment are read again (two in one microsecond).
    const CHANGED: &str = "p.id > $1 OR p.id IN (SELECT person_id FROM person_addresses WHERE id > $2)
                           OR p.id IN (SELECT person_id FROM person_aliases WHERE created_at >= $3)";
    let changed = |select: &str| {
        sqlx::query(sqlx::AssertSqlSafe(format!("{select} WHERE {CHANGED}")))
            .bind(after.people)
            .bind(after.addresses)
            .bind(after.aliases)
            .fetch_all(store.pool())
    };
    let rows = changed(
        "SELECT p.id, p.given_name, p.family_name, p.dob, p.sex, p.nhs_number, a.line, a.town, a.postcode
           FROM people p
           LEFT JOIN person_addresses a ON a.id = (SELECT MAX(x.id) FROM person_addresses x WHERE x.person_id = p.id)",
    )
    .await?;
    let alias_rows = changed(
        "SELECT x.person_id, x.given_name, x.family_name FROM person_aliases x JOIN people p ON p.id = x.person_id",
    )
    .await?;
    let mut aliases: std::collections::HashMap<i64, Vec<(String, String)>> = Default::default();
    for r in &alias_rows {
        aliases.entry(r.try_get("person_id")?).or_default().push((r.try_get("given_name")?, r.try_get("family_name")?));
    }
    let people = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok(MatchingRow {
                id: PersonId(id),
                aliases: aliases.remove(&id).unwrap_or_default(),
                given_name: r.try_get("given_name")?,
                family_name: r.try_get("family_name")?,
                dob: r.try_get("dob")?,
                sex: r.try_get("sex")?,
                nhs_number: r.try_get("nhs_number")?,
                address: r
                    .try_get::<Option<String>, _>("line")?
                    .map(|line| Ok::<_, StoreError>((line, r.try_get("town")?, r.try_get("postcode")?)))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((people, mark))
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

// ---------------------------------------------------------------- people

/// A person's identifying details.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    /// Who.
    pub id: PersonId,
    /// Child or adult.
    pub kind: PersonKind,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub dob: DateOfBirth,
    /// Sex.
    pub sex: Sex,
    /// NHS number.
    pub nhs_number: Option<String>,
    /// UPN.
    pub upn: Option<String>,
    /// Set when this record was found to be a duplicate and merged into another.
    pub merged_into: Option<PersonId>,
}

impl PersonView {
    /// "Given Family".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

const PERSON_SELECT: &str =
    "SELECT id, kind, given_name, family_name, dob, dob_precision, sex, nhs_number, upn, merged_into FROM people";

fn person_from_row(r: &AnyRow) -> Result<PersonView, StoreError> {
    Ok(PersonView {
        id: PersonId(r.try_get("id")?),
        kind: code("people", &r.try_get::<String, _>("kind")?, PersonKind::parse)?,
        given_name: r.try_get("given_name")?,
        family_name: r.try_get("family_name")?,
        dob: DateOfBirth::from_parts(opt_date("people", r, "dob")?, &r.try_get::<String, _>("dob_precision")?),
        sex: code("people", &r.try_get::<String, _>("sex")?, Sex::parse)?,
        nhs_number: r.try_get("nhs_number")?,
        upn: r.try_get("upn")?,
        merged_into: r.try_get::<Option<i64>, _>("merged_into")?.map(PersonId),
    })
}

/// One person.
pub async fn person(store: &Store, id: PersonId) -> Result<Option<PersonView>, StoreError> {
    let sql = format!("{PERSON_SELECT} WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(person_from_row)
        .transpose()
}

/// People whose name (or alias) starts with the words given, or whose NHS number matches.
pub async fn search_people(store: &Store, text: &str, limit: i64) -> Result<Vec<PersonView>, StoreError> {
    let words: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let (first, last) = match words.as_slice() {
        [] => return Ok(vec![]),
        [one] => (one.clone(), one.clone()),
        [a, .., b] => (a.clone(), b.clone()),
    };
    let single = words.len() == 1;
    let sql = format!(
        "{PERSON_SELECT} WHERE id IN (
            SELECT id FROM people WHERE
                ($1 AND (LOWER(given_name) LIKE $2 OR LOWER(family_name) LIKE $2))
             OR (NOT $1 AND LOWER(given_name) LIKE $2 AND LOWER(family_name) LIKE $3)
             OR ($4 <> '' AND nhs_number = $4)
            UNION
            SELECT person_id FROM person_aliases WHERE
                ($1 AND (LOWER(given_name) LIKE $2 OR LOWER(family_name) LIKE $2))
             OR (NOT $1 AND LOWER(given_name) LIKE $2 AND LOWER(family_name) LIKE $3)
        ) ORDER BY family_name, given_name, id LIMIT $5"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(single)
        .bind(format!("{}%", escape_like(&first)))
        .bind(format!("{}%", escape_like(&last)))
        .bind(if digits.len() == 10 { digits } else { String::new() })
        .bind(limit)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(person_from_row)
        .collect()
}

fn escape_like(s: &str) -> String {
    s.replace(['%', '_'], "")
}

/// Another name a person is known by.
#[derive(Debug, Clone, Serialize)]
pub struct AliasView {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
}

/// An address held for a person.
#[derive(Debug, Clone, Serialize)]
pub struct AddressView {
    /// The record.
    pub id: AddressId,
    /// House and street.
    pub line: String,
    /// Town.
    pub town: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// From.
    pub from: Option<Date>,
    /// To (none: current).
    pub to: Option<Date>,
}

/// A relationship seen from one person's record.
#[derive(Debug, Clone, Serialize)]
pub struct RelationshipView {
    /// The record.
    pub id: RelationshipId,
    /// The other person.
    pub other: Named<PersonId>,
    /// How they are related.
    pub kind: RelationshipKind,
    /// True when the other person is "A" (e.g. the other is the parent of this person).
    pub other_is_subject: bool,
}

// ---------------------------------------------------------------- referrals

/// A referral with its decision.
#[derive(Debug, Clone, Serialize)]
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

// ---------------------------------------------------------------- cases

/// A case with its child, worker and when the child was last seen.
#[derive(Debug, Clone, Serialize)]
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

/// A stage in a case's history.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

// ---------------------------------------------------------------- the trail

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntryView {
    /// Position.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub subject: String,
    /// The canonical entry bytes (JSON text).
    pub entry: String,
    /// Previous chain hash.
    pub prev_hash: String,
    /// Chain hash.
    pub hash: String,
}

/// The number of entries and the latest chain hash.
pub async fn audit_head(store: &Store) -> Result<(i64, String), StoreError> {
    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(store.pool()).await?;
    Ok((r.try_get("seq")?, r.try_get("hash")?))
}

/// Entries from `from_seq` on, at most `limit`.
pub async fn audit_entries(store: &Store, from_seq: i64, limit: i64) -> Result<Vec<AuditEntryView>, StoreError> {
    sqlx::query(
        "SELECT seq, at, actor, action, subject, entry, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
    )
    .bind(from_seq)
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(AuditEntryView {
            seq: r.try_get("seq")?,
            at: ts(r, "at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            subject: r.try_get("subject")?,
            entry: r.try_get("entry")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    })
    .collect()
}

// ---------------------------------------------------------------- timers and escalations

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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// A notification in someone's inbox.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

// ---------------------------------------------------------------- decisions, concerns and absences

/// A decision on whether the threshold (for a s47 enquiry or for proceedings) was met.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// Whether someone is marked away, and until when.
#[derive(Debug, Clone, Serialize)]
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

/// The figures an operator watches (Prometheus `/metrics`): work waiting and work stuck.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationalFigures {
    /// Timers due now and not yet fired (the sweeper's backlog).
    pub timers_due: i64,
    /// When the oldest of them fell due.
    pub oldest_due_at: Option<Timestamp>,
    /// Timers set aside after failing on their own.
    pub timers_failed: i64,
    /// Open (unresolved) escalations per level, levels 1 to 4.
    pub escalations_open_by_level: [i64; 4],
    /// Entries on the audit log.
    pub audit_entries: i64,
    /// Deliveries (email, webhook) not yet sent, per channel: the outbox's depth.
    pub outbox_pending: Vec<(String, i64)>,
    /// When the oldest undelivered item was queued.
    pub outbox_oldest_at: Option<Timestamp>,
    /// Deliveries that failed for good, per channel.
    pub deliveries_failed: Vec<(String, i64)>,
    /// Deliveries sent, per channel.
    pub deliveries_sent: Vec<(String, i64)>,
}

/// Reads the [`OperationalFigures`] as of `now`: a handful of indexed counts.
pub async fn operational_figures(store: &Store, now: Timestamp) -> Result<OperationalFigures, StoreError> {
    let pool = store.pool();
    let due = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, MIN(due_at) AS oldest FROM timers WHERE state = 'scheduled' AND due_at <= $1",
    )
    .bind(to_micros(now))
    .fetch_one(pool)
    .await?;
    let count = |sql: &'static str| async move {
        let row = sqlx::query(sql).fetch_one(pool).await?;
        Ok::<i64, StoreError>(row.try_get::<i64, _>("n")?)
    };
    let by_level = escalations_open_by_level(store, None).await?;
    let mut by_state: std::collections::BTreeMap<&str, Vec<(String, i64)>> = Default::default();
    let rows = sqlx::query(
        "SELECT state, channel, CAST(COUNT(*) AS BIGINT) AS n FROM deliveries GROUP BY state, channel ORDER BY channel",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let state: String = r.try_get("state")?;
        let key = match state.as_str() {
            "pending" => "pending",
            "sent" => "sent",
            _ => "failed",
        };
        by_state.entry(key).or_default().push((r.try_get("channel")?, r.try_get("n")?));
    }
    let oldest = sqlx::query("SELECT MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending'")
        .fetch_one(pool)
        .await?
        .try_get::<Option<i64>, _>("oldest")?
        .map(from_micros);
    let with_channels = |v: Option<Vec<(String, i64)>>| {
        let v = v.unwrap_or_default();
        ["email", "webhook"]
            .iter()
            .map(|c| (c.to_string(), v.iter().find(|(ch, _)| ch == c).map(|(_, n)| *n).unwrap_or(0)))
            .collect::<Vec<_>>()
    };
    Ok(OperationalFigures {
        outbox_pending: with_channels(by_state.remove("pending")),
        outbox_oldest_at: oldest,
        deliveries_failed: with_channels(by_state.remove("failed")),
        deliveries_sent: with_channels(by_state.remove("sent")),
        timers_due: due.try_get("n")?,
        oldest_due_at: due.try_get::<Option<i64>, _>("oldest")?.map(from_micros),
        timers_failed: count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM timers WHERE state = 'failed'").await?,
        escalations_open_by_level: by_level,
        audit_entries: count("SELECT seq AS n FROM audit_head WHERE id = 1").await?,
    })
}

// ---------------------------------------------------------------- caseloads

/// How cases came and went over a window, for a team or the whole service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
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
