//! "Who has seen this child's record": every read of and change to a person's record,
//! read back from the audit trail.
//!
//! An entry touches a person's record when its subject is the person (`person:12`: the
//! record opened, its access page viewed, a change to the person), one of their cases
//! (`case:3`) or one of the referrals naming them (`referral:7`), all found through the
//! `audit_log_subject (subject, seq)` index. A search that showed the person is recorded
//! once under the subject [`SEARCH_SUBJECT`] with the people it found, so those entries
//! are read through the same index and kept when they list the person.

use crate::time::from_micros;
use crate::{Store, StoreError};
use domain::ids::{PersonId, StaffId};
use domain::staff::Role;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// The trail's subject for searches for people (the people found are in the entry).
pub const SEARCH_SUBJECT: &str = "people";

/// How an entry touched the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// The record was opened.
    Viewed,
    /// The list of who has seen the record was looked at.
    AccessViewed,
    /// The person was among the results of a search.
    Found,
    /// Something on the record (the person, a case, a referral) changed.
    Changed,
}

impl AccessKind {
    /// Words for a page ("viewed the record").
    pub fn label(self) -> &'static str {
        match self {
            AccessKind::Viewed => "Viewed the record",
            AccessKind::AccessViewed => "Looked at who has seen the record",
            AccessKind::Found => "Found in a search",
            AccessKind::Changed => "Changed the record",
        }
    }
}

/// The member of staff behind an entry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AccessStaff {
    /// Who.
    pub id: StaffId,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// One read of, or change to, a person's record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    /// The entry's place on the trail.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who, as the trail names them (`staff:12`, `system:sweeper`).
    pub actor: String,
    /// The member of staff, when a member of staff did it.
    pub staff: Option<AccessStaff>,
    /// Read, found or changed.
    pub kind: AccessKind,
    /// The trail's action, e.g. `person.view` or `referral.decide`.
    pub action: String,
    /// The trail's subject, e.g. `person:12` or `case:3`.
    pub subject: String,
    /// For a read: `page` or `api`.
    pub via: Option<String>,
    /// For a read: the client's address.
    pub from: Option<String>,
    /// For a read: the client's `User-Agent` (shortened).
    pub agent: Option<String>,
    /// For a search: what was searched for.
    pub query: Option<String>,
}

/// Every read of and change to `person`'s record, newest first, at most `limit`.
pub async fn record_access(store: &Store, person: PersonId, limit: i64) -> Result<Vec<AccessEntry>, StoreError> {
    let mut subjects = vec![person.subject()];
    for (sql, kind) in [
        ("SELECT id FROM cases WHERE person_id = $1", "case"),
        ("SELECT referral_id AS id FROM referral_children WHERE person_id = $1", "referral"),
    ] {
        for r in sqlx::query(sql).bind(person.0).fetch_all(store.pool()).await? {
            subjects.push(format!("{kind}:{}", r.try_get::<i64, _>("id")?));
        }
    }
    let marks = (1..=subjects.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT seq, at, actor, action, subject, entry FROM audit_log WHERE subject IN ({marks}) ORDER BY seq DESC LIMIT ${}",
        subjects.len() + 1
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for s in &subjects {
        q = q.bind(s.clone());
    }
    let mut rows = q.bind(limit).fetch_all(store.pool()).await?;
    // Searches that listed the person. The pattern only narrows the rows read; each is
    // parsed and kept only if its `found` list really holds the person.
    let id = person.0;
    rows.extend(
        sqlx::query(
            "SELECT seq, at, actor, action, subject, entry FROM audit_log WHERE subject = $1
             AND (entry LIKE $2 OR entry LIKE $3 OR entry LIKE $4 OR entry LIKE $5) ORDER BY seq DESC LIMIT $6",
        )
        .bind(SEARCH_SUBJECT)
        .bind(format!("%[{id}]%"))
        .bind(format!("%[{id},%"))
        .bind(format!("%,{id},%"))
        .bind(format!("%,{id}]%"))
        .bind(limit)
        .fetch_all(store.pool())
        .await?,
    );
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(e) = entry(r, Some(person))? {
            out.push(e);
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.seq));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    name_staff(store, &mut out).await?;
    Ok(out)
}

/// The latest reads of anyone's record (opened, or its access looked at), newest first.
pub async fn recent_reads(store: &Store, limit: i64) -> Result<Vec<(PersonId, AccessEntry)>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, subject, entry FROM audit_log WHERE action IN ($1, $2) ORDER BY seq DESC LIMIT $3",
    )
    .bind(READ_ACTIONS[0])
    .bind(READ_ACTIONS[1])
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        entries.extend(entry(r, None)?);
    }
    name_staff(store, &mut entries).await?;
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            let person = e.subject.strip_prefix("person:").and_then(|n| n.parse().ok()).map(PersonId)?;
            Some((person, e))
        })
        .collect())
}

/// The trail's actions for opening a record and for looking at who has seen it.
pub const READ_ACTIONS: [&str; 2] = ["person.view", "person.view_access"];

/// The trail's action for a search for people.
pub const SEARCH_ACTION: &str = "people.search";

/// Reads one row as an access entry; `None` for a search that did not find `person`.
fn entry(r: &AnyRow, person: Option<PersonId>) -> Result<Option<AccessEntry>, StoreError> {
    let action: String = r.try_get("action")?;
    let subject: String = r.try_get("subject")?;
    let text: String = r.try_get("entry")?;
    let seq: i64 = r.try_get("seq")?;
    let envelope: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt { table: "audit_log", detail: format!("entry {seq}: {e}") })?;
    let events = envelope.get("events").and_then(|e| e.as_array()).map(Vec::as_slice).unwrap_or_default();
    // A read entry holds one event carrying where it was read from.
    let read = events.iter().find(|e| e.get("read").is_some());
    let field = |name: &str| read.and_then(|e| e.get(name)).and_then(|v| v.as_str()).map(str::to_string);
    let from_read = |name: &str| {
        read.and_then(|e| e.get("read")).and_then(|r| r.get(name)).and_then(|v| v.as_str()).map(str::to_string)
    };
    let kind = match action.as_str() {
        a if a == READ_ACTIONS[0] => AccessKind::Viewed,
        a if a == READ_ACTIONS[1] => AccessKind::AccessViewed,
        SEARCH_ACTION => {
            let found = read.and_then(|e| e.get("found")).and_then(|f| f.as_array());
            let listed = |p: PersonId| found.is_some_and(|f| f.iter().any(|v| v.as_i64() == Some(p.0)));
            if person.is_some_and(|p| !listed(p)) {
                return Ok(None);
            }
            AccessKind::Found
        }
        _ => AccessKind::Changed,
    };
    Ok(Some(AccessEntry {
        seq,
        at: from_micros(r.try_get("at")?),
        actor: r.try_get("actor")?,
        staff: None,
        kind,
        action,
        subject,
        via: from_read("via"),
        from: from_read("from"),
        agent: from_read("agent"),
        query: field("query"),
    }))
}

/// Fills in the name and role of the staff behind each entry.
async fn name_staff(store: &Store, entries: &mut [AccessEntry]) -> Result<(), StoreError> {
    let ids: Vec<i64> = {
        let mut ids: Vec<i64> = entries.iter().filter_map(|e| staff_id(&e.actor)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    if ids.is_empty() {
        return Ok(());
    }
    let mut known = BTreeMap::new();
    // A bounded number of parameters per statement, whatever the trail holds.
    for chunk in ids.chunks(500) {
        let marks = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT id, name, role FROM staff WHERE id IN ({marks})");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(store.pool()).await? {
            let role: String = r.try_get("role")?;
            let role = Role::parse(&role)
                .map_err(|e| StoreError::Corrupt { table: "staff", detail: format!("role {role:?}: {e}") })?;
            let id: i64 = r.try_get("id")?;
            known.insert(id, AccessStaff { id: StaffId(id), name: r.try_get("name")?, role });
        }
    }
    for e in entries {
        e.staff = staff_id(&e.actor).and_then(|id| known.get(&id).cloned());
    }
    Ok(())
}

/// The staff id in a trail actor such as `staff:12`.
fn staff_id(actor: &str) -> Option<i64> {
    actor.strip_prefix("staff:")?.parse().ok()
}
