//! Threshold decisions and concerns recorded about a child.

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a threshold decision or a concern.
pub(super) async fn apply(tx: &mut Tx, event: &Event) -> Result<(), StoreError> {
    let c = tx.db().await?;
    match event {
        Event::ThresholdDecisionRecorded {
            decision,
            child,
            forum,
            outcome,
            reason,
            cooperation_noted,
            review_by,
            by,
            at,
        } => {
            sqlx::query(
                "INSERT INTO threshold_decisions (id, person_id, forum, outcome, reason, cooperation_noted, review_by, by_staff_id, decided_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(*decision)
            .bind(child.0)
            .bind(forum.code())
            .bind(outcome.code())
            .bind(reason.as_str().to_string())
            .bind(i64::from(*cooperation_noted))
            .bind(review_by.map(|d| d.to_string()))
            .bind(by.0)
            .bind(to_micros(*at))
            .execute(c)
            .await?;
        }
        Event::ConcernRecorded { concern, child, source, text, categories, by, at } => {
            sqlx::query(
                "INSERT INTO concerns (id, person_id, source, body, categories, by_staff_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(*concern)
            .bind(child.0)
            .bind(source.code())
            .bind(text.as_str().to_string())
            .bind(categories.iter().map(|c| c.code()).collect::<Vec<_>>().join(","))
            .bind(by.0)
            .bind(to_micros(*at))
            .execute(c)
            .await?;
        }
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
