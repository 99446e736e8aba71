//! Escalations: the list waiting on me (and, for managers, on my team), one escalation
//! with its whole history and the forms to acknowledge and resolve it; the inbox; and the
//! welfare-check requests the police receive, with the form to record their visit.

use super::{
    Choice, DoneQuery, Field, FormErrors, Layout, dob_text, level_text, may_act_on_escalation, open_for, path_id,
    render, render_invalid, see_other, when, when_opt,
};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use commands::escalations::{AcknowledgeInput, ResolveInput};
use commands::input::VisitInput;
use commands::read_models::{EscalationHistoryView, EscalationView, WelfareCheckView};
use domain::escalation::{EscalationId, EscalationState, Subject, Trigger};
use domain::staff::Agency;
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/escalations", get(list))
        .route("/escalations/{id}", get(show))
        .route("/escalations/{id}/acknowledge", post(acknowledge))
        .route("/escalations/{id}/resolve", post(resolve))
        .route("/inbox", get(inbox))
        .route("/welfare-checks", get(welfare_checks))
        .route("/welfare-checks/{id}/visit", get(visit_form).post(visit))
}

fn escalation_id(raw: &str) -> Result<EscalationId, PageError> {
    Ok(EscalationId(path_id(raw, "escalation")?))
}

/// Where a link to an escalation's subject goes: the child's record, the referral, the
/// worker; a disagreement has no page of its own.
fn subject_href(s: Subject) -> String {
    match s {
        Subject::Child(p) => format!("/people/{}", p.0),
        Subject::Referral(r) => format!("/referrals/{}", r.0),
        Subject::Worker(w) => format!("/staff/{}", w.0),
        Subject::Disagreement(_) => String::new(),
    }
}

/// The tag colour for a state: open is waiting on someone, acknowledged is in hand.
pub(super) fn state_tag(s: EscalationState) -> &'static str {
    match s {
        EscalationState::Open => "tag--red",
        EscalationState::Acknowledged => "tag--yellow",
        EscalationState::Resolved => "tag--green",
    }
}

/// A state in words.
pub(super) fn state_label(s: EscalationState) -> &'static str {
    match s {
        EscalationState::Open => "Open",
        EscalationState::Acknowledged => "Acknowledged",
        EscalationState::Resolved => "Resolved",
    }
}

/// One escalation in a table.
pub(super) struct EscalationRow {
    pub(super) id: i64,
    pub(super) reference: String,
    pub(super) subject: String,
    pub(super) subject_href: String,
    pub(super) trigger: &'static str,
    pub(super) level: i64,
    pub(super) open_for: String,
    pub(super) needs: &'static str,
    pub(super) state: &'static str,
    pub(super) state_tag: &'static str,
    pub(super) assignee: String,
    pub(super) raised: String,
}

impl EscalationRow {
    pub(super) fn new(e: &EscalationView, cal: &domain::working_time::Calendar, now: Timestamp) -> Self {
        EscalationRow {
            id: e.id.0,
            reference: e.id.reference(),
            subject: e.subject_label.clone(),
            subject_href: subject_href(e.subject),
            trigger: e.trigger.label(),
            level: e.level,
            open_for: open_for(cal, e.raised_at, e.resolved_at.unwrap_or(now)),
            needs: e.trigger.needs(),
            state: state_label(e.state),
            state_tag: state_tag(e.state),
            assignee: e.assignee.name.clone(),
            raised: when(&e.raised_at),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    view: String,
}

#[derive(askama::Template)]
#[template(path = "escalations.html")]
struct ListPage {
    layout: Layout,
    manager: bool,
    team_view: bool,
    mine: usize,
    rows: Vec<EscalationRow>,
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let svc = &state.svc;
    let actor = &user.actor;
    let mine = svc.my_escalations(actor).await?;
    let manager = actor.role.is_manager();
    let team_view = manager && q.view == "team";
    // A manager without a team (a service manager over several) sees every team's line.
    let shown = if team_view { svc.team_escalations(actor, actor.team, false).await? } else { mine.clone() };
    let now = svc.now();
    let page = ListPage {
        layout: Layout::load(&state, &user, "/escalations").await?,
        manager,
        team_view,
        mine: mine.len(),
        rows: shown.iter().map(|e| EscalationRow::new(e, svc.calendar(), now)).collect(),
    };
    Ok(render(&page))
}

/// One line of an escalation's history, in words.
struct HistoryRow {
    when: String,
    what: String,
    detail: String,
}

fn climb_words(reason: &str) -> &'static str {
    match reason {
        "unacknowledged" => "nobody acknowledged it in time",
        "unresolved" => "it was not resolved in time",
        _ => "",
    }
}

fn routing_words(reason: &str, from: &str) -> String {
    let from = if from.is_empty() { "the person at that level".to_string() } else { from.to_string() };
    match reason {
        "assignee_absent" => format!("passed by {from}, who is away"),
        "assignee_overloaded" => {
            format!("passed by {from}, who holds too many unacknowledged escalations")
        }
        // Entries written before the contract named it `no_one_at_level` say `no_assignee`.
        "no_one_at_level" | "no_assignee" => "nobody holds that role for the team".to_string(),
        other => other.to_string(),
    }
}

impl HistoryRow {
    fn new(h: &EscalationHistoryView) -> Self {
        let name = |n: &Option<commands::read_models::Named<domain::ids::StaffId>>| {
            n.as_ref().map(|s| s.name.clone()).unwrap_or_default()
        };
        let assignee = name(&h.assignee);
        let from = name(&h.routed_from);
        let by = name(&h.by);
        let level = h.level.map(level_text).unwrap_or_default();
        let reason = h.reason.clone().unwrap_or_default();
        let note = h.note.clone().unwrap_or_default();
        let (what, detail) = match h.what.as_str() {
            "raised" => {
                let mut what = format!("Raised at level {level} and sent to {assignee}");
                if !reason.is_empty() {
                    what = format!("{what} ({})", routing_words(&reason, &from));
                }
                (what, note)
            }
            "climbed" => {
                let (why, routed) = match reason.split_once("; routed: ") {
                    Some((why, routed)) => (why.to_string(), Some(routed.to_string())),
                    None => (reason.clone(), None),
                };
                let mut what =
                    format!("Climbed to level {level}, now held by {assignee}, because {}", climb_words(&why));
                if let Some(r) = routed {
                    what = format!("{what} ({})", routing_words(&r, &from));
                }
                (what, note)
            }
            "reminded" => (format!("Reminder sent to {assignee} at level {level}"), note),
            "repeated" => ("It happened again".to_string(), note),
            "acknowledged" => (format!("Acknowledged by {by}"), note),
            "resolved" if reason == "condition_cleared" => {
                ("Resolved: the condition that raised it no longer holds".to_string(), note)
            }
            "resolved" => {
                (format!("Resolved by {by}"), if note.is_empty() { note } else { format!("Action taken: {note}") })
            }
            "welfare_check_requested" => ("The police were asked to check on the child".to_string(), note),
            other => (other.replace('_', " "), note),
        };
        HistoryRow { when: when(&h.at), what, detail }
    }
}

#[derive(Debug, Deserialize, Default)]
struct AcknowledgeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize, Default)]
struct ResolveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

#[derive(askama::Template)]
#[template(path = "escalation.html")]
struct ShowPage {
    layout: Layout,
    errors: FormErrors,
    e: EscalationRow,
    level: String,
    detail: String,
    reached: String,
    resolved: String,
    resolution: String,
    child_id: i64,
    chronology_first: bool,
    welfare_check: bool,
    history: Vec<HistoryRow>,
    can_acknowledge: bool,
    can_resolve: bool,
    note: Field,
    action: Field,
}

/// Renders an escalation; with errors, as a refused form (422). `read` is where a plain
/// view of it comes from: an escalation about a child names them and what went wrong, so
/// that view is a read of their record, on the trail before it is shown.
#[allow(clippy::too_many_arguments)]
async fn show_page(
    state: &AppState,
    user: &PageUser,
    id: EscalationId,
    note: &str,
    action: &str,
    errors: FormErrors,
    done: Option<&str>,
    read: Option<&crate::Origin>,
) -> Result<Response, PageError> {
    let svc = &state.svc;
    let (e, history) = svc.escalation(&user.actor, id).await?;
    if let (Some(origin), Some(child)) = (read, e.child) {
        let event = domain::event::Event::RecordViewed { person: child, read: origin.page() };
        svc.record_read(&user.actor, &child.subject(), event).await?;
    }
    let may_act = may_act_on_escalation(&user.actor, e.level, e.assignee.id);
    let invalid = errors.any();
    let page = ShowPage {
        layout: Layout::load(state, user, "/escalations").await?.with_notice(done),
        level: level_text(e.level),
        detail: e.detail.clone(),
        reached: when(&e.level_reached_at),
        resolved: when_opt(&e.resolved_at),
        resolution: match (e.resolution.as_deref(), &e.action) {
            (Some("manual"), Some(a)) => a.clone(),
            (Some("condition_cleared"), _) => "The condition that raised it no longer holds".into(),
            _ => String::new(),
        },
        child_id: e.child.map(|c| c.0).unwrap_or(0),
        // The contract: for a concern after "threshold not met", the decision, its reasons and
        // the whole chronology are put in front of the assignee.
        chronology_first: e.trigger == Trigger::ConcernAfterThresholdNotMet,
        welfare_check: e.welfare_check_requested,
        history: history.iter().map(HistoryRow::new).collect(),
        can_acknowledge: may_act && e.state == EscalationState::Open,
        can_resolve: may_act && e.state != EscalationState::Resolved,
        note: Field::new("note", note, &errors),
        action: Field::new("action", action, &errors),
        e: EscalationRow::new(&e, svc.calendar(), svc.now()),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    origin: crate::Origin,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let id = escalation_id(&id)?;
    show_page(&state, &user, id, "", "", FormErrors::default(), q.done.as_deref(), Some(&origin)).await
}

async fn acknowledge(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<AcknowledgeForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = escalation_id(&id)?;
    let input = AcknowledgeInput { note: Some(form.note.clone()) };
    match state.svc.acknowledge_escalation(&user.actor, id, &input).await {
        Ok(()) => Ok(see_other(&format!("/escalations/{}?done=acknowledged", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["note"])?;
            show_page(&state, &user, id, &form.note, "", errors, None, None).await
        }
    }
}

async fn resolve(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = escalation_id(&id)?;
    let input = ResolveInput { action: form.action.clone() };
    match state.svc.resolve_escalation(&user.actor, id, &input).await {
        Ok(()) => Ok(see_other(&format!("/escalations/{}?done=resolved", id.0))),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["action"])?;
            show_page(&state, &user, id, "", &form.action, errors, None, None).await
        }
    }
}

// ------------------------------------------------------------------ inbox

/// A notification in the inbox.
struct NotificationRow {
    when: String,
    body: String,
    escalation: Option<(i64, String)>,
}

#[derive(askama::Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    rows: Vec<NotificationRow>,
}

async fn inbox(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    let rows = state
        .svc
        .inbox(&user.actor)
        .await?
        .iter()
        .map(|n| NotificationRow {
            when: when(&n.created_at),
            body: n.body.clone(),
            escalation: n.escalation.map(|e| (e.0, e.reference())),
        })
        .collect();
    Ok(render(&InboxPage { layout: Layout::load(&state, &user, "/inbox").await?, rows }))
}

// ------------------------------------------------------------------ welfare checks

/// A welfare-check request as the police (and managers) see it.
struct WelfareRow {
    id: i64,
    child_id: i64,
    child: String,
    dob: String,
    address: String,
    team: String,
    requested: String,
    visited_since: bool,
    escalation: i64,
}

impl WelfareRow {
    fn new(w: &WelfareCheckView) -> Self {
        WelfareRow {
            id: w.id,
            child_id: w.child.id.0,
            child: w.child.name.clone(),
            dob: dob_text(&w.child_dob),
            address: w.address.clone().unwrap_or_else(|| "Not known".into()),
            team: w.team.clone().unwrap_or_default(),
            requested: when(&w.requested_at),
            visited_since: w.visited_since,
            escalation: w.escalation.0,
        }
    }
}

fn is_police(user: &PageUser) -> bool {
    user.actor.agency == Some(Agency::Police)
}

#[derive(askama::Template)]
#[template(path = "welfare_checks.html")]
struct WelfarePage {
    layout: Layout,
    police: bool,
    manager: bool,
    rows: Vec<WelfareRow>,
}

async fn welfare_checks(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let rows = state.svc.welfare_checks(&user.actor).await?.iter().map(WelfareRow::new).collect();
    Ok(render(&WelfarePage {
        layout: Layout::load(&state, &user, "/welfare-checks").await?.with_notice(q.done.as_deref()),
        police: is_police(&user),
        manager: user.actor.role.is_manager(),
        rows,
    }))
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

#[derive(askama::Template)]
#[template(path = "welfare_visit.html")]
struct VisitPage {
    layout: Layout,
    errors: FormErrors,
    check: WelfareRow,
    visited_at: Field,
    outcome: Field,
    outcomes: Vec<Choice>,
    note: Field,
}

/// The request and the child's open case a police visit is recorded on.
async fn request_and_case(
    state: &AppState,
    user: &PageUser,
    id: i64,
) -> Result<(WelfareRow, domain::ids::CaseId), PageError> {
    let case = state.svc.welfare_check_case(&user.actor, id).await?;
    let checks = state.svc.welfare_checks(&user.actor).await?;
    let check = checks
        .iter()
        .find(|w| w.id == id)
        .map(WelfareRow::new)
        .ok_or_else(|| PageError::from(domain::Rejection::NotFound(format!("welfare-check request {id}"))))?;
    Ok((check, case))
}

async fn visit_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    form: &VisitForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    if !is_police(user) {
        return Err(domain::Rejection::Forbidden(
            "only the police record the visit a welfare-check request asks for".into(),
        )
        .into());
    }
    let (check, _) = request_and_case(state, user, id).await?;
    let invalid = errors.any();
    let page = VisitPage {
        layout: Layout::load(state, user, "/welfare-checks").await?,
        check,
        visited_at: Field::new("visited_at", &form.visited_at, &errors),
        outcome: Field::new("outcome", &form.outcome, &errors),
        outcomes: VisitOutcome::ALL.iter().map(|o| Choice::new(o.code(), o.label())).collect(),
        note: Field::new("note", &form.note, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn visit_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&id, "welfare-check request")?;
    visit_page(&state, &user, id, &VisitForm::default(), FormErrors::default()).await
}

async fn visit(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<VisitForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = path_id(&id, "welfare-check request")?;
    let (_, case) = request_and_case(&state, &user, id).await?;
    let input = VisitInput {
        visited_at: Some(form.visited_at.clone()),
        outcome: form.outcome.clone(),
        note: Some(form.note.clone()),
    };
    match state.svc.record_visit(&user.actor, case, &input).await {
        Ok(_) => Ok(see_other("/welfare-checks?done=visit")),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["visited_at", "outcome", "note"])?.explain_blank(
                "outcome",
                &form.outcome,
                "choose whether the child was seen",
            );
            visit_page(&state, &user, id, &form, errors).await
        }
    }
}
