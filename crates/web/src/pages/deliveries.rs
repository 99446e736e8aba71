//! The outbox for administrators: deliveries that failed (with "send again"), those
//! waiting, and the partner agencies' webhook endpoints.

use super::{Choice, DoneQuery, Field, FormErrors, Layout, path_id, render, render_invalid, see_other, when};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use commands::Caller;
use commands::notifications::WebhookInput;
use commands::read_models::Delivery;
use domain::authz::{Action, require};
use domain::ids::DeliveryId;
use domain::staff::Agency;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/deliveries", get(show))
        .route("/admin/deliveries/{id}/retry", post(retry))
        .route("/admin/webhooks", post(set_webhook))
}

/// A delivery in a table.
struct Row {
    id: i64,
    reference: String,
    channel: &'static str,
    recipient: String,
    about: String,
    attempts: u32,
    created_at: String,
    next: String,
    error: String,
}

impl Row {
    fn new(d: &Delivery) -> Self {
        Row {
            id: d.id.0,
            reference: d.id.reference(),
            channel: d.channel.code(),
            recipient: d.recipient.clone(),
            about: d
                .escalation
                .map(|e| e.reference())
                .or(d.case.map(|c| c.reference()))
                .or(d.referral.map(|r| r.reference()))
                .unwrap_or_default(),
            attempts: d.attempts,
            created_at: when(&d.created_at),
            next: when(&d.due_at),
            error: d.last_error.clone().unwrap_or_default(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "admin_deliveries.html")]
struct DeliveriesPage {
    layout: Layout,
    errors: FormErrors,
    failed: Vec<Row>,
    pending: Vec<Row>,
    webhooks: Vec<(String, String)>,
    agency: Field,
    url: Field,
    secret: Field,
    agencies: Vec<Choice>,
}

#[derive(Debug, Deserialize, Default)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize, Default)]
struct WebhookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
}

async fn page(
    state: &AppState,
    user: &PageUser,
    form: &WebhookForm,
    errors: FormErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    require(&user.actor, Action::ManageDeliveries)?;
    let by = Caller::Staff(&user.actor);
    let failed = state.svc.deliveries(by, "failed", 200).await?;
    let pending = state.svc.deliveries(by, "pending", 200).await?;
    let webhooks = state.svc.webhook_endpoints(by).await?.into_iter().map(|w| (w.agency, w.url)).collect();
    let invalid = errors.any();
    let page = DeliveriesPage {
        layout: Layout::load(state, user, "/admin/deliveries").await?.with_notice(done),
        failed: failed.iter().map(Row::new).collect(),
        pending: pending.iter().map(Row::new).collect(),
        webhooks,
        agency: Field::new("agency", if form.agency.is_empty() { "police" } else { &form.agency }, &errors),
        url: Field::new("url", &form.url, &errors),
        // A secret is never shown back, even after a mistake elsewhere on the form.
        secret: Field::new("secret", "", &errors),
        agencies: Agency::ALL
            .iter()
            .map(|a| Choice { value: a.code().into(), label: a.code().into(), hint: String::new() })
            .collect(),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    page(&state, &user, &WebhookForm::default(), FormErrors::default(), q.done.as_deref()).await
}

async fn retry(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = DeliveryId(path_id(&id, "delivery")?);
    state.svc.retry_delivery(Caller::Staff(&user.actor), id).await?;
    Ok(see_other("/admin/deliveries?done=retried"))
}

async fn set_webhook(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<WebhookForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let input = WebhookInput { agency: form.agency.clone(), url: form.url.clone(), secret: form.secret.clone() };
    match state.svc.set_webhook_endpoint(Caller::Staff(&user.actor), &input).await {
        Ok(()) => Ok(see_other("/admin/deliveries?done=webhook")),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["agency", "url", "secret"])?;
            page(&state, &user, &form, errors, None).await
        }
    }
}
