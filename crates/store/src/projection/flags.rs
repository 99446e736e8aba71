//! Flags raised on a child's record, and cleared.

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a flag.
pub(super) async fn apply(tx: &mut Tx, event: &Event) -> Result<(), StoreError> {
    let c = tx.db().await?;
    match event {
        Event::FlagRaised { child, flag, evidence, at } => {
            sqlx::query("INSERT INTO flags (person_id, flag, evidence, raised_at) VALUES ($1, $2, $3, $4)")
                .bind(child.0)
                .bind(flag.code())
                .bind(serde_json::to_string(evidence).unwrap_or_default())
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::FlagCleared { child, flag, at } => {
            sqlx::query("UPDATE flags SET cleared_at = $3 WHERE person_id = $1 AND flag = $2 AND cleared_at IS NULL")
                .bind(child.0)
                .bind(flag.code())
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
