//! Duplicate people: the pairs found, and merging, unmerging or telling them apart.

use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a duplicate pair and what deciding it moved.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    let c = tx.db().await?;
    match event {
        Event::DuplicatesFound { pairs } => {
            for p in pairs {
                sqlx::query(
                    "INSERT INTO duplicate_pairs (id, person_a, person_b, probability, evidence, found_at, state)
                     VALUES ($1, $2, $3, $4, $5, $6, 'open')",
                )
                .bind(p.pair.0)
                .bind(p.person_a.0)
                .bind(p.person_b.0)
                .bind(p.probability)
                .bind(p.evidence.clone())
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
        }
        Event::PeopleMerged { pair, kept, merged, moved, by } => {
            crate::duplicates::move_records(c, moved, *merged, *kept).await?;
            sqlx::query("UPDATE people SET merged_into = $2 WHERE id = $1")
                .bind(merged.0)
                .bind(kept.0)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "UPDATE duplicate_pairs SET state = 'merged', kept_id = $2, moved = $3, decided_by = $4, decided_at = $5
                 WHERE id = $1",
            )
            .bind(pair.0)
            .bind(kept.0)
            .bind(serde_json::to_string(moved).unwrap_or_default())
            .bind(by.0)
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::PeopleUnmerged { pair, kept, merged, moved, by } => {
            crate::duplicates::move_records(c, moved, *kept, *merged).await?;
            sqlx::query("UPDATE people SET merged_into = NULL WHERE id = $1").bind(merged.0).execute(&mut *c).await?;
            sqlx::query(
                "UPDATE duplicate_pairs SET state = 'open', kept_id = NULL, moved = NULL, decided_by = $2, decided_at = $3
                 WHERE id = $1",
            )
            .bind(pair.0)
            .bind(by.0)
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::PeopleMarkedDistinct { pair, by, .. } => {
            sqlx::query(
                "UPDATE duplicate_pairs SET state = 'distinct', decided_by = $2, decided_at = $3 WHERE id = $1",
            )
            .bind(pair.0)
            .bind(by.0)
            .bind(now)
            .execute(c)
            .await?;
        }
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
