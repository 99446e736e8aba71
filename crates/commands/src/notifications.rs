//! How people are reached: their email address and choices, partner webhooks, and the
//! outbox seen by administrators.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, Result, Service, not_found};
use domain::Rejection;
use domain::authz::Action;
use domain::event::Event;
use domain::ids::{DeliveryId, StaffId};
use domain::outbox;
use serde::{Deserialize, Serialize};
use store::Delivery;

/// The shortest webhook secret accepted: 128 bits as hex, or a long passphrase.
pub use domain::outbox::MIN_SECRET_CHARS;

/// Contact details and choices as they arrive.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContactInput {
    /// Work email address; empty or absent for none.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether notifications are emailed (default yes). The inbox always has them.
    #[serde(default)]
    pub email_notifications: Option<bool>,
}

/// A member of staff's contact details and choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Contact {
    /// Work email address, if any.
    pub email: Option<String>,
    /// Whether notifications are emailed to them.
    pub email_notifications: bool,
    /// Always true: escalations and notices always reach the inbox.
    pub inbox: bool,
}

/// A partner webhook endpoint as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WebhookInput {
    /// The partner agency (police, school, health, other).
    #[serde(default)]
    pub agency: String,
    /// Where calls go (https).
    #[serde(default)]
    pub url: String,
    /// The shared signing secret (at least 32 characters).
    #[serde(default)]
    pub secret: String,
}

/// A partner webhook endpoint as shown (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    /// The agency.
    pub agency: String,
    /// Where calls go.
    pub url: String,
}

impl Service {
    /// Sets a member of staff's email address and whether they get email. People set
    /// their own; administrators set anyone's.
    pub async fn set_contact(&self, by: Caller<'_>, staff: StaffId, input: &ContactInput) -> Result<()> {
        self.execute(by, SetContact { staff, input }).await
    }

    /// A member of staff's contact details (their own, or anyone's for an administrator).
    pub async fn contact(&self, by: Caller<'_>, staff: StaffId) -> Result<Contact> {
        own_or_managing(&by, staff)?;
        let (email, email_notifications) =
            self.store().contact(staff).await?.ok_or_else(|| not_found(staff.reference()))?;
        Ok(Contact { email, email_notifications, inbox: true })
    }

    /// Sets up (or changes) the webhook endpoint of a partner agency.
    pub async fn set_webhook_endpoint(&self, by: Caller<'_>, input: &WebhookInput) -> Result<()> {
        self.execute(by, SetWebhookEndpoint { input }).await
    }

    /// The partner webhook endpoints (without secrets).
    pub async fn webhook_endpoints(&self, by: Caller<'_>) -> Result<Vec<WebhookView>> {
        by.require(Action::ManageDeliveries)?;
        Ok(self
            .store()
            .webhook_endpoints()
            .await?
            .into_iter()
            .map(|e| WebhookView { agency: e.agency.code().into(), url: e.url })
            .collect())
    }

    /// The outbox: deliveries in a state (`pending`, `sent`, `failed`), newest first.
    pub async fn deliveries(&self, by: Caller<'_>, state: &str, limit: i64) -> Result<Vec<Delivery>> {
        by.require(Action::ManageDeliveries)?;
        if !matches!(state, "pending" | "sent" | "failed") {
            return Err(Rejection::invalid("state", "must be pending, sent or failed").into());
        }
        Ok(self.store().deliveries(state, limit.clamp(1, 1000)).await?)
    }

    /// Sends a failed delivery again, with a fresh set of tries.
    pub async fn retry_delivery(&self, by: Caller<'_>, id: DeliveryId) -> Result<()> {
        self.execute(by, RetryDelivery { id }).await
    }
}

/// Sets a member of staff's email address and whether they get email.
struct SetContact<'a> {
    staff: StaffId,
    input: &'a ContactInput,
}

/// People see and set their own contact details; anyone's is managing staff.
fn own_or_managing(caller: &Caller<'_>, staff: StaffId) -> Result<()> {
    match caller {
        Caller::Staff(a) if a.staff == staff => Ok(()),
        _ => caller.require(Action::ManageStaff),
    }
}

impl Command for SetContact<'_> {
    type Output = ();
    const ACTION: &'static str = "staff.set_contact";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        own_or_managing(caller, self.staff)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (staff, input) = (self.staff, self.input);
        let event = domain::accounts::set_contact(staff, input.email.as_deref(), input.email_notifications)?;
        if load.staff_actor(staff).await?.is_none() {
            return Err(not_found(staff.reference()));
        }
        Ok(Decided::new(staff.subject(), vec![event], ()))
    }
}

/// Sets up (or changes) the webhook endpoint of a partner agency.
struct SetWebhookEndpoint<'a> {
    input: &'a WebhookInput,
}

impl Command for SetWebhookEndpoint<'_> {
    type Output = ();
    const ACTION: &'static str = "webhook.set";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageDeliveries)
    }

    async fn decide(self, _load: &mut Load<'_>) -> Result<Decided<()>> {
        let input = self.input;
        let event = outbox::set_webhook_endpoint(&input.agency, &input.url, &input.secret)?;
        let subject = match &event {
            Event::WebhookEndpointSet { agency, .. } => format!("webhook:{}", agency.code()),
            _ => "webhook".to_string(),
        };
        Ok(Decided::new(subject, vec![event], ()))
    }
}

/// Sends a failed delivery again, with a fresh set of tries.
struct RetryDelivery {
    id: DeliveryId,
}

impl Command for RetryDelivery {
    type Output = ();
    const ACTION: &'static str = "delivery.retry";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageDeliveries)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let id = self.id;
        let d = load.delivery(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let by = match load.caller() {
            Caller::Staff(a) => Some(a.staff),
            Caller::System(_) => None,
        };
        Ok(Decided::new(id.subject(), vec![outbox::retry(id, &d.state, by, load.now())?], ()))
    }
}
