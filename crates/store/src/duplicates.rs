//! People recorded more than once: the review queue, what a merge would move, and the
//! moving itself (forwards for a merge, backwards for an unmerge).

use crate::time::from_micros;
use crate::{Reads, Store, StoreError};
use domain::duplicates::{MergeFacts, MovedAlias, MovedFlag, MovedRecords};
use domain::ids::{CaseId, DuplicatePairId, PersonId, ReferralId, StaffId};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::HashSet;

/// A pair in the review queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DuplicatePair {
    /// The pair.
    pub id: DuplicatePairId,
    /// The earlier record.
    pub person_a: PersonId,
    /// The later record.
    pub person_b: PersonId,
    /// How likely the engine thought they are one person.
    pub probability: f64,
    /// Which details agreed or differed, in words.
    pub evidence: String,
    /// When the engine found them.
    pub found_at: Timestamp,
    /// `open`, `merged` or `distinct`.
    pub state: String,
    /// Who decided, and when.
    pub decided_by: Option<StaffId>,
    /// When it was decided.
    pub decided_at: Option<Timestamp>,
    /// The record kept, when merged.
    pub kept: Option<PersonId>,
}

/// What a merge moved, as stored with the pair (none unless merged).
pub(crate) fn moved_of(json: Option<String>) -> Result<Option<MovedRecords>, StoreError> {
    json.map(|j| {
        serde_json::from_str(&j)
            .map_err(|e| StoreError::Corrupt { table: "duplicate_pairs", detail: format!("moved: {e}") })
    })
    .transpose()
}

const PAIR_SELECT: &str = "SELECT id, person_a, person_b, probability, evidence, found_at, state, decided_by, \
                           decided_at, kept_id, moved FROM duplicate_pairs";

fn pair_from_row(r: &sqlx::any::AnyRow) -> Result<(DuplicatePair, Option<MovedRecords>), StoreError> {
    Ok((
        DuplicatePair {
            id: DuplicatePairId(r.try_get("id")?),
            person_a: PersonId(r.try_get("person_a")?),
            person_b: PersonId(r.try_get("person_b")?),
            probability: r.try_get("probability")?,
            evidence: r.try_get("evidence")?,
            found_at: from_micros(r.try_get("found_at")?),
            state: r.try_get("state")?,
            decided_by: r.try_get::<Option<i64>, _>("decided_by")?.map(StaffId),
            decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(from_micros),
            kept: r.try_get::<Option<i64>, _>("kept_id")?.map(PersonId),
        },
        moved_of(r.try_get("moved")?)?,
    ))
}

/// The pairs in the review queue in `state` (`open`, `merged`, `distinct`), most likely
/// first for open pairs and most recently decided first otherwise; at most `limit`.
pub async fn duplicate_pairs(store: &Store, state: &str, limit: i64) -> Result<Vec<DuplicatePair>, StoreError> {
    let order = if state == "open" { "probability DESC, id" } else { "decided_at DESC, id DESC" };
    let sql = format!("{PAIR_SELECT} WHERE state = $1 ORDER BY {order} LIMIT $2");
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(state.to_string()).bind(limit).fetch_all(store.pool()).await?;
    rows.iter().map(|r| pair_from_row(r).map(|(p, _)| p)).collect()
}

/// One pair in the review queue.
pub async fn duplicate_pair(store: &Store, id: DuplicatePairId) -> Result<Option<DuplicatePair>, StoreError> {
    let sql = format!("{PAIR_SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(store.pool()).await?;
    row.as_ref().map(|r| pair_from_row(r).map(|(p, _)| p)).transpose()
}

/// The decided and open pairs a person is part of (for their record's page).
pub async fn duplicate_pairs_of(store: &Store, person: PersonId) -> Result<Vec<DuplicatePair>, StoreError> {
    let sql = format!("{PAIR_SELECT} WHERE person_a = $1 OR person_b = $1 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(person.0).fetch_all(store.pool()).await?;
    rows.iter().map(|r| pair_from_row(r).map(|(p, _)| p)).collect()
}

/// How many pairs wait for a decision.
pub async fn open_duplicate_count(store: &Store) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM duplicate_pairs WHERE state = 'open'")
        .fetch_one(store.pool())
        .await?
        .try_get("n")?)
}

/// The people merged into someone else: not offered as duplicates again.
pub async fn merged_people(store: &Store) -> Result<HashSet<PersonId>, StoreError> {
    let rows = sqlx::query("SELECT id FROM people WHERE merged_into IS NOT NULL").fetch_all(store.pool()).await?;
    rows.iter().map(|r| Ok(PersonId(r.try_get("id")?))).collect()
}

/// Every pair of people recorded as related to each other (parent, sibling…), lower id
/// first: two people, whatever their names say.
pub async fn related_pairs(store: &Store) -> Result<HashSet<(PersonId, PersonId)>, StoreError> {
    let rows = sqlx::query("SELECT person_id, related_person_id FROM relationships").fetch_all(store.pool()).await?;
    rows.iter()
        .map(|r| {
            let (a, b) = (PersonId(r.try_get("person_id")?), PersonId(r.try_get("related_person_id")?));
            Ok((a.min(b), a.max(b)))
        })
        .collect()
}

/// Every pair already in the queue, whatever was decided: never offered twice.
pub async fn known_duplicate_pairs(store: &Store) -> Result<HashSet<(PersonId, PersonId)>, StoreError> {
    let rows = sqlx::query("SELECT person_a, person_b FROM duplicate_pairs").fetch_all(store.pool()).await?;
    rows.iter().map(|r| Ok((PersonId(r.try_get("person_a")?), PersonId(r.try_get("person_b")?)))).collect()
}

impl Reads {
    /// A pair in the review queue and what its merge moved, locked for a decision.
    pub async fn duplicate_pair(
        &mut self,
        id: DuplicatePairId,
    ) -> Result<Option<(DuplicatePair, Option<MovedRecords>)>, StoreError> {
        let sql = format!("{PAIR_SELECT} WHERE id = $1{}", self.for_update());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(self.db().await?).await?;
        row.as_ref().map(pair_from_row).transpose()
    }

    /// What a merge needs to know about `person`.
    pub async fn merge_facts(&mut self, person: PersonId) -> Result<MergeFacts, StoreError> {
        let subject = person.subject();
        let c = self.db().await?;
        let mut facts = MergeFacts::of(person);
        if let Some(r) =
            sqlx::query("SELECT merged_into FROM people WHERE id = $1").bind(person.0).fetch_optional(&mut *c).await?
        {
            facts.merged_into = r.try_get::<Option<i64>, _>("merged_into")?.map(PersonId);
        }
        facts.open_case = sqlx::query("SELECT id FROM cases WHERE person_id = $1 AND closed_at IS NULL")
            .bind(person.0)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.try_get("id").map(CaseId))
            .transpose()?;
        facts.referrals = ids(c, "SELECT referral_id AS id FROM referral_children WHERE person_id = $1", person.0)
            .await?
            .into_iter()
            .map(ReferralId)
            .collect();
        for r in sqlx::query("SELECT flag FROM flags WHERE person_id = $1 AND cleared_at IS NULL")
            .bind(person.0)
            .fetch_all(&mut *c)
            .await?
        {
            facts.open_flags.push(r.try_get("flag")?);
        }
        facts.timers =
            texts(c, "SELECT kind AS t FROM timers WHERE subject = $1 AND state <> 'done'", &subject).await?;
        facts.escalations =
            texts(c, "SELECT trigger AS t FROM escalations WHERE subject = $1 AND state <> 'resolved'", &subject)
                .await?;
        Ok(facts)
    }

    /// How `a` and `b` are recorded as related to each other, if they are.
    pub async fn relationship_between(&mut self, a: PersonId, b: PersonId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query(
            "SELECT kind FROM relationships
             WHERE (person_id = $1 AND related_person_id = $2) OR (person_id = $2 AND related_person_id = $1)",
        )
        .bind(a.0)
        .bind(b.0)
        .fetch_optional(self.db().await?)
        .await?
        .map(|r| r.try_get::<String, _>("kind"))
        .transpose()?)
    }

    /// Everything recorded against `person` that a merge would move onto someone else.
    pub async fn records_of(&mut self, person: PersonId) -> Result<MovedRecords, StoreError> {
        let subject = person.subject();
        let p = person.0;
        let c = self.db().await?;
        let mut moved = MovedRecords {
            referrals: ids(c, "SELECT referral_id AS id FROM referral_children WHERE person_id = $1", p).await?,
            cases: ids(c, "SELECT id FROM cases WHERE person_id = $1", p).await?,
            addresses: ids(c, "SELECT id FROM person_addresses WHERE person_id = $1", p).await?,
            relationships: ids(c, "SELECT id FROM relationships WHERE person_id = $1", p).await?,
            related: ids(c, "SELECT id FROM relationships WHERE related_person_id = $1", p).await?,
            threshold_decisions: ids(c, "SELECT id FROM threshold_decisions WHERE person_id = $1", p).await?,
            concerns: ids(c, "SELECT id FROM concerns WHERE person_id = $1", p).await?,
            welfare_checks: ids(c, "SELECT id FROM welfare_checks WHERE person_id = $1", p).await?,
            ..Default::default()
        };
        for r in sqlx::query("SELECT given_name, family_name, created_at FROM person_aliases WHERE person_id = $1")
            .bind(p)
            .fetch_all(&mut *c)
            .await?
        {
            moved.aliases.push(MovedAlias {
                given_name: r.try_get("given_name")?,
                family_name: r.try_get("family_name")?,
                created_at: r.try_get("created_at")?,
            });
        }
        for r in
            sqlx::query("SELECT flag, raised_at FROM flags WHERE person_id = $1").bind(p).fetch_all(&mut *c).await?
        {
            moved.flags.push(MovedFlag { flag: r.try_get("flag")?, raised_at: r.try_get("raised_at")? });
        }
        for r in
            sqlx::query("SELECT id FROM timers WHERE subject = $1").bind(subject.clone()).fetch_all(&mut *c).await?
        {
            moved.timers.push(r.try_get("id")?);
        }
        for r in sqlx::query("SELECT id FROM escalations WHERE subject = $1").bind(subject).fetch_all(&mut *c).await? {
            moved.escalations.push(r.try_get("id")?);
        }
        Ok(moved)
    }
}

async fn ids(c: &mut AnyConnection, sql: &'static str, person: i64) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(sql).bind(person).fetch_all(c).await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>("id")?)).collect()
}

/// The `t` column of the rows about a subject (`person:3`).
async fn texts(c: &mut AnyConnection, sql: &'static str, subject: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(sql).bind(subject.to_string()).fetch_all(c).await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>("t")?)).collect()
}

/// Moves exactly the records in `moved` from `from` to `to`: forwards for a merge,
/// backwards for an unmerge. A row that is no longer `from`'s is left where it is.
pub(crate) async fn move_records(
    c: &mut AnyConnection,
    moved: &MovedRecords,
    from: PersonId,
    to: PersonId,
) -> Result<(), StoreError> {
    let by_id: [(&str, &[i64]); 7] = [
        ("UPDATE referral_children SET person_id = $2 WHERE referral_id = $1 AND person_id = $3", &moved.referrals),
        ("UPDATE cases SET person_id = $2 WHERE id = $1 AND person_id = $3", &moved.cases),
        ("UPDATE person_addresses SET person_id = $2 WHERE id = $1 AND person_id = $3", &moved.addresses),
        ("UPDATE relationships SET person_id = $2 WHERE id = $1 AND person_id = $3", &moved.relationships),
        ("UPDATE relationships SET related_person_id = $2 WHERE id = $1 AND related_person_id = $3", &moved.related),
        ("UPDATE threshold_decisions SET person_id = $2 WHERE id = $1 AND person_id = $3", &moved.threshold_decisions),
        ("UPDATE concerns SET person_id = $2 WHERE id = $1 AND person_id = $3", &moved.concerns),
    ];
    for (sql, keys) in by_id {
        for key in keys {
            sqlx::query(sql).bind(*key).bind(to.0).bind(from.0).execute(&mut *c).await?;
        }
    }
    for key in &moved.welfare_checks {
        sqlx::query("UPDATE welfare_checks SET person_id = $2 WHERE id = $1 AND person_id = $3")
            .bind(*key)
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *c)
            .await?;
    }
    // What hangs off a case goes with it.
    for table in ["visits", "case_notes", "strategy_discussions", "conferences"] {
        let sql = format!("UPDATE {table} SET person_id = $2 WHERE case_id = $1 AND person_id = $3");
        for case in &moved.cases {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(*case).bind(to.0).bind(from.0).execute(&mut *c).await?;
        }
    }
    for a in &moved.aliases {
        sqlx::query(
            "UPDATE person_aliases SET person_id = $4
             WHERE person_id = $5 AND given_name = $1 AND family_name = $2 AND created_at = $3",
        )
        .bind(a.given_name.clone())
        .bind(a.family_name.clone())
        .bind(a.created_at)
        .bind(to.0)
        .bind(from.0)
        .execute(&mut *c)
        .await?;
    }
    for f in &moved.flags {
        sqlx::query("UPDATE flags SET person_id = $3 WHERE person_id = $4 AND flag = $1 AND raised_at = $2")
            .bind(f.flag.clone())
            .bind(f.raised_at)
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *c)
            .await?;
    }
    let (from_subject, to_subject) = (from.subject(), to.subject());
    for (sql, keys) in [
        ("UPDATE timers SET subject = $2 WHERE id = $1 AND subject = $3", &moved.timers),
        ("UPDATE escalations SET subject = $2 WHERE id = $1 AND subject = $3", &moved.escalations),
    ] {
        for key in keys {
            sqlx::query(sql).bind(*key).bind(to_subject.clone()).bind(from_subject.clone()).execute(&mut *c).await?;
        }
    }
    Ok(())
}
