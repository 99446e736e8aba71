//! People: their identifying details, search by name or NHS number, and the parts of
//! their record (other names, addresses, relationships).

use super::{Named, opt_date};
use crate::load::code;
use crate::{Store, StoreError};
use domain::ids::*;
use domain::person::{DateOfBirth, PersonKind, RelationshipKind, Sex};
use jiff::civil::Date;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A person's identifying details.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// NHS number: ten digits.
    #[schema(pattern = "^[0-9]{10}$")]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AliasView {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
}

/// An address held for a person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
