//! Versions of the escalation policy.

use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a policy version.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    let c = tx.db().await?;
    if let Event::PolicySet { version, policy } = event {
        sqlx::query("INSERT INTO policies (version, body, created_at) VALUES ($1, $2, $3)")
            .bind(*version)
            .bind(policy.to_string())
            .bind(now)
            .execute(c)
            .await?;
    }
    Ok(())
}
