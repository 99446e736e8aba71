//! The outbox: notifications on their way out by email or webhook.
//!
//! A row per notification and channel is written (through the write buffer) in the same
//! transaction as the event that caused it, so a committed notification cannot be lost
//! and an uncommitted one is never sent. Delivery workers claim due rows, send them
//! outside any lock on SQLite (one process) or inside a `FOR UPDATE SKIP LOCKED`
//! transaction on PostgreSQL (many processes), and record the outcome with an event.

use crate::buffer::{Deferred, Param};
use crate::time::{from_micros, to_micros};
use crate::{Backend, Reads, Store, StoreError, Tx};
use domain::delivery::Channel;
use domain::escalation::{EscalationId, Subject, Trigger};
use domain::ids::{CaseId, DeliveryId, PersonId, ReferralId, StaffId};
use domain::staff::Agency;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

/// What a delivery is about, which decides what its message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// An escalation was raised, climbed or reminded.
    Escalation,
    /// A case was allocated to the recipient.
    Allocation,
    /// A referral the recipient made was decided.
    ReferralOutcome,
    /// Anything else worth an email: "you have a new notification".
    Notice,
    /// The police were asked to check on a child (webhook).
    WelfareCheck,
}

impl DeliveryKind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            DeliveryKind::Escalation => "escalation",
            DeliveryKind::Allocation => "allocation",
            DeliveryKind::ReferralOutcome => "referral_outcome",
            DeliveryKind::Notice => "notice",
            DeliveryKind::WelfareCheck => "welfare_check",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "escalation" => DeliveryKind::Escalation,
            "allocation" => DeliveryKind::Allocation,
            "referral_outcome" => DeliveryKind::ReferralOutcome,
            "notice" => DeliveryKind::Notice,
            "welfare_check" => DeliveryKind::WelfareCheck,
            other => return Err(format!("unknown delivery kind {other:?}")),
        })
    }
}

/// An outbox row with what a worker needs to send it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Its id.
    pub id: DeliveryId,
    /// Sent with every try so the receiver can tell a retry from a new message.
    pub idempotency_key: String,
    /// Email or webhook.
    pub channel: Channel,
    /// The member of staff, for email.
    pub staff: Option<StaffId>,
    /// The email address, or the agency code for a webhook.
    pub recipient: String,
    /// What it is about.
    pub kind: DeliveryKind,
    /// The escalation it is about.
    pub escalation: Option<EscalationId>,
    /// The case it is about.
    pub case: Option<CaseId>,
    /// The referral it is about.
    pub referral: Option<ReferralId>,
    /// A webhook's body. Never shown: it may name a child, and administrators (who see
    /// the outbox) do not see children's records.
    #[serde(skip)]
    pub payload: Option<String>,
    /// Tries so far.
    pub attempts: u32,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it is (or was) due to be tried.
    pub due_at: Timestamp,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// The last error, if a try failed.
    pub last_error: Option<String>,
}

/// Where a partner agency's webhooks go, with the secret to sign them.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Whose system.
    pub agency: Agency,
    /// Where.
    pub url: String,
    /// The signing secret.
    pub secret: String,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint").field("agency", &self.agency).field("url", &self.url).finish()
    }
}

/// What an email about a delivery may say: references and initials only, never names
/// or the concern (email leaves the secure system).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryContext {
    /// The escalation's reference, trigger and level.
    pub escalation: Option<(EscalationId, Trigger, u8)>,
    /// The child.
    pub child: Option<PersonId>,
    /// The child's initials, e.g. `A.S.`.
    pub child_initials: Option<String>,
    /// The child's open (or latest) case.
    pub case: Option<CaseId>,
    /// The referral, and its decision code when decided.
    pub referral: Option<(ReferralId, Option<String>)>,
}

const COLUMNS: &str = "id, idempotency_key, channel, staff_id, recipient, kind, escalation_id, case_id, referral_id, payload, attempts, created_at, due_at, state, last_error";

fn delivery(r: &AnyRow) -> Result<Delivery, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { table: "deliveries", detail };
    Ok(Delivery {
        id: DeliveryId(r.try_get("id")?),
        idempotency_key: r.try_get("idempotency_key")?,
        channel: Channel::parse(&r.try_get::<String, _>("channel")?).map_err(corrupt)?,
        staff: r.try_get::<Option<i64>, _>("staff_id")?.map(StaffId),
        recipient: r.try_get("recipient")?,
        kind: DeliveryKind::parse(&r.try_get::<String, _>("kind")?).map_err(corrupt)?,
        escalation: r.try_get::<Option<i64>, _>("escalation_id")?.map(EscalationId),
        case: r.try_get::<Option<i64>, _>("case_id")?.map(CaseId),
        referral: r.try_get::<Option<i64>, _>("referral_id")?.map(ReferralId),
        payload: r.try_get("payload")?,
        attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
        created_at: from_micros(r.try_get("created_at")?),
        due_at: from_micros(r.try_get("due_at")?),
        state: r.try_get("state")?,
        last_error: r.try_get("last_error")?,
    })
}

/// ` AND channel IN ('email', …)`: the channels a worker can send (email only when a
/// mail server is configured). Codes are fixed words, never input.
fn channel_filter(channels: &[Channel]) -> String {
    let list: Vec<String> = channels.iter().map(|c| format!("'{}'", c.code())).collect();
    if list.is_empty() { " AND 1 = 0".into() } else { format!(" AND channel IN ({})", list.join(", ")) }
}

/// An endpoint row (`agency, url, secret`).
fn endpoint(r: &AnyRow) -> Result<WebhookEndpoint, StoreError> {
    let agency = Agency::parse(&r.try_get::<String, _>("agency")?)
        .map_err(|detail| StoreError::Corrupt { table: "webhook_endpoints", detail })?;
    Ok(WebhookEndpoint { agency, url: r.try_get("url")?, secret: r.try_get("secret")? })
}

/// A fresh idempotency key: 128 random bits in hex.
fn new_key() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The rows a queued outbox delivery becomes (see [`Deferred::Delivery`]).
pub(crate) struct Queued<'a> {
    pub(crate) channel: Channel,
    pub(crate) staff: Option<StaffId>,
    pub(crate) recipient: &'a str,
    pub(crate) kind: DeliveryKind,
    pub(crate) escalation: Option<EscalationId>,
    pub(crate) case: Option<CaseId>,
    pub(crate) referral: Option<ReferralId>,
    pub(crate) payload: Option<String>,
    pub(crate) at: Timestamp,
}

impl Tx {
    /// Queues a delivery: written with the transaction's other buffered rows.
    pub(crate) fn queue_delivery(&mut self, q: Queued<'_>) {
        let at = to_micros(q.at);
        self.buffer.push(
            Deferred::Delivery,
            vec![
                new_key().into(),
                q.channel.code().into(),
                q.staff.map(|s| s.0).into(),
                q.recipient.into(),
                q.kind.code().into(),
                q.escalation.map(|e| e.0).into(),
                q.case.map(|c| c.0).into(),
                q.referral.map(|r| r.0).into(),
                Param::Text(q.payload),
                at.into(),
                at.into(),
            ],
        );
    }

    /// Takes (or renews) the lease `name` for `holder` until `until`, unless another
    /// holder's lease is still running at `now`. True when `holder` has it.
    pub async fn take_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4
             RETURNING holder",
        )
        .bind(name.to_string())
        .bind(holder.to_string())
        .bind(to_micros(until))
        .bind(to_micros(now))
        .fetch_optional(self.db().await?)
        .await?;
        Ok(row.is_some())
    }
}

impl Reads {
    /// The address notifications are emailed to, if the member of staff has one and
    /// wants email. Remembered for the transaction (a sweep notifies the same managers
    /// many times).
    pub(crate) async fn email_for(&mut self, staff: StaffId) -> Result<Option<String>, StoreError> {
        if let Some(known) = self.memo.emails.get(&staff) {
            return Ok(known.clone());
        }
        let row = sqlx::query("SELECT email, email_notifications FROM staff WHERE id = $1 AND active = 1")
            .bind(staff.0)
            .fetch_optional(self.db_after(&[]).await?)
            .await?;
        let email = match row {
            Some(r) if r.try_get::<i64, _>("email_notifications")? != 0 => r.try_get::<Option<String>, _>("email")?,
            _ => None,
        };
        self.memo.emails.insert(staff, email.clone());
        Ok(email)
    }

    /// Who recorded a referral: told of its outcome.
    pub async fn referral_recorded_by(&mut self, referral: ReferralId) -> Result<Option<StaffId>, StoreError> {
        let row = sqlx::query("SELECT recorded_by FROM referrals WHERE id = $1")
            .bind(referral.0)
            .fetch_optional(self.db().await?)
            .await?;
        Ok(row.map(|r| r.try_get::<i64, _>("recorded_by")).transpose()?.map(StaffId))
    }

    /// How many sessions expired before `before`.
    pub async fn expired_sessions(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE expires_at <= $1")
            .bind(to_micros(before))
            .fetch_one(self.db().await?)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }

    /// Active administrators: told when a delivery fails.
    pub async fn administrators(&mut self) -> Result<Vec<StaffId>, StoreError> {
        let rows = sqlx::query("SELECT id FROM staff WHERE role = 'administrator' AND active = 1 ORDER BY id")
            .fetch_all(self.db().await?)
            .await?;
        rows.iter().map(|r| Ok(StaffId(r.try_get("id")?))).collect()
    }

    /// The webhook endpoint set up for an agency, if any.
    pub async fn webhook_endpoint(&mut self, agency: Agency) -> Result<Option<WebhookEndpoint>, StoreError> {
        let row = sqlx::query("SELECT agency, url, secret FROM webhook_endpoints WHERE agency = $1")
            .bind(agency.code())
            .fetch_optional(self.db().await?)
            .await?;
        row.as_ref().map(endpoint).transpose()
    }

    /// Claims up to `limit` deliveries due by `now`, for sending inside this transaction.
    /// On PostgreSQL rows another process holds are skipped; the lock lasts until commit,
    /// so a process killed mid-send releases its rows to the others.
    pub async fn claim_due_deliveries(
        &mut self,
        now: Timestamp,
        limit: i64,
        channels: &[Channel],
    ) -> Result<Vec<Delivery>, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM deliveries WHERE state = 'pending' AND due_at <= $1{} ORDER BY due_at, id LIMIT $2{lock}",
            channel_filter(channels)
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_micros(now)).bind(limit).fetch_all(self.db().await?).await?;
        rows.iter().map(delivery).collect()
    }

    /// A delivery as it stands now (inside this transaction).
    pub async fn delivery(&mut self, id: DeliveryId) -> Result<Option<Delivery>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(self.db().await?).await?;
        row.as_ref().map(delivery).transpose()
    }
}

impl Store {
    /// Deliveries due by `now`, without locking: the SQLite worker reads them, sends, and
    /// then records each outcome in a short transaction (a write lock held across network
    /// calls would stall every page). One process owns a SQLite file, so nobody else
    /// sends them meanwhile; recording checks the row is still pending all the same.
    pub async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
        channels: &[Channel],
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM deliveries WHERE state = 'pending' AND due_at <= $1{} ORDER BY due_at, id LIMIT $2",
            channel_filter(channels)
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_micros(now)).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(delivery).collect()
    }

    /// The webhook endpoint set up for an agency (read when sending, so a changed URL or
    /// rotated secret applies to calls still waiting).
    pub async fn webhook_endpoint(&self, agency: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        let row = sqlx::query("SELECT agency, url, secret FROM webhook_endpoints WHERE agency = $1")
            .bind(agency.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(endpoint).transpose()
    }

    /// Webhook endpoints, by agency (secrets included: for the delivery worker only).
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query("SELECT agency, url, secret FROM webhook_endpoints ORDER BY agency")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(endpoint).collect()
    }

    /// A member of staff's email address and whether they want email.
    pub async fn contact(&self, staff: StaffId) -> Result<Option<(Option<String>, bool)>, StoreError> {
        let row = sqlx::query("SELECT email, email_notifications FROM staff WHERE id = $1")
            .bind(staff.0)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((r.try_get("email")?, r.try_get::<i64, _>("email_notifications")? != 0))).transpose()
    }

    /// Deliveries in a state (`pending`, `sent`, `failed`), newest first, for the
    /// administrators' outbox page.
    pub async fn deliveries(&self, state: &str, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM deliveries WHERE state = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(state.to_string()).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(delivery).collect()
    }

    /// What an email about `d` may say (see [`DeliveryContext`]).
    pub async fn delivery_context(&self, d: &Delivery) -> Result<DeliveryContext, StoreError> {
        let pool = self.pool();
        let mut ctx = DeliveryContext::default();
        let mut child: Option<PersonId> = None;
        if let Some(e) = d.escalation {
            let row = sqlx::query("SELECT trigger, subject, level FROM escalations WHERE id = $1")
                .bind(e.0)
                .fetch_optional(pool)
                .await?;
            if let Some(r) = row {
                let trigger = Trigger::parse(&r.try_get::<String, _>("trigger")?)
                    .map_err(|detail| StoreError::Corrupt { table: "escalations", detail })?;
                let level = u8::try_from(r.try_get::<i64, _>("level")?).unwrap_or(0);
                ctx.escalation = Some((e, trigger, level));
                match Subject::parse_key(&r.try_get::<String, _>("subject")?) {
                    Some(Subject::Child(p)) => child = Some(p),
                    Some(Subject::Referral(r)) => ctx.referral = Some((r, None)),
                    _ => {}
                }
            }
        }
        if let Some(c) = d.case {
            let row = sqlx::query("SELECT person_id FROM cases WHERE id = $1").bind(c.0).fetch_optional(pool).await?;
            if let Some(r) = row {
                child = Some(PersonId(r.try_get("person_id")?));
                ctx.case = Some(c);
            }
        }
        if let Some(r) = d.referral {
            ctx.referral = Some((r, None));
        }
        if let Some((r, _)) = ctx.referral {
            let row =
                sqlx::query("SELECT decision FROM referrals WHERE id = $1").bind(r.0).fetch_optional(pool).await?;
            let decision = row.map(|row| row.try_get::<Option<String>, _>("decision")).transpose()?.flatten();
            ctx.referral = Some((r, decision));
            if child.is_none() {
                // A referral about several children is named by its first.
                let row = sqlx::query(
                    "SELECT person_id FROM referral_children WHERE referral_id = $1 ORDER BY person_id LIMIT 1",
                )
                .bind(r.0)
                .fetch_optional(pool)
                .await?;
                child = row.map(|r| r.try_get::<i64, _>("person_id")).transpose()?.map(PersonId);
            }
        }
        ctx.child = child;
        if let Some(p) = child {
            let row = sqlx::query("SELECT given_name, family_name FROM people WHERE id = $1")
                .bind(p.0)
                .fetch_optional(pool)
                .await?;
            if let Some(r) = row {
                ctx.child_initials =
                    Some(initials(&r.try_get::<String, _>("given_name")?, &r.try_get::<String, _>("family_name")?));
            }
            if ctx.case.is_none() {
                let row = sqlx::query(
                    "SELECT id FROM cases WHERE person_id = $1 ORDER BY closed_at IS NULL DESC, opened_at DESC LIMIT 1",
                )
                .bind(p.0)
                .fetch_optional(pool)
                .await?;
                ctx.case = row.map(|r| r.try_get::<i64, _>("id")).transpose()?.map(CaseId);
            }
        }
        Ok(ctx)
    }
}

/// Queues the webhook that asks an agency's system to check on a child, if the agency
/// has one set up. Unlike email this goes to a partner's secure system, so it carries
/// what an officer needs to find the child: name, date of birth and current address.
pub(crate) async fn queue_welfare_check_webhook(
    tx: &mut Tx,
    child: PersonId,
    agency: Agency,
    escalation: EscalationId,
    at_micros: i64,
) -> Result<(), StoreError> {
    let Some(endpoint) = tx.webhook_endpoint(agency).await? else { return Ok(()) };
    let c = tx.db().await?;
    let person = sqlx::query("SELECT given_name, family_name, dob, sex FROM people WHERE id = $1")
        .bind(child.0)
        .fetch_optional(&mut *c)
        .await?;
    let address = sqlx::query(
        "SELECT line, town, postcode FROM person_addresses WHERE person_id = $1 AND to_date IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(child.0)
    .fetch_optional(&mut *c)
    .await?;
    let case = sqlx::query("SELECT id FROM cases WHERE person_id = $1 AND closed_at IS NULL")
        .bind(child.0)
        .fetch_optional(&mut *c)
        .await?;
    let at = from_micros(at_micros);
    let child_json = match person {
        Some(p) => serde_json::json!({
            "reference": child.reference(),
            "given_name": p.try_get::<String, _>("given_name")?,
            "family_name": p.try_get::<String, _>("family_name")?,
            "date_of_birth": p.try_get::<Option<String>, _>("dob")?,
            "sex": p.try_get::<String, _>("sex")?,
        }),
        None => serde_json::json!({ "reference": child.reference() }),
    };
    let address_json = match address {
        Some(a) => serde_json::json!({
            "line": a.try_get::<String, _>("line")?,
            "town": a.try_get::<Option<String>, _>("town")?,
            "postcode": a.try_get::<Option<String>, _>("postcode")?,
        }),
        None => serde_json::Value::Null,
    };
    let case = case.map(|r| r.try_get::<i64, _>("id")).transpose()?.map(CaseId);
    let payload = serde_json::json!({
        "event": "welfare_check.requested",
        "requested_at": at.to_string(),
        "escalation": escalation.reference(),
        "case": case.map(|c| c.reference()),
        "child": child_json,
        "address": address_json,
        "reason": "A child on a child protection plan has not been seen; please check on their welfare.",
    });
    tx.queue_delivery(Queued {
        channel: Channel::Webhook,
        staff: None,
        recipient: endpoint.agency.code(),
        kind: DeliveryKind::WelfareCheck,
        escalation: Some(escalation),
        case,
        referral: None,
        payload: Some(payload.to_string()),
        at,
    });
    Ok(())
}

/// `Alfie`, `Scott-Jones` → `A.S.`: the first letter of each name.
pub fn initials(given: &str, family: &str) -> String {
    [given, family]
        .iter()
        .filter_map(|n| n.trim().chars().next())
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_letter_of_each_name() {
        assert_eq!(initials("alfie", "Scott-Jones"), "A.S.");
        assert_eq!(initials("Élodie", ""), "É.");
        assert_eq!(initials("", ""), "");
    }
}
