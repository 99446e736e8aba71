//! The audit trail as pages read it: its head and its entries.

use super::ts;
use crate::{Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

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
