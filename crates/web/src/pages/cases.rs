//! Work on a case: allocating it with each worker's load in view, recording a visit,
//! writing a case note and closing it.

use super::people::{RecordForms, record_page};
use super::{Choice, Field, FormErrors, Layout, path_id, render, render_invalid, see_other, when, when_opt};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use commands::cases::{CloseInput, NoteInput};
use commands::input::{AllocationInput, VisitInput};
use commands::read_models::CaseView;
use domain::Rejection;
use domain::authz::{Action, require};
use domain::case::trim_number;
use domain::caseload::is_over_cap;
use domain::ids::CaseId;
use domain::visit::VisitOutcome;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/allocate", get(allocate_form).post(allocate))
        .route("/cases/{id}/visits/new", get(visit_form))
        .route("/cases/{id}/visits", post(visit))
        .route("/cases/{id}/notes", post(note))
        .route("/cases/{id}/close", post(close))
}

/// The case a form is about, as its heading shows it.
pub(super) struct CaseSummary {
    pub(super) id: i64,
    pub(super) reference: String,
    pub(super) child_id: i64,
    pub(super) child: String,
    pub(super) team: String,
    pub(super) stage: &'static str,
    pub(super) opened: String,
    pub(super) worker: String,
    pub(super) last_seen: String,
    pub(super) last_seen_alone: String,
}

impl CaseSummary {
    pub(super) fn new(c: &CaseView) -> Self {
        CaseSummary {
            id: c.id.0,
            reference: c.id.reference(),
            child_id: c.child.id.0,
            child: c.child.name.clone(),
            team: c.team.name.clone(),
            stage: c.stage.label(),
            opened: when(&c.opened_at),
            worker: c.worker.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
            last_seen: when_opt(&c.last_seen_at),
            last_seen_alone: when_opt(&c.last_seen_alone_at),
        }
    }
}

pub(super) fn case_id(raw: &str) -> Result<CaseId, PageError> {
    Ok(CaseId(path_id(raw, "case")?))
}

// ------------------------------------------------------------------ allocation

/// A worker who could take the case, with their load against their cap.
struct Candidate {
    id: i64,
    name: String,
    role: &'static str,
    fte: String,
    open_cases: i64,
    /// Weighted caseload.
    load: String,
    /// In their first year after qualifying.
    newly_qualified: bool,
    /// The child's brothers and sisters they hold.
    siblings_held: i64,
    /// What this child adds to their load, and what the child weighs alone.
    adds: f64,
    weight: f64,
    /// When they are back, if away now.
    away_until: String,
    cap: String,
    headroom: String,
    /// Already over their cap.
    over: bool,
    /// Taking this case would put them over their cap.
    would_go_over: bool,
    /// Holds the case now.
    current: bool,
}

#[derive(askama::Template)]
#[template(path = "case_allocate.html")]
struct AllocatePage {
    layout: Layout,
    errors: FormErrors,
    case: CaseSummary,
    candidates: Vec<Candidate>,
    worker: Field,
    worker_choices: Vec<Choice>,
    override_reason: Field,
}

#[derive(Debug, Deserialize, Default)]
struct AllocateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    worker: String,
    #[serde(default)]
    override_reason: String,
}

async fn allocate_page(
    state: &AppState,
    user: &PageUser,
    id: CaseId,
    form: &AllocateForm,
    errors: FormErrors,
) -> Result<AllocatePage, PageError> {
    let (case, workers) = state.svc.allocation_candidates(&user.actor, id).await?;
    let weight = state.svc.current_policy().await?.1.caseload_weights.of(case.stage);
    let candidates: Vec<Candidate> = workers
        .iter()
        .map(|c| {
            let w = &c.worker;
            Candidate {
                id: w.id.0,
                name: w.name.clone(),
                role: w.role.label(),
                fte: trim_number(w.fte),
                open_cases: w.open_cases,
                load: trim_number(w.load),
                newly_qualified: c.newly_qualified,
                cap: trim_number(c.cap),
                headroom: trim_number(c.headroom),
                over: is_over_cap(w.load, c.cap),
                would_go_over: is_over_cap(w.load + c.adds, c.cap),
                current: case.worker.as_ref().is_some_and(|cw| cw.id == w.id),
                siblings_held: c.siblings_held,
                adds: c.adds,
                weight,
                away_until: c.away_until.as_ref().map(when).unwrap_or_default(),
            }
        })
        .collect();
    let worker_choices = candidates
        .iter()
        .map(|c| {
            let mut hint = format!(
                "{}, {} FTE: {} open case{} against a cap of {}",
                c.role,
                c.fte,
                c.open_cases,
                if c.open_cases == 1 { "" } else { "s" },
                c.cap
            );
            if c.siblings_held > 0 {
                hint.push_str(&format!("; holds {} of the child's brothers and sisters", c.siblings_held));
                if c.adds < c.weight {
                    hint.push_str(&format!(" (this child adds {})", trim_number(c.adds)));
                }
            }
            if !c.away_until.is_empty() {
                hint.push_str(&format!("; away until {}", c.away_until));
            }
            if c.current {
                hint.push_str(" (holds this case now)");
            } else if c.would_go_over {
                hint.push_str(" (over the cap with this case)");
            }
            Choice::with_hint(c.id.to_string(), c.name.clone(), hint)
        })
        .collect();
    Ok(AllocatePage {
        layout: Layout::load(state, user, "/cases/unallocated").await?,
        case: CaseSummary::new(&case),
        candidates,
        worker: Field::new("worker", &form.worker, &errors),
        worker_choices,
        override_reason: Field::new("override_reason", &form.override_reason, &errors),
        errors,
    })
}

async fn allocate_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    Ok(render(&allocate_page(&state, &user, id, &AllocateForm::default(), FormErrors::default()).await?))
}

async fn allocate(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<AllocateForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(&id)?;
    let input = AllocationInput {
        // Not a number: sent as an impossible id so the command names the field.
        worker: match form.worker.trim() {
            "" => None,
            w => Some(w.parse().unwrap_or(0)),
        },
        override_reason: Some(form.override_reason.clone()),
    };
    match state.svc.allocate(&user.actor, id, &input).await {
        Ok(()) => {
            let case = state.svc.case(&user.actor, id).await?;
            Ok(see_other(&format!("/people/{}?done=allocated", case.child.id.0)))
        }
        Err(e) => {
            let errors = FormErrors::from_command(e)?;
            Ok(render_invalid(&allocate_page(&state, &user, id, &form, errors).await?))
        }
    }
}

// ------------------------------------------------------------------ visits

#[derive(askama::Template)]
#[template(path = "case_visit.html")]
struct VisitPage {
    layout: Layout,
    errors: FormErrors,
    case: CaseSummary,
    visited_at: Field,
    outcome: Field,
    outcomes: Vec<Choice>,
    note: Field,
}

#[derive(Debug, Deserialize, Default)]
struct VisitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    visited_at: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

fn outcome_hint(o: VisitOutcome) -> &'static str {
    match o {
        VisitOutcome::SeenAlone => "You saw the child and spoke with them on their own",
        VisitOutcome::Seen => "You saw the child, but not on their own",
        VisitOutcome::NotSeen => "You got in but did not see the child",
        VisitOutcome::NoAccess => "You could not get in",
    }
}

async fn visit_page(
    state: &AppState,
    user: &PageUser,
    id: CaseId,
    form: &VisitForm,
    errors: FormErrors,
) -> Result<VisitPage, PageError> {
    let actor = &user.actor;
    require(actor, Action::RecordVisit)?;
    let case = state.svc.case(actor, id).await?;
    // The same rules the command applies, so nobody fills in a form that cannot go through.
    if case.closed_at.is_some() {
        return Err(Rejection::Conflict { field: None, message: format!("case {} is closed", id.reference()) }.into());
    }
    if !actor.role.is_manager() && case.worker.as_ref().map(|w| w.id) != Some(actor.staff) {
        return Err(Rejection::Forbidden(
            "only the allocated worker or a manager can record a visit on this case".into(),
        )
        .into());
    }
    Ok(VisitPage {
        layout: Layout::load(state, user, "/my-work").await?,
        case: CaseSummary::new(&case),
        visited_at: Field::new("visited_at", &form.visited_at, &errors),
        outcome: Field::new("outcome", &form.outcome, &errors),
        outcomes: VisitOutcome::ALL.iter().map(|o| Choice::with_hint(o.code(), o.label(), outcome_hint(*o))).collect(),
        note: Field::new("note", &form.note, &errors),
        errors,
    })
}

async fn visit_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    Ok(render(&visit_page(&state, &user, id, &VisitForm::default(), FormErrors::default()).await?))
}

async fn visit(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<VisitForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(&id)?;
    let input = VisitInput {
        visited_at: Some(form.visited_at.clone()),
        outcome: form.outcome.clone(),
        note: Some(form.note.clone()),
    };
    match state.svc.record_visit(&user.actor, id, &input).await {
        Ok(_) => {
            let case = state.svc.case(&user.actor, id).await?;
            Ok(see_other(&format!("/people/{}?done=visit", case.child.id.0)))
        }
        Err(e) => {
            let errors = FormErrors::from_command(e)?.explain_blank(
                "outcome",
                &form.outcome,
                "choose whether the child was seen",
            );
            Ok(render_invalid(&visit_page(&state, &user, id, &form, errors).await?))
        }
    }
}

// ------------------------------------------------------------------ notes and closure

#[derive(Debug, Deserialize, Default)]
struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

async fn note(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(&id)?;
    match state.svc.add_case_note(&user.actor, id, &NoteInput { text: form.text.clone() }).await {
        Ok(_) => {
            let case = state.svc.case(&user.actor, id).await?;
            Ok(see_other(&format!("/people/{}?done=note#chronology", case.child.id.0)))
        }
        Err(e) => {
            let errors = FormErrors::from_command(e)?.prefixed("note.");
            let case = state.svc.case(&user.actor, id).await?;
            record_page(
                &state,
                &user,
                case.child.id,
                RecordForms { note: form.text, errors, ..Default::default() },
                None,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn close(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(&id)?;
    match state.svc.close_case(&user.actor, id, &CloseInput { reason: form.reason.clone() }).await {
        Ok(()) => {
            let case = state.svc.case(&user.actor, id).await?;
            Ok(see_other(&format!("/people/{}?done=closed", case.child.id.0)))
        }
        Err(e) => {
            let errors = FormErrors::from_command(e)?.prefixed("close.");
            let case = state.svc.case(&user.actor, id).await?;
            record_page(
                &state,
                &user,
                case.child.id,
                RecordForms { close_reason: form.reason, errors, ..Default::default() },
                None,
            )
            .await
        }
    }
}
