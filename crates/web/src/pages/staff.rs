//! A member of staff's page, and marking them away: while someone is away, escalations
//! that would go to them go to their deputy or up the line instead.

use super::{Choice, DoneQuery, Field, FormErrors, Layout, path_id, render, render_invalid, see_other, when};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use commands::Caller;
use commands::escalations::AbsenceInput;
use commands::notifications::ContactInput;
use domain::authz::{Action, permits};
use domain::case::trim_number;
use domain::ids::StaffId;
use domain::staff::Role;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/{id}", get(show))
        .route("/staff/{id}/absence", post(absence))
        .route("/staff/{id}/contact", post(contact))
}

#[derive(Debug, Deserialize, Default)]
struct ContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    /// Present when the box is ticked.
    #[serde(default)]
    email_notifications: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct AbsenceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    until: String,
    /// Sent by the "Back now" button.
    #[serde(default)]
    back: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "staff_member.html")]
struct StaffPage {
    layout: Layout,
    errors: FormErrors,
    id: i64,
    name: String,
    login: String,
    role: &'static str,
    team: String,
    fte: String,
    deputy: String,
    away_until: String,
    myself: bool,
    can_set_absence: bool,
    until: Field,
    /// Whether the viewer may see and set this person's email choices (themselves, or an administrator).
    can_set_contact: bool,
    email: Field,
    email_notifications: Field,
    email_choices: Vec<Choice>,
}

/// What the notifications form shows: what was sent, or what is stored.
struct ContactShown<'a> {
    email: &'a str,
    on: bool,
}

/// Whether `user` may mark `staff` away: themselves; a manager anyone; an administrator.
fn may_set_absence(user: &PageUser, staff: StaffId) -> bool {
    let actor = &user.actor;
    actor.staff == staff || actor.role.is_manager() || actor.role == Role::Administrator
}

async fn page(
    state: &AppState,
    user: &PageUser,
    id: StaffId,
    until: &str,
    errors: FormErrors,
    done: Option<&str>,
    sent: Option<ContactShown<'_>>,
) -> Result<Response, PageError> {
    let svc = &state.svc;
    let can_set_contact = user.actor.staff == id || user.actor.role == Role::Administrator;
    let stored =
        if can_set_contact && sent.is_none() { Some(svc.contact(Caller::Staff(&user.actor), id).await?) } else { None };
    let (email, on) = match (&sent, &stored) {
        (Some(s), _) => (s.email.to_string(), s.on),
        (None, Some(c)) => (c.email.clone().unwrap_or_default(), c.email_notifications),
        (None, None) => (String::new(), false),
    };
    let s = svc.staff_member(&user.actor, id).await?;
    // Who is away is part of the directory; someone outside it (a partner) sees their own page only.
    let away_until = if permits(user.actor.role, Action::ViewStaffDirectory) {
        svc.absences(&user.actor).await?.iter().find(|(who, _)| *who == id).map(|(_, t)| when(t)).unwrap_or_default()
    } else {
        String::new()
    };
    let current = if user.actor.role == Role::Administrator { "/admin/staff" } else { "" };
    let invalid = errors.any();
    let page = StaffPage {
        layout: Layout::load(state, user, current).await?.with_notice(done),
        id: id.0,
        name: s.name.clone(),
        login: s.login.clone(),
        role: s.role.label(),
        team: s.team.as_ref().map(|t| t.name.clone()).unwrap_or_else(|| "No team".into()),
        fte: trim_number(s.fte),
        deputy: s.deputy.as_ref().map(|d| d.name.clone()).unwrap_or_else(|| "None".into()),
        away_until,
        myself: user.actor.staff == id,
        can_set_absence: may_set_absence(user, id),
        until: Field::new("until", until, &errors),
        can_set_contact,
        email: Field::new("email", email, &errors),
        email_notifications: Field::many(
            "email_notifications",
            if on { vec!["on".to_string()] } else { vec![] },
            &errors,
        ),
        email_choices: vec![Choice {
            value: "on".into(),
            label: "Email me notifications".into(),
            hint: "Escalations and notices always reach your inbox here; email is as well. Emails name children by initials and case reference only.".into(),
        }],
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let id = StaffId(path_id(&id, "member of staff")?);
    page(&state, &user, id, "", FormErrors::default(), q.done.as_deref(), None).await
}

async fn absence(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<AbsenceForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = StaffId(path_id(&id, "member of staff")?);
    let back = form.back.is_some();
    let until = if back { None } else { Some(form.until.clone()) };
    // An empty date with "Mark as away" is a mistake, not "back now" (which has its own button).
    if !back && form.until.trim().is_empty() && may_set_absence(&user, id) {
        let errors =
            FormErrors(vec![domain::FieldError::new("until", "enter when they will be back, or choose “Back now”")]);
        return page(&state, &user, id, &form.until, errors, None, None).await;
    }
    match state.svc.set_absence(Caller::Staff(&user.actor), id, &AbsenceInput { until }).await {
        Ok(()) => Ok(see_other(&format!("/staff/{}?done={}", id.0, if back { "back" } else { "away" }))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["until"])?;
            page(&state, &user, id, &form.until, errors, None, None).await
        }
    }
}

async fn contact(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = StaffId(path_id(&id, "member of staff")?);
    let on = form.email_notifications.is_some();
    let input = ContactInput { email: Some(form.email.clone()), email_notifications: Some(on) };
    match state.svc.set_contact(Caller::Staff(&user.actor), id, &input).await {
        Ok(()) => Ok(see_other(&format!("/staff/{}?done=contact", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["email"])?;
            let sent = ContactShown { email: &form.email, on };
            page(&state, &user, id, "", errors, None, Some(sent)).await
        }
    }
}
