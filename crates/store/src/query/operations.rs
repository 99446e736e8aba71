//! The figures an operator watches: work waiting and work stuck.

use super::escalations_open_by_level;
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};
use jiff::Timestamp;
use sqlx::Row;

/// The figures an operator watches (Prometheus `/metrics`): work waiting and work stuck.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationalFigures {
    /// Timers due now and not yet fired (the sweeper's backlog).
    pub timers_due: i64,
    /// When the oldest of them fell due.
    pub oldest_due_at: Option<Timestamp>,
    /// Timers set aside after failing on their own.
    pub timers_failed: i64,
    /// Open (unresolved) escalations per level, levels 1 to 4.
    pub escalations_open_by_level: [i64; 4],
    /// Entries on the audit log.
    pub audit_entries: i64,
    /// Deliveries (email, webhook) not yet sent, per channel: the outbox's depth.
    pub outbox_pending: Vec<(String, i64)>,
    /// When the oldest undelivered item was queued.
    pub outbox_oldest_at: Option<Timestamp>,
    /// Deliveries that failed for good, per channel.
    pub deliveries_failed: Vec<(String, i64)>,
    /// Deliveries sent, per channel.
    pub deliveries_sent: Vec<(String, i64)>,
}

/// Reads the [`OperationalFigures`] as of `now`: a handful of indexed counts.
pub async fn operational_figures(store: &Store, now: Timestamp) -> Result<OperationalFigures, StoreError> {
    let pool = store.pool();
    let due = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, MIN(due_at) AS oldest FROM timers WHERE state = 'scheduled' AND due_at <= $1",
    )
    .bind(to_micros(now))
    .fetch_one(pool)
    .await?;
    let count = |sql: &'static str| async move {
        let row = sqlx::query(sql).fetch_one(pool).await?;
        Ok::<i64, StoreError>(row.try_get::<i64, _>("n")?)
    };
    let by_level = escalations_open_by_level(store, None).await?;
    let mut by_state: std::collections::BTreeMap<&str, Vec<(String, i64)>> = Default::default();
    let rows = sqlx::query(
        "SELECT state, channel, CAST(COUNT(*) AS BIGINT) AS n FROM deliveries GROUP BY state, channel ORDER BY channel",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let state: String = r.try_get("state")?;
        let key = match state.as_str() {
            "pending" => "pending",
            "sent" => "sent",
            _ => "failed",
        };
        by_state.entry(key).or_default().push((r.try_get("channel")?, r.try_get("n")?));
    }
    let oldest = sqlx::query("SELECT MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending'")
        .fetch_one(pool)
        .await?
        .try_get::<Option<i64>, _>("oldest")?
        .map(from_micros);
    let with_channels = |v: Option<Vec<(String, i64)>>| {
        let v = v.unwrap_or_default();
        ["email", "webhook"]
            .iter()
            .map(|c| (c.to_string(), v.iter().find(|(ch, _)| ch == c).map(|(_, n)| *n).unwrap_or(0)))
            .collect::<Vec<_>>()
    };
    Ok(OperationalFigures {
        outbox_pending: with_channels(by_state.remove("pending")),
        outbox_oldest_at: oldest,
        deliveries_failed: with_channels(by_state.remove("failed")),
        deliveries_sent: with_channels(by_state.remove("sent")),
        timers_due: due.try_get("n")?,
        oldest_due_at: due.try_get::<Option<i64>, _>("oldest")?.map(from_micros),
        timers_failed: count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM timers WHERE state = 'failed'").await?,
        escalations_open_by_level: by_level,
        audit_entries: count("SELECT seq AS n FROM audit_head WHERE id = 1").await?,
    })
}
