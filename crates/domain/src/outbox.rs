//! Decisions about what leaves the building: how a try at a delivery went, who is told
//! when one fails for good, sending one again, and partners' webhook endpoints.

use crate::delivery::{AfterFailure, Channel, RetryPolicy, WebhookUrl};
use crate::error::{FieldErrors, Rejection};
use crate::escalation::EscalationId;
use crate::event::Event;
use crate::ids::{DeliveryId, StaffId};
use crate::staff::Agency;
use jiff::Timestamp;

/// The shortest webhook secret accepted: 128 bits as hex, or a long passphrase.
pub const MIN_SECRET_CHARS: usize = 32;

/// Sets up (or changes) a partner agency's webhook endpoint.
pub fn set_webhook_endpoint(agency: &str, url: &str, secret: &str) -> Result<Event, Rejection> {
    let mut errors = FieldErrors::new();
    let agency = errors.field("agency", Agency::parse(agency));
    let url = errors.field("url", WebhookUrl::parse(url));
    let secret = secret.trim().to_string();
    if secret.chars().count() < MIN_SECRET_CHARS {
        errors.push("secret", format!("a signing secret has at least {MIN_SECRET_CHARS} characters"));
    }
    errors.finish()?;
    let (Some(agency), Some(url)) = (agency, url) else { return Err(Rejection::invalid("agency", "missing")) };
    Ok(Event::WebhookEndpointSet { agency, url, secret })
}

/// Sends a failed delivery again, with a fresh set of tries; only a failed one.
pub fn retry(delivery: DeliveryId, state: &str, by: Option<StaffId>, at: Timestamp) -> Result<Event, Rejection> {
    if state != "failed" {
        return Err(Rejection::conflict("state", format!("{} is {state}, not failed", delivery.reference())));
    }
    Ok(Event::DeliveryRetried { delivery, by, at })
}

/// A delivery as one try at it went.
#[derive(Debug, Clone, Copy)]
pub struct Tried<'a> {
    /// Which.
    pub delivery: DeliveryId,
    /// How it goes.
    pub channel: Channel,
    /// Tries before this one.
    pub attempts: u32,
    /// `Ok`, or the receiver's error and whether trying again can help.
    pub outcome: Result<(), (&'a str, bool)>,
}

/// How a try went, as the trail records it: sent, deferred to a later try (with backoff
/// and `jitter` in 0..1), or failed for good when the tries run out or retrying cannot help.
pub fn outcome(t: Tried<'_>, retry: &RetryPolicy, now: Timestamp, jitter: f64) -> Event {
    let attempts = t.attempts + 1;
    match t.outcome {
        Ok(()) => Event::DeliverySent { delivery: t.delivery, channel: t.channel, attempts, at: now },
        Err((error, retryable)) => match retry.after_failure(attempts, retryable, now, jitter) {
            AfterFailure::RetryAt(retry_at) => {
                Event::DeliveryDeferred { delivery: t.delivery, attempts, error: error.to_string(), retry_at, at: now }
            }
            AfterFailure::GiveUp => Event::DeliveryFailed {
                delivery: t.delivery,
                channel: t.channel,
                attempts,
                error: error.to_string(),
                at: now,
            },
        },
    }
}

/// A delivery that failed for good, as the people told about it read it.
#[derive(Debug, Clone, Copy)]
pub struct Failed<'a> {
    /// Which.
    pub delivery: DeliveryId,
    /// How it went.
    pub channel: Channel,
    /// Where to (an address, or the agency).
    pub recipient: &'a str,
    /// The escalation it was about, if any.
    pub escalation: Option<EscalationId>,
    /// Tries made, this one included.
    pub attempts: u32,
    /// The last error.
    pub error: &'a str,
}

/// Who hears that a delivery failed for good: every administrator, and for an
/// escalation the person one level above it, in their inbox (which cannot fail).
pub fn failure_notices(
    f: Failed<'_>,
    administrators: &[StaffId],
    level_above: Option<StaffId>,
    now: Timestamp,
) -> Vec<Event> {
    let what = match f.channel {
        Channel::Webhook => format!("The {} webhook", f.recipient),
        _ => format!("The email to {}", f.recipient),
    };
    let about = f.escalation.map(|e| format!(" about {}", e.reference())).unwrap_or_default();
    let text = format!(
        "Delivery failed: {what}{about} ({}) could not be delivered after {} tries: {}",
        f.delivery.reference(),
        f.attempts,
        f.error
    );
    let mut to = administrators.to_vec();
    if let Some(above) = level_above.filter(|a| !to.contains(a)) {
        to.push(above);
    }
    to.into_iter()
        .map(|staff| Event::NotificationQueued {
            to: staff,
            about: f.escalation,
            text: text.clone(),
            at: now,
            case: None,
            referral: None,
            inbox_only: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-02T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_try_is_sent_deferred_or_failed() {
        let policy = RetryPolicy::default();
        let t = |outcome| Tried { delivery: DeliveryId(4), channel: Channel::Email, attempts: 0, outcome };
        assert!(matches!(outcome(t(Ok(())), &policy, now(), 0.5), Event::DeliverySent { attempts: 1, .. }));
        assert!(matches!(outcome(t(Err(("busy", true))), &policy, now(), 0.5), Event::DeliveryDeferred { .. }));
        assert!(matches!(outcome(t(Err(("no such user", false))), &policy, now(), 0.5), Event::DeliveryFailed { .. }));
        let last = Tried { attempts: policy.attempts - 1, ..t(Err(("busy", true))) };
        assert!(matches!(outcome(last, &policy, now(), 0.5), Event::DeliveryFailed { .. }), "the tries ran out");
    }

    #[test]
    fn administrators_and_the_level_above_hear_of_a_failure_once_each() {
        let f = Failed {
            delivery: DeliveryId(4),
            channel: Channel::Webhook,
            recipient: "police",
            escalation: Some(EscalationId(7)),
            attempts: 10,
            error: "timed out",
        };
        let told = failure_notices(f, &[StaffId(1), StaffId(2)], Some(StaffId(2)), now());
        assert_eq!(told.len(), 2, "the administrator who is also the level above is told once");
        let Event::NotificationQueued { text, .. } = &told[0] else { panic!("a notification") };
        assert_eq!(
            text,
            "Delivery failed: The police webhook about E-7 (D-4) could not be delivered after 10 tries: timed out"
        );
        assert_eq!(failure_notices(f, &[StaffId(1)], Some(StaffId(3)), now()).len(), 2);
    }

    #[test]
    fn only_failed_deliveries_are_sent_again_and_secrets_are_long() {
        assert!(retry(DeliveryId(1), "pending", None, now()).is_err());
        assert!(retry(DeliveryId(1), "failed", Some(StaffId(1)), now()).is_ok());
        assert!(set_webhook_endpoint("police", "https://police.example/hook", "short").is_err());
        assert!(set_webhook_endpoint("police", "https://police.example/hook", &"s".repeat(32)).is_ok());
    }
}
