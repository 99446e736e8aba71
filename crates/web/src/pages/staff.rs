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
        .route("/staff/{id}/reallocate", post(reallocate))
}

#[derive(Debug, Deserialize, Default)]
struct ReallocateForm {
    #[serde(default)]
    csrf: String,
    /// A colleague's id, or empty to spread the cases across the team.
    #[serde(default)]
    to: String,
    #[serde(default)]
    override_reason: String,
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
    /// Whether the viewer may move all this worker's cases (a manager; a case-holder).
    can_reallocate: bool,
    to: Field,
    colleagues: Vec<Choice>,
    override_reason: Field,
}

/// What the notifications form shows: what was sent, or what is stored.
struct ContactShown<'a> {
    email: &'a str,
    on: bool,
}

/// What the page's forms show again after a refusal (each beside its own fields).
#[derive(Default)]
struct Sent<'a> {
    until: &'a str,
    contact: Option<ContactShown<'a>>,
    moving: Option<&'a ReallocateForm>,
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
    errors: FormErrors,
    done: Option<&str>,
    shown: Sent<'_>,
) -> Result<Response, PageError> {
    let svc = &state.svc;
    let Sent { until, contact: sent, moving } = shown;
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
    let can_reallocate = permits(user.actor.role, Action::AllocateCase) && s.role.is_practitioner();
    let mut colleagues = vec![Choice::new("", "Spread across the team (most room first)")];
    if can_reallocate && let Some(team) = s.team.as_ref() {
        for w in svc
            .staff_list(&user.actor, Some(team.id))
            .await?
            .into_iter()
            .filter(|w| w.id != id && w.role.is_practitioner())
        {
            colleagues.push(Choice::new(w.id.0.to_string(), w.name));
        }
    }
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
        can_reallocate,
        to: Field::new("to", moving.map(|m| m.to.as_str()).unwrap_or(""), &errors),
        colleagues,
        override_reason: Field::new("override_reason", moving.map(|m| m.override_reason.as_str()).unwrap_or(""), &errors),
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
    page(&state, &user, id, FormErrors::default(), q.done.as_deref(), Sent::default()).await
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
        return page(&state, &user, id, errors, None, Sent { until: &form.until, ..Sent::default() }).await;
    }
    match state.svc.set_absence(Caller::Staff(&user.actor), id, &AbsenceInput { until }).await {
        Ok(()) => Ok(see_other(&format!("/staff/{}?done={}", id.0, if back { "back" } else { "away" }))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["until"])?;
            page(&state, &user, id, errors, None, Sent { until: &form.until, ..Sent::default() }).await
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
            page(&state, &user, id, errors, None, Sent { contact: Some(sent), ..Sent::default() }).await
        }
    }
}

async fn reallocate(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ReallocateForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = StaffId(path_id(&id, "member of staff")?);
    let input = commands::cases::ReallocationInput {
        to: form.to.trim().parse().ok(),
        override_reason: Some(form.override_reason.clone()),
    };
    match state.svc.reallocate_all(&user.actor, id, &input).await {
        Ok(_) => Ok(see_other(&format!("/staff/{}?done=reallocated", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["to", "override_reason", "worker"])?;
            page(&state, &user, id, errors, None, Sent { moving: Some(&form), ..Sent::default() }).await
        }
    }
}
