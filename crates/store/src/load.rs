//! Loading the state a command's rules need, inside its transaction.

use crate::time::{from_micros, to_micros};
use crate::{Reads, StoreError};
use domain::authz::Actor;
use domain::case::{CaseState, Stage, WorkerState};
use domain::caseload::Weights;
use domain::ids::*;
use domain::referral::{Decision, ReferralState};
use domain::staff::{Agency, Fte, Role};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// A staff row's (`role`, `team_id`, `qualified_on`) cap per FTE under `policy` on
/// `today`, and whether they are newly qualified.
fn per_fte_cap(
    row: &AnyRow,
    policy: &domain::escalation::Policy,
    today: jiff::civil::Date,
) -> Result<(f64, bool), StoreError> {
    let role = code("staff", &row.try_get::<String, _>("role")?, Role::parse)?;
    let team = row.try_get::<Option<i64>, _>("team_id")?.map(TeamId);
    let nq = domain::caseload::newly_qualified(qualified_on(row)?, today);
    Ok((policy.cap_per_fte_for(role, team, nq), nq))
}

/// A staff row's `qualified_on`, parsed.
pub(crate) fn qualified_on(row: &AnyRow) -> Result<Option<jiff::civil::Date>, StoreError> {
    row.try_get::<Option<String>, _>("qualified_on")?
        .map(|d| d.parse().map_err(|e: jiff::Error| StoreError::Corrupt { table: "staff", detail: e.to_string() }))
        .transpose()
}

/// Reads a coded column back into its domain type, reporting corruption clearly.
pub(crate) fn code<T>(table: &'static str, raw: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, StoreError> {
    parse(raw).map_err(|e| StoreError::Corrupt { table, detail: format!("{raw:?}: {e}") })
}

/// What signing in needs to know about an account.
#[derive(Debug, Clone)]
pub struct StaffCredentials {
    /// The person, as an actor.
    pub actor: Actor,
    /// Their argon2id hash, if a password is set.
    pub password_hash: Option<String>,
    /// Whether the account is active.
    pub active: bool,
}

pub(crate) fn actor_from_row(row: &AnyRow) -> Result<Actor, StoreError> {
    Ok(Actor {
        staff: StaffId(row.try_get("id")?),
        login: row.try_get("login")?,
        role: code("staff", &row.try_get::<String, _>("role")?, Role::parse)?,
        team: row.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        agency: match row.try_get::<Option<String>, _>("agency")? {
            Some(a) => Some(code("staff", &a, Agency::parse)?),
            None => None,
        },
    })
}

/// Looks up an account by login (for signing in).
pub async fn staff_credentials(store: &crate::Store, login: &str) -> Result<Option<StaffCredentials>, StoreError> {
    let row = sqlx::query("SELECT id, login, role, team_id, agency, password_hash, active FROM staff WHERE login = $1")
        .bind(login.to_string())
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| {
        Ok(StaffCredentials {
            actor: actor_from_row(&r)?,
            password_hash: r.try_get("password_hash")?,
            active: r.try_get::<i64, _>("active")? != 0,
        })
    })
    .transpose()
}

/// The signed-in person behind an unexpired session.
pub async fn session_actor(
    store: &crate::Store,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<Actor>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.login, s.role, s.team_id, s.agency FROM sessions x JOIN staff s ON s.id = x.staff_id
         WHERE x.token_hash = $1 AND x.expires_at > $2 AND s.active = 1",
    )
    .bind(token_hash.to_string())
    .bind(to_micros(now))
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| actor_from_row(&r)).transpose()
}

/// The person behind an unrevoked API token.
pub async fn token_actor(store: &crate::Store, token_hash: &str) -> Result<Option<Actor>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.login, s.role, s.team_id, s.agency FROM api_tokens t JOIN staff s ON s.id = t.staff_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.active = 1",
    )
    .bind(token_hash.to_string())
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| actor_from_row(&r)).transpose()
}

impl Reads {
    /// A referral as the decision rules see it, locked for the rest of the transaction.
    pub async fn referral_state(&mut self, id: ReferralId) -> Result<Option<ReferralState>, StoreError> {
        if !self.memo.referrals.contains_key(&id) {
            self.load_referrals(&[id]).await?;
        }
        Ok(self.memo.referrals.get(&id).cloned().flatten())
    }

    /// Loads (and locks) several referrals in two statements, for what follows to read.
    pub(crate) async fn load_referrals(&mut self, ids: &[ReferralId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let list = placeholders(1, ids.len());
        let sql = format!(
            "SELECT id, team_id, received_at, decision FROM referrals WHERE id IN ({list}) ORDER BY id{}",
            self.for_update()
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.0);
        }
        let rows = q.fetch_all(self.db().await?).await?;
        let sql = format!(
            "SELECT referral_id, person_id FROM referral_children WHERE referral_id IN ({list}) ORDER BY referral_id, person_id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.0);
        }
        let mut children: HashMap<i64, Vec<PersonId>> = HashMap::new();
        for r in q.fetch_all(self.db().await?).await? {
            children.entry(r.try_get("referral_id")?).or_default().push(PersonId(r.try_get("person_id")?));
        }
        for id in ids {
            self.memo.referrals.insert(*id, None);
        }
        for row in rows {
            let id = ReferralId(row.try_get("id")?);
            let state = ReferralState {
                id,
                team: TeamId(row.try_get("team_id")?),
                received_at: from_micros(row.try_get("received_at")?),
                children: children.remove(&id.0).unwrap_or_default(),
                decision: match row.try_get::<Option<String>, _>("decision")? {
                    Some(d) => Some(code("referrals", &d, Decision::parse)?),
                    None => None,
                },
            };
            self.memo.referrals.insert(id, Some(state));
        }
        Ok(())
    }

    /// A case as the rules see it, locked for the rest of the transaction.
    pub async fn case_state(&mut self, id: CaseId) -> Result<Option<CaseState>, StoreError> {
        let sql = format!(
            "SELECT id, person_id, team_id, stage, opened_at, worker_id FROM cases WHERE id = $1{}",
            self.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(self.db().await?).await?;
        row.map(|r| case_from_row(&r)).transpose()
    }

    /// A worker's open cases, oldest first, locked for the rest of the transaction.
    pub async fn open_cases_of(&mut self, worker: StaffId) -> Result<Vec<CaseState>, StoreError> {
        let sql = format!(
            "SELECT id, person_id, team_id, stage, opened_at, worker_id FROM cases
             WHERE worker_id = $1 AND closed_at IS NULL ORDER BY opened_at, id{}",
            self.for_update()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(worker.0).fetch_all(self.db().await?).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// The active case-holding workers of a team.
    pub async fn team_practitioners(&mut self, team: TeamId) -> Result<Vec<StaffId>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM staff WHERE team_id = $1 AND active = 1 AND role IN ('social_worker', 'senior_practitioner') ORDER BY id",
        )
        .bind(team.0)
        .fetch_all(self.db().await?)
        .await?;
        rows.iter().map(|r| Ok(StaffId(r.try_get("id")?))).collect()
    }

    /// The child's open case, if there is one, locked for the rest of the transaction.
    pub async fn open_case_for_child(&mut self, child: PersonId) -> Result<Option<CaseState>, StoreError> {
        let sql = format!(
            "SELECT id, person_id, team_id, stage, opened_at, worker_id FROM cases
             WHERE person_id = $1 AND closed_at IS NULL{}",
            self.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(child.0).fetch_optional(self.db().await?).await?;
        row.map(|r| case_from_row(&r)).transpose()
    }

    /// A prospective worker with their current caseload, locked so two allocations to
    /// the same worker cannot both slip under the cap.
    pub async fn worker_state(
        &mut self,
        id: StaffId,
        policy: &domain::escalation::Policy,
        today: jiff::civil::Date,
    ) -> Result<Option<WorkerState>, StoreError> {
        Ok(self.worker_state_adding(id, policy, today, &[]).await?.map(|(worker, _)| worker))
    }

    /// [`Reads::worker_state`], with the caseload they would carry if they also held
    /// `adding` (children and their stages), from the same read of their cases.
    pub async fn worker_state_adding(
        &mut self,
        id: StaffId,
        policy: &domain::escalation::Policy,
        today: jiff::civil::Date,
        adding: &[(PersonId, Stage)],
    ) -> Result<Option<(WorkerState, f64)>, StoreError> {
        let sql = format!(
            "SELECT id, name, role, team_id, active, fte, qualified_on FROM staff WHERE id = $1{}",
            self.for_update()
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(self.db().await?).await? else {
            return Ok(None);
        };
        let (load, after) = loads(self.db().await?, id, &policy.caseload_weights, adding).await?;
        let (cap_per_fte, newly_qualified) = per_fte_cap(&row, policy, today)?;
        let worker = WorkerState {
            id,
            name: row.try_get("name")?,
            role: code("staff", &row.try_get::<String, _>("role")?, Role::parse)?,
            team: row.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
            active: row.try_get::<i64, _>("active")? != 0,
            fte: Fte::new(row.try_get("fte")?).map_err(|e| StoreError::Corrupt { table: "staff", detail: e })?,
            load,
            cap_per_fte,
            newly_qualified,
        };
        Ok(Some((worker, after)))
    }

    /// A worker's FTE and their per-FTE cap under `policy` on `today` (team, role, and
    /// their first year after qualifying).
    pub async fn worker_standing(
        &mut self,
        worker: StaffId,
        policy: &domain::escalation::Policy,
        today: jiff::civil::Date,
    ) -> Result<Option<(f64, f64)>, StoreError> {
        let row = sqlx::query("SELECT fte, role, team_id, qualified_on FROM staff WHERE id = $1")
            .bind(worker.0)
            .fetch_optional(self.db().await?)
            .await?;
        row.map(|r| Ok((r.try_get::<f64, _>("fte")?, per_fte_cap(&r, policy, today)?.0))).transpose()
    }

    /// A worker's weighted caseload: their open cases counted by stage and weighed
    /// (brothers and sisters grouped when the policy says so).
    pub async fn weighted_load(&mut self, worker: StaffId, weights: &Weights) -> Result<f64, StoreError> {
        self.load_with(worker, weights, &[]).await
    }

    /// A worker's weighted caseload if they also held `adding` (children and their
    /// stages): what an allocation would take them to.
    pub async fn load_with(
        &mut self,
        worker: StaffId,
        weights: &Weights,
        adding: &[(PersonId, Stage)],
    ) -> Result<f64, StoreError> {
        load_with(self.db().await?, worker, weights, adding).await
    }

    /// Pairs among `children` who are brothers or sisters: recorded as siblings, or sharing
    /// a parent or step-parent.
    pub async fn family_links(&mut self, children: &[PersonId]) -> Result<Vec<(PersonId, PersonId)>, StoreError> {
        let ids: Vec<i64> = children.iter().map(|p| p.0).collect();
        let links = family_links(self.db().await?, &ids).await?;
        Ok(links.into_iter().map(|(a, b)| (PersonId(a), PersonId(b))).collect())
    }

    /// Whether a person exists.
    pub async fn person_exists(&mut self, id: PersonId) -> Result<bool, StoreError> {
        exists(self.db().await?, "SELECT id FROM people WHERE id = $1", id.0).await
    }

    /// Whether a team exists.
    pub async fn team_exists(&mut self, id: TeamId) -> Result<bool, StoreError> {
        exists(self.db().await?, "SELECT id FROM teams WHERE id = $1", id.0).await
    }

    /// A member of staff's role and team, if they exist.
    pub async fn staff_actor(&mut self, id: StaffId) -> Result<Option<Actor>, StoreError> {
        let row = sqlx::query("SELECT id, login, role, team_id, agency FROM staff WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.db().await?)
            .await?;
        row.map(|r| actor_from_row(&r)).transpose()
    }

    /// Whether a login is already taken.
    pub async fn login_taken(&mut self, login: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT id FROM staff WHERE login = $1")
            .bind(login.to_string())
            .fetch_optional(self.db().await?)
            .await?
            .is_some())
    }

    /// Whether a team name is already taken.
    pub async fn team_name_taken(&mut self, name: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT id FROM teams WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(self.db().await?)
            .await?
            .is_some())
    }
}

async fn exists(conn: &mut AnyConnection, sql: &'static str, id: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query(sql).bind(id).fetch_optional(conn).await?.is_some())
}

fn case_from_row(r: &AnyRow) -> Result<CaseState, StoreError> {
    Ok(CaseState {
        id: CaseId(r.try_get("id")?),
        child: PersonId(r.try_get("person_id")?),
        team: TeamId(r.try_get("team_id")?),
        stage: code("cases", &r.try_get::<String, _>("stage")?, Stage::parse)?,
        opened_at: from_micros(r.try_get("opened_at")?),
        worker: r.try_get::<Option<i64>, _>("worker_id")?.map(StaffId),
    })
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A worker's weighted caseload if they also held `adding` (children and their
/// stages), on any connection: what an allocation would take them to.
pub(crate) async fn load_with(
    conn: &mut AnyConnection,
    worker: StaffId,
    weights: &Weights,
    adding: &[(PersonId, Stage)],
) -> Result<f64, StoreError> {
    Ok(loads(conn, worker, weights, adding).await?.1)
}

/// A worker's weighted caseload as it is and as it would be if they also held `adding`,
/// from one read of their cases (and, when brothers and sisters are grouped, of the
/// links among them and the children added).
async fn loads(
    conn: &mut AnyConnection,
    worker: StaffId,
    weights: &Weights,
    adding: &[(PersonId, Stage)],
) -> Result<(f64, f64), StoreError> {
    if weights.sibling_extra.is_none() {
        let rows = sqlx::query(
            "SELECT stage, CAST(COUNT(*) AS BIGINT) AS n FROM cases WHERE worker_id = $1 AND closed_at IS NULL GROUP BY stage",
        )
        .bind(worker.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut load = 0.0;
        for r in rows {
            let stage = code("cases", &r.try_get::<String, _>("stage")?, Stage::parse)?;
            load += weights.of(stage) * r.try_get::<i64, _>("n")? as f64;
        }
        return Ok((load, load + weights.load(adding.iter().map(|(_, s)| *s))));
    }
    let rows = sqlx::query("SELECT person_id, stage FROM cases WHERE worker_id = $1 AND closed_at IS NULL")
        .bind(worker.0)
        .fetch_all(&mut *conn)
        .await?;
    let mut children = rows
        .iter()
        .map(|r| {
            Ok((r.try_get::<i64, _>("person_id")?, code("cases", &r.try_get::<String, _>("stage")?, Stage::parse)?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let held = children.len();
    children.extend(adding.iter().map(|(p, s)| (p.0, *s)));
    let ids: Vec<i64> = children.iter().map(|(p, _)| *p).collect();
    // Links naming a child added are ignored by the load as it is.
    let links = family_links(&mut *conn, &ids).await?;
    Ok((weights.family_load(&children[..held], &links), weights.family_load(&children, &links)))
}

/// Pairs among `children` who are brothers or sisters: recorded as siblings, or sharing
/// a parent or step-parent.
pub(crate) async fn family_links(conn: &mut AnyConnection, children: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    if children.len() < 2 {
        return Ok(vec![]);
    }
    // Ids are the store's own integers, so listing them inline is safe.
    let list = children.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT person_id AS a, related_person_id AS b FROM relationships
          WHERE kind = 'sibling' AND person_id IN ({list}) AND related_person_id IN ({list})
         UNION
         SELECT p1.related_person_id AS a, p2.related_person_id AS b
           FROM relationships p1 JOIN relationships p2
             ON p2.person_id = p1.person_id AND p2.related_person_id <> p1.related_person_id
          WHERE p1.kind IN ('parent', 'step_parent') AND p2.kind IN ('parent', 'step_parent')
            AND p1.related_person_id IN ({list}) AND p2.related_person_id IN ({list})"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(conn).await?;
    rows.iter().map(|r| Ok((r.try_get("a")?, r.try_get("b")?))).collect()
}
