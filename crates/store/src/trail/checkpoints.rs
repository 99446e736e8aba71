//! Signed checkpoints: the tree head now, signing it, and the checkpoints stored.

use super::frontier_of;
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};
use audit::{Hash, SigningKey};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

/// The number of entries in the log (the size of the tree) and its root now.
pub async fn tree_head(store: &Store) -> Result<(u64, Hash), StoreError> {
    let head = sqlx::query("SELECT tree_size, frontier FROM audit_head WHERE id = 1").fetch_one(store.pool()).await?;
    let tree = frontier_of(head.try_get("tree_size")?, &head.try_get::<String, _>("frontier")?)?;
    Ok((tree.size(), tree.root()))
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredCheckpoint {
    /// The tree size it signs.
    pub size: u64,
    /// The root it signs, hex.
    pub root: String,
    /// When it was signed.
    pub signed_at: Timestamp,
    /// The signing key's name.
    pub key_name: String,
    /// The whole signed text, as published.
    pub text: String,
}

fn checkpoint_from_row(r: &sqlx::any::AnyRow) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
        root: r.try_get("root")?,
        signed_at: from_micros(r.try_get("signed_at")?),
        key_name: r.try_get("key_name")?,
        text: r.try_get("body")?,
    })
}

/// The latest signed checkpoint, if any.
pub async fn latest_checkpoint(store: &Store) -> Result<Option<StoredCheckpoint>, StoreError> {
    sqlx::query("SELECT size, root, signed_at, key_name, body FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(checkpoint_from_row)
        .transpose()
}

/// Every stored checkpoint, smallest first.
pub async fn checkpoints(store: &Store) -> Result<Vec<StoredCheckpoint>, StoreError> {
    sqlx::query("SELECT size, root, signed_at, key_name, body FROM audit_checkpoints ORDER BY size")
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(checkpoint_from_row)
        .collect()
}

/// Signs the tree as it is now with `key` (named after the log's origin) and stores the
/// checkpoint, unless the latest already covers every entry. Returns the latest
/// checkpoint, and whether it was signed now.
pub async fn sign_checkpoint(
    store: &Store,
    key: &SigningKey,
    now: Timestamp,
) -> Result<(Option<StoredCheckpoint>, bool), StoreError> {
    let (size, root) = tree_head(store).await?;
    let latest = latest_checkpoint(store).await?;
    if size == 0 || latest.as_ref().is_some_and(|c| c.size >= size) {
        return Ok((latest, false));
    }
    let checkpoint = audit::Checkpoint { origin: key.name().to_string(), size, root, time: now };
    let signed =
        key.sign(&checkpoint).map_err(|e| StoreError::Corrupt { table: "audit_checkpoints", detail: e.to_string() })?;
    let text = signed.to_string();
    // Two servers signing the same size at once: the first stored is the one published.
    let inserted = sqlx::query(
        "INSERT INTO audit_checkpoints (size, root, signed_at, key_name, body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (size) DO NOTHING",
    )
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(hex::encode(root))
    .bind(to_micros(now))
    .bind(key.name().to_string())
    .bind(text)
    .execute(store.pool())
    .await?
    .rows_affected()
        > 0;
    Ok((latest_checkpoint(store).await?, inserted))
}
