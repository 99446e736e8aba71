//! Sign-in sessions and API tokens.

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;

/// Writes a session or an API token.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    let c = tx.db().await?;
    match event {
        Event::SignedIn { staff, expires_at, session_hash } => {
            sqlx::query("INSERT INTO sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(session_hash.clone())
                .bind(staff.0)
                .bind(now)
                .bind(to_micros(*expires_at))
                .execute(c)
                .await?;
        }
        Event::SignedOut { session_hash, .. } => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(session_hash.clone()).execute(c).await?;
        }
        Event::ApiTokenIssued { token, staff, name, token_hash } => {
            sqlx::query(
                "INSERT INTO api_tokens (id, token_hash, staff_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.0)
            .bind(token_hash.clone())
            .bind(staff.0)
            .bind(name.as_str().to_string())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::SessionsPurged { before, .. } => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(to_micros(*before)).execute(c).await?;
        }
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
