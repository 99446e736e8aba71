//! The notifier: sends what the outbox holds, by email and webhook.
//!
//! Every `serve` process runs one. On PostgreSQL it claims a batch with `FOR UPDATE
//! SKIP LOCKED`, sends it and records each outcome in the same transaction, so a process
//! killed mid-batch leaves its rows to the others (sent again, with the same idempotency
//! key: at least once, recorded once). On SQLite (one process) it reads the batch, sends
//! it outside any lock, and records the outcomes in a short transaction.
//!
//! A failed try is retried with backoff ([`domain::delivery::RetryPolicy`]); when the
//! tries run out, or the receiver says retrying cannot help, the delivery has failed and
//! the administrators (and, for an escalation, the next level up) are told in their inbox.

use crate::executor::{Batch, Command, Decided, Load};
use crate::{Caller, CommandError, Result, Service};
use domain::delivery::Channel;
use domain::escalation::EscalationId;
use domain::event::Event;
use domain::ids::StaffId;
use domain::outbox;
use jiff::Timestamp;
use notify::{Email, Mailer, SendError, WebhookCall, WebhookClient};
use std::sync::Arc;
use store::{Backend, Delivery, DeliveryContext, DeliveryKind};

/// How many deliveries one transaction sends at most, unless configured otherwise.
pub const BATCH: i64 = 200;

/// How many sends are in flight at once within a batch.
pub const IN_FLIGHT: usize = 32;

/// The ways out: a mail server (if configured) and a webhook client. Cheap to clone.
#[derive(Clone)]
pub struct Couriers {
    /// Email; without it emails wait in the outbox (counted on `/metrics`).
    pub mailer: Option<Mailer>,
    /// Webhooks to partner systems.
    pub webhooks: WebhookClient,
}

impl Couriers {
    /// The channels these couriers can send.
    pub fn channels(&self) -> Vec<Channel> {
        let mut c = vec![Channel::Webhook];
        if self.mailer.is_some() {
            c.push(Channel::Email);
        }
        c
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Accepted by the receiver.
    pub sent: usize,
    /// Failed this time; tried again later.
    pub deferred: usize,
    /// Failed for good.
    pub failed: usize,
}

impl Round {
    /// Deliveries handled.
    pub fn handled(&self) -> usize {
        self.sent + self.deferred + self.failed
    }
}

/// The message one delivery becomes.
enum Message {
    Email(Email),
    Webhook(WebhookCall),
}

impl Service {
    /// Sends one batch of due deliveries and records the outcomes.
    pub async fn deliver_due(&self, couriers: &Couriers) -> Result<Round> {
        let channels = couriers.channels();
        let limit = self.config().delivery_batch;
        match self.store().backend() {
            Backend::Postgres => {
                let mut batch = self.batch().await?;
                let claimed = batch.reads().claim_due_deliveries(self.now(), limit, &channels).await;
                let due = match claimed.map_err(CommandError::from) {
                    Ok(due) if !due.is_empty() => due,
                    other => return batch.finish(other.map(|_| Round::default())).await,
                };
                let outcomes = self.send_all(&due, couriers).await;
                let round = self.record_outcomes(&mut batch, &due, outcomes).await;
                batch.finish(round).await
            }
            Backend::Sqlite => {
                let due = self.store().due_deliveries(self.now(), limit, &channels).await?;
                if due.is_empty() {
                    return Ok(Round::default());
                }
                let outcomes = self.send_all(&due, couriers).await;
                let mut batch = self.batch().await?;
                let round = self.record_outcomes(&mut batch, &due, outcomes).await;
                batch.finish(round).await
            }
        }
    }

    /// Sends rounds until nothing is due (for tests, the CLI and benchmarks).
    pub async fn deliver_all_due(&self, couriers: &Couriers) -> Result<Round> {
        let mut total = Round::default();
        loop {
            let r = self.deliver_due(couriers).await?;
            if r.handled() == 0 {
                return Ok(total);
            }
            total.sent += r.sent;
            total.deferred += r.deferred;
            total.failed += r.failed;
        }
    }

    /// Sends every delivery in `batch`, at most [`IN_FLIGHT`] at a time; the outcomes are
    /// in the batch's order.
    async fn send_all(&self, batch: &[Delivery], couriers: &Couriers) -> Vec<Result<(), SendError>> {
        let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, d) in batch.iter().enumerate() {
            let message = match self.message(d).await {
                Ok(m) => m,
                Err(e) => {
                    tasks.spawn(async move { (i, Err(e)) });
                    continue;
                }
            };
            let couriers = couriers.clone();
            let limit = limit.clone();
            let now_unix = self.now().as_second();
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let outcome = match (&message, &couriers.mailer) {
                    (Message::Email(email), Some(mailer)) => mailer.send(email).await,
                    (Message::Email(_), None) => {
                        Err(SendError { retryable: true, message: "no mail server is configured".into() })
                    }
                    (Message::Webhook(call), _) => couriers.webhooks.post(call, now_unix).await,
                };
                (i, outcome)
            });
        }
        let mut outcomes: Vec<Result<(), SendError>> =
            batch.iter().map(|_| Err(SendError { retryable: true, message: "not sent".into() })).collect();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((i, outcome)) => {
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = outcome;
                    }
                }
                // A panicking send leaves its slot "not sent": retried later.
                Err(e) => tracing::error!(error = %e, "a delivery task failed"),
            }
        }
        outcomes
    }

    /// What `d` says, ready to send. An error here (say, an endpoint removed since the
    /// webhook was queued) is the delivery's outcome.
    async fn message(&self, d: &Delivery) -> std::result::Result<Message, SendError> {
        let store_error = |e: store::StoreError| SendError { retryable: true, message: format!("reading it: {e}") };
        match d.channel {
            Channel::Email => {
                let ctx = self.store().delivery_context(d).await.map_err(store_error)?;
                Ok(Message::Email(render_email(d, &ctx, &self.config().public_url)))
            }
            Channel::Webhook => {
                let endpoint =
                    self.store().webhook_endpoint(&d.recipient).await.map_err(store_error)?.ok_or_else(|| {
                        SendError {
                            retryable: false,
                            message: format!("no webhook endpoint is set up for {}", d.recipient),
                        }
                    })?;
                Ok(Message::Webhook(WebhookCall {
                    url: endpoint.url,
                    secret: endpoint.secret,
                    event: match d.kind {
                        DeliveryKind::WelfareCheck => "welfare_check.requested".to_string(),
                        other => other.code().to_string(),
                    },
                    body: d.payload.clone().unwrap_or_default().into_bytes(),
                    idempotency_key: d.idempotency_key.clone(),
                }))
            }
            Channel::Inbox => Err(SendError { retryable: false, message: "inbox rows are not delivered".into() }),
        }
    }

    /// Records each outcome with an audit entry, and tells people about failures.
    async fn record_outcomes(
        &self,
        batch: &mut Batch<'_>,
        due: &[Delivery],
        outcomes: Vec<std::result::Result<(), SendError>>,
    ) -> Result<Round> {
        let now = self.now();
        let retry = self.config().retry;
        let mut round = Round::default();
        for (d, outcome) in due.iter().zip(outcomes) {
            let attempts = d.attempts + 1;
            let tried = outbox::Tried {
                delivery: d.id,
                channel: d.channel,
                attempts: d.attempts,
                outcome: outcome.as_ref().map(|_| ()).map_err(|e| (e.message.as_str(), e.retryable)),
            };
            let event = outbox::outcome(tried, &retry, now, rand::random::<f64>());
            let recorded = batch.run(Caller::System("notifier"), RecordDelivery { delivery: d, event }).await?;
            match recorded {
                Some(Recorded::Sent) => round.sent += 1,
                Some(Recorded::Deferred { error }) => {
                    round.deferred += 1;
                    tracing::warn!(delivery = d.id.0, attempts, error = %error, "delivery failed; will retry");
                }
                Some(Recorded::Failed { error }) => {
                    round.failed += 1;
                    tracing::error!(delivery = d.id.0, attempts, error = %error, "delivery failed for good");
                }
                None => {}
            }
        }
        Ok(round)
    }
}

/// What recording an outcome recorded (nothing, when the row was finished meanwhile).
enum Recorded {
    Sent,
    Deferred { error: String },
    Failed { error: String },
}

/// Records how one try of a delivery went, telling people when it has failed for good.
struct RecordDelivery<'d> {
    delivery: &'d Delivery,
    /// `delivery.sent`, `.deferred` or `.failed`.
    event: Event,
}

impl Command for RecordDelivery<'_> {
    type Output = Option<Recorded>;
    const ACTION: &'static str = "delivery";
    // A row finished meanwhile is left be, and leaves no entry.
    const RECORDED_WHEN_EMPTY: bool = false;

    fn action(&self) -> String {
        self.event.name().to_string()
    }

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        match caller {
            Caller::System(_) => Ok(()),
            Caller::Staff(_) => {
                Err(domain::Rejection::Forbidden("deliveries are recorded by the notifier".into()).into())
            }
        }
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<Option<Recorded>>> {
        let d = self.delivery;
        // Recorded once. On PostgreSQL this transaction claimed the rows and holds them
        // locked; on SQLite they were read outside it, so a row finished meanwhile (by
        // another process on the same file) is left be.
        if load.backend() == Backend::Sqlite {
            match load.delivery(d.id).await? {
                Some(current) if current.state == "pending" && current.attempts == d.attempts => {}
                _ => return Ok(Decided::new(d.id.subject(), vec![], None)),
            }
        }
        let (recorded, mut events) = match &self.event {
            Event::DeliverySent { .. } => (Recorded::Sent, vec![]),
            Event::DeliveryDeferred { error, .. } => (Recorded::Deferred { error: error.clone() }, vec![]),
            Event::DeliveryFailed { error, .. } => {
                (Recorded::Failed { error: error.clone() }, failure_notices(load, d, error, load.now()).await?)
            }
            other => {
                return Err(
                    domain::Rejection::invalid("event", format!("{} is not a delivery outcome", other.name())).into()
                );
            }
        };
        events.insert(0, self.event);
        Ok(Decided::new(d.id.subject(), events, Some(recorded)))
    }
}

/// Who hears that `d` failed: every administrator, and for an escalation the person one
/// level above it.
async fn failure_notices(load: &mut Load<'_>, d: &Delivery, error: &str, now: Timestamp) -> Result<Vec<Event>> {
    let administrators = load.administrators().await?;
    let above = match d.escalation {
        Some(e) => next_level_up(load, e).await?,
        None => None,
    };
    let failed = outbox::Failed {
        delivery: d.id,
        channel: d.channel,
        recipient: &d.recipient,
        escalation: d.escalation,
        attempts: d.attempts + 1,
        error,
    };
    Ok(outbox::failure_notices(failed, &administrators, above, now))
}

/// The person at the level above an escalation's current one, if there is one.
async fn next_level_up(load: &mut Load<'_>, id: EscalationId) -> Result<Option<StaffId>> {
    let Some(e) = load.escalation(id).await? else { return Ok(None) };
    let line = load.line_for(e.team).await?;
    Ok((e.level + 1..=4).find_map(|level| line.at(level)).filter(|p| *p != e.assignee))
}

/// An email's HTML body. Askama escapes every value (`'` included), as the pages do.
#[derive(askama::Template)]
#[template(
    ext = "html",
    source = "<!doctype html><html><body><p>{% for line in lines %}{% if !loop.first %}<br>{% endif %}{{ line }}\
{% endfor %}</p><p><a href=\"{{ link }}\">Open it in safeguard</a></p><p><small>{{ footer }}<br>Delivery \
reference: {{ key }}</small></p></body></html>"
)]
struct EmailHtml<'a> {
    lines: &'a [String],
    link: &'a str,
    footer: &'a str,
    key: &'a str,
}

/// The email for a delivery: references and initials only, and a link to sign in and see
/// the record. Email leaves the secure system, so it never carries names or concerns.
pub fn render_email(d: &Delivery, ctx: &DeliveryContext, public_url: &str) -> Email {
    let base = public_url.trim_end_matches('/');
    let child = match (&ctx.child_initials, ctx.case) {
        (Some(i), Some(c)) => Some(format!("{i} (case {})", c.reference())),
        (Some(i), None) => Some(i.clone()),
        (None, Some(c)) => Some(format!("case {}", c.reference())),
        (None, None) => None,
    };
    let (subject, lines, link): (String, Vec<String>, String) = match (d.kind, ctx.escalation) {
        (DeliveryKind::Escalation, Some((id, trigger, level))) => (
            format!("Escalation {}: {} (level {level})", id.reference(), trigger.label()),
            [
                Some(format!("Escalation {} needs your attention.", id.reference())),
                Some(format!("What: {}, level {level}", trigger.label())),
                child.as_ref().map(|c| format!("Child: {c}")),
                ctx.referral.as_ref().map(|(r, _)| format!("Referral: {}", r.reference())),
                Some(format!("Needed: {}", trigger.needs())),
            ]
            .into_iter()
            .flatten()
            .collect(),
            format!("{base}/escalations/{}", id.0),
        ),
        (DeliveryKind::Allocation, _) => (
            format!("Case allocated to you{}", ctx.case.map(|c| format!(": {}", c.reference())).unwrap_or_default()),
            [
                Some("A case has been allocated to you.".to_string()),
                child.as_ref().map(|c| format!("Child: {c}")),
                Some("Needed: plan your first visit and see the child.".to_string()),
            ]
            .into_iter()
            .flatten()
            .collect(),
            ctx.child.map(|p| format!("{base}/people/{}", p.0)).unwrap_or_else(|| format!("{base}/my-work")),
        ),
        (DeliveryKind::ReferralOutcome, _) => {
            let (r, decision) = ctx.referral.clone().unzip();
            let reference = r.map(|r| r.reference()).unwrap_or_else(|| "you made".into());
            (
                format!("Referral {reference} has been decided"),
                [
                    Some(format!("The referral {reference} has been decided.")),
                    decision.flatten().map(|d| format!("Outcome: {}", d.replace('_', " "))),
                ]
                .into_iter()
                .flatten()
                .collect(),
                r.map(|r| format!("{base}/referrals/{}", r.0)).unwrap_or_else(|| format!("{base}/inbox")),
            )
        }
        _ => (
            "You have a new notification".to_string(),
            vec!["There is a new notification in your safeguard inbox.".to_string()],
            format!("{base}/inbox"),
        ),
    };
    let footer = "This email names children by initials and reference only. Sign in to see the record.";
    let text =
        format!("{}\n\nOpen it: {link}\n\n{footer}\nDelivery reference: {}\n", lines.join("\n"), d.idempotency_key);
    let html = EmailHtml { lines: &lines, link: &link, footer, key: &d.idempotency_key };
    // Writing strings into a String cannot fail; were it to, the plain text part still goes.
    let html = askama::Template::render(&html).unwrap_or_else(|e| {
        tracing::error!(error = %e, "an email's HTML body could not be written");
        String::new()
    });
    Email {
        to: d.recipient.clone(),
        subject: format!("[safeguard] {subject}"),
        text,
        html,
        idempotency_key: d.idempotency_key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::escalation::Trigger;
    use domain::ids::{CaseId, DeliveryId, PersonId};

    fn delivery(kind: DeliveryKind) -> Delivery {
        Delivery {
            id: DeliveryId(7),
            idempotency_key: "k123".into(),
            channel: Channel::Email,
            staff: Some(StaffId(2)),
            recipient: "tm@council.gov.uk".into(),
            kind,
            escalation: Some(EscalationId(12)),
            case: None,
            referral: None,
            payload: None,
            attempts: 0,
            created_at: Timestamp::UNIX_EPOCH,
            due_at: Timestamp::UNIX_EPOCH,
            state: "pending".into(),
            last_error: None,
        }
    }

    #[test]
    fn escalation_emails_carry_initials_references_and_a_link_only() {
        let ctx = DeliveryContext {
            escalation: Some((EscalationId(12), Trigger::ChildNotSeen, 2)),
            child: Some(PersonId(5)),
            child_initials: Some("A.S.".into()),
            case: Some(CaseId(45)),
            referral: None,
        };
        let email = render_email(&delivery(DeliveryKind::Escalation), &ctx, "https://safeguard.council.gov.uk/");
        assert_eq!(email.subject, "[safeguard] Escalation E-12: Child not seen (level 2)");
        assert!(email.text.contains("Child: A.S. (case C-45)"), "{}", email.text);
        assert!(email.text.contains("https://safeguard.council.gov.uk/escalations/12"));
        assert!(email.html.contains("href=\"https://safeguard.council.gov.uk/escalations/12\""));
        assert!(email.text.contains("k123"));
        assert_eq!(email.to, "tm@council.gov.uk");
    }

    #[test]
    fn the_html_body_escapes_every_value_quotes_and_all() {
        let ctx = DeliveryContext {
            escalation: Some((EscalationId(12), Trigger::ChildNotSeen, 2)),
            child: Some(PersonId(5)),
            child_initials: Some("D.O'B. <&> \"x\"".into()),
            case: None,
            referral: None,
        };
        let email = render_email(&delivery(DeliveryKind::Escalation), &ctx, "https://council.gov.uk/?a=1&b='2'");
        assert!(email.html.contains("Child: D.O&#39;B. &#60;&#38;&#62; &#34;x&#34;<br>"), "{}", email.html);
        assert!(email.html.contains("href=\"https://council.gov.uk/?a=1&#38;b=&#39;2&#39;/escalations/12\""));
        assert!(!email.html.contains("O'B"), "{}", email.html);
        assert!(email.html.starts_with("<!doctype html><html><body><p>Escalation E-12 needs your attention.<br>"));
        assert!(email.html.ends_with("<br>Delivery reference: k123</small></p></body></html>"), "{}", email.html);
    }
}
