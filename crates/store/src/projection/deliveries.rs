//! Notifications (inbox rows through the write buffer, and the email each may queue), the
//! deliveries that carry them out of the building, and where webhooks go.

use crate::buffer::Deferred;
use crate::outbox::{DeliveryKind, Queued};
use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::delivery::Channel;
use domain::event::Event;

/// Writes a notification, a delivery or a webhook endpoint.
pub(super) async fn apply(tx: &mut Tx, event: &Event, now: i64) -> Result<(), StoreError> {
    // Rows nothing reads back before commit wait in the write buffer.
    if let Event::NotificationQueued { to, about, text, at, case, referral, inbox_only } = event {
        tx.buffer.push(
            Deferred::Notification,
            vec![to.0.into(), about.map(|e| e.0).into(), "inbox".into(), text.clone().into(), to_micros(*at).into()],
        );
        if !*inbox_only && let Some(email) = tx.email_for(*to).await? {
            let kind = match (about, case, referral) {
                (Some(_), _, _) => DeliveryKind::Escalation,
                (None, Some(_), _) => DeliveryKind::Allocation,
                (None, None, Some(_)) => DeliveryKind::ReferralOutcome,
                (None, None, None) => DeliveryKind::Notice,
            };
            tx.queue_delivery(Queued {
                channel: Channel::Email,
                staff: Some(*to),
                recipient: &email,
                kind,
                escalation: *about,
                case: *case,
                referral: *referral,
                payload: None,
                at: *at,
            });
        }
        return Ok(());
    }
    let c = tx.db().await?;
    match event {
        Event::WebhookEndpointSet { agency, url, secret } => {
            sqlx::query(
                "INSERT INTO webhook_endpoints (agency, url, secret, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (agency) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at",
            )
            .bind(agency.code())
            .bind(url.as_str().to_string())
            .bind(secret.clone())
            .bind(now)
            .execute(c)
            .await?;
        }
        Event::DeliverySent { delivery, attempts, at, .. } => {
            sqlx::query("UPDATE deliveries SET state = 'sent', attempts = $2, sent_at = $3 WHERE id = $1")
                .bind(delivery.0)
                .bind(i64::from(*attempts))
                .bind(to_micros(*at))
                .execute(c)
                .await?;
        }
        Event::DeliveryDeferred { delivery, attempts, error, retry_at, .. } => {
            sqlx::query("UPDATE deliveries SET attempts = $2, due_at = $3, last_error = $4 WHERE id = $1")
                .bind(delivery.0)
                .bind(i64::from(*attempts))
                .bind(to_micros(*retry_at))
                .bind(error.clone())
                .execute(c)
                .await?;
        }
        Event::DeliveryFailed { delivery, attempts, error, at, .. } => {
            sqlx::query(
                "UPDATE deliveries SET state = 'failed', attempts = $2, failed_at = $3, last_error = $4 WHERE id = $1",
            )
            .bind(delivery.0)
            .bind(i64::from(*attempts))
            .bind(to_micros(*at))
            .bind(error.clone())
            .execute(c)
            .await?;
        }
        Event::DeliveryRetried { delivery, at, .. } => {
            // A fresh set of tries, starting now.
            sqlx::query(
                "UPDATE deliveries SET state = 'pending', attempts = 0, due_at = $2, failed_at = NULL WHERE id = $1",
            )
            .bind(delivery.0)
            .bind(to_micros(*at))
            .execute(c)
            .await?;
        }
        // Not this record's: `apply` sends each event to its own record.
        _ => {}
    }
    Ok(())
}
