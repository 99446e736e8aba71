//! What person matching reads: people's identifying details, and how far it has read.

use crate::{Store, StoreError};
use domain::ids::*;
use sqlx::Row;

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
