//! Referrals: the list, one referral, and the front-door decision against each child's
//! whole history. The intake form is in `form.rs`.

mod form;

use super::{
    Choice, DoneQuery, Field, FormErrors, Layout, dob_text, path_id, render, render_invalid, see_other, when, when_opt,
};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum_extra::extract::Form;
use commands::input::DecisionInput;
use commands::read_models::{CaseFilter, ReferralFilter, ReferralView};
use domain::authz::{Action, permits, require};
use domain::ids::{PersonId, ReferralId, TeamId};
use domain::referral::{Category, Decision, ReferralSource};
use domain::staff::Role;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list))
        .merge(form::routes())
        .route("/referrals/{id}", get(show))
        .route("/referrals/{id}/decide", get(decide_form).post(decide))
}

/// Words for a referral's source.
pub(super) fn source_label(s: ReferralSource) -> &'static str {
    match s {
        ReferralSource::Police => "Police",
        ReferralSource::School => "School or education",
        ReferralSource::Health => "Health",
        ReferralSource::Relative => "Relative or carer",
        ReferralSource::Neighbour => "Neighbour or acquaintance",
        ReferralSource::Anonymous => "Anonymous",
        ReferralSource::SelfReferral => "The child or young person",
        ReferralSource::Other => "Someone else",
    }
}

/// Words for a category of concern.
pub(super) fn category_label(c: Category) -> &'static str {
    match c {
        Category::Physical => "Physical abuse",
        Category::Neglect => "Neglect",
        Category::Sexual => "Sexual abuse",
        Category::Emotional => "Emotional abuse",
    }
}

/// Categories of concern in words.
pub(super) fn categories_text(cs: &[Category]) -> String {
    cs.iter().map(|c| category_label(*c)).collect::<Vec<_>>().join(", ")
}

/// What each decision leads to, under its label.
fn decision_hint(d: Decision) -> &'static str {
    match d {
        Decision::Nfa => "No further action by children's social care",
        Decision::EarlyHelp => "Support below the statutory threshold",
        Decision::Assessment => "Opens a case for each child who has none open",
        Decision::StrategyDiscussion => {
            "Reasonable cause to suspect significant harm; opens a case for each child who has none open"
        }
    }
}

/// The teams as choices, after a first blank one saying `blank`.
async fn team_choices(state: &AppState, user: &PageUser, blank: &str) -> Result<Vec<Choice>, PageError> {
    let mut out = vec![Choice::new("", blank)];
    out.extend(state.svc.teams(&user.actor).await?.into_iter().map(|t| Choice::new(t.id.0.to_string(), t.name)));
    Ok(out)
}

// ------------------------------------------------------------------ the list

#[derive(Debug, Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    team: String,
    #[serde(default)]
    undecided: String,
    #[serde(default)]
    done: Option<String>,
}

/// A referral in a list.
struct ReferralRow {
    id: i64,
    reference: String,
    received: String,
    children: String,
    source: &'static str,
    team: String,
    decision: String,
}

impl ReferralRow {
    fn new(r: &ReferralView) -> Self {
        ReferralRow {
            id: r.id.0,
            reference: r.id.reference(),
            received: when(&r.received_at),
            children: r.children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
            source: source_label(r.source),
            team: r.team.name.clone(),
            decision: r.decision.map(|d| d.label().to_string()).unwrap_or_default(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "referrals.html")]
struct ListPage {
    layout: Layout,
    partner: bool,
    team: Field,
    teams: Vec<Choice>,
    undecided: bool,
    rows: Vec<ReferralRow>,
}

async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let partner = actor.role == Role::Partner;
    let team = q.team.trim().parse::<i64>().ok().filter(|t| *t > 0).map(TeamId);
    let undecided = matches!(q.undecided.as_str(), "1" | "on" | "true" | "yes");
    let filter = ReferralFilter { team, undecided, limit: 200, ..Default::default() };
    let referrals = state.svc.referrals(actor, filter).await?;
    let teams = if partner { vec![] } else { team_choices(&state, &user, "All teams").await? };
    let page = ListPage {
        layout: Layout::load(&state, &user, "/referrals").await?.with_notice(q.done.as_deref()),
        partner,
        team: Field::new("team", team.map(|t| t.0.to_string()).unwrap_or_default(), &FormErrors::default()),
        teams,
        undecided,
        rows: referrals.iter().map(ReferralRow::new).collect(),
    };
    Ok(render(&page))
}

// ------------------------------------------------------------------ one referral

/// A child named in a referral, with their open case for practice staff.
struct ReferralChild {
    id: i64,
    name: String,
    case: Option<OpenCase>,
    /// Others already recorded who may be this child (practice staff): link, who, evidence.
    possibly: Vec<(i64, String, String)>,
}

/// A child's open case, as the referral page shows it.
struct OpenCase {
    id: i64,
    reference: String,
    stage: &'static str,
    worker: String,
}

/// A referral's details as a summary list.
struct ReferralSummary {
    id: i64,
    reference: String,
    team: String,
    source: &'static str,
    referrer: String,
    recorded_by: String,
    received: String,
    concern: String,
    categories: String,
    decision: String,
    decision_reason: String,
    decided_by: String,
    decided: String,
}

impl ReferralSummary {
    fn new(r: &ReferralView) -> Self {
        ReferralSummary {
            id: r.id.0,
            reference: r.id.reference(),
            team: r.team.name.clone(),
            source: source_label(r.source),
            referrer: r.referrer.clone().unwrap_or_default(),
            recorded_by: r.recorded_by.name.clone(),
            received: when(&r.received_at),
            concern: r.concern.clone(),
            categories: categories_text(&r.categories),
            decision: r.decision.map(|d| d.label().to_string()).unwrap_or_default(),
            decision_reason: r.decision_reason.clone().unwrap_or_default(),
            decided_by: r.decided_by.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
            decided: when_opt(&r.decided_at),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "referral.html")]
struct ShowPage {
    layout: Layout,
    r: ReferralSummary,
    children: Vec<ReferralChild>,
    practice: bool,
    can_decide: bool,
    can_allocate: bool,
}

async fn show(
    State(state): State<AppState>,
    user: PageUser,
    origin: crate::Origin,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let id = ReferralId(path_id(&id, "referral")?);
    let r = state.svc.referral(actor, id).await?;
    let practice = permits(actor.role, Action::ViewChildRecords);
    let mut children = vec![];
    for c in &r.children {
        let case = if practice {
            let open = state
                .svc
                .cases(actor, CaseFilter { child: Some(c.id), open_only: true, limit: 1, ..Default::default() })
                .await?;
            open.first().map(|k| OpenCase {
                id: k.id.0,
                reference: k.id.reference(),
                stage: k.stage.label(),
                worker: k.worker.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
            })
        } else {
            None
        };
        let possibly = if practice { possibly_also(&state, actor, &origin, c.id).await? } else { vec![] };
        children.push(ReferralChild { id: c.id.0, name: c.name.clone(), case, possibly });
    }
    let page = ShowPage {
        layout: Layout::load(&state, &user, "/referrals").await?.with_notice(q.done.as_deref()),
        can_decide: r.decision.is_none() && permits(actor.role, Action::DecideReferral),
        can_allocate: permits(actor.role, Action::AllocateCase),
        r: ReferralSummary::new(&r),
        children,
        practice,
    };
    // The referral names its children and what is said about them: a read of each
    // child's record, on the trail before it is shown.
    for c in &r.children {
        let event = domain::event::Event::RecordViewed { person: c.id, read: origin.page() };
        state.svc.record_read(actor, &c.id.subject(), event).await?;
    }
    Ok(render(&page))
}

/// The other people recorded who are likely (p ≥ 0.5) to be `child` — the same child
/// recorded twice, say from a partner's referral typed differently — with the evidence.
/// Showing them is a search on the trail, naming who was shown.
async fn possibly_also(
    state: &AppState,
    actor: &domain::authz::Actor,
    origin: &crate::Origin,
    child: PersonId,
) -> Result<Vec<(i64, String, String)>, PageError> {
    let p = state.svc.person(actor, child).await?;
    let input = commands::matching::MatchInput::of_person(&p);
    let found: Vec<_> = state
        .svc
        .match_people(actor, &input, 5)
        .await?
        .into_iter()
        .filter(|m| m.person.id != child && m.probability >= 0.5)
        .collect();
    if !found.is_empty() {
        let event = domain::event::Event::PeopleSearched {
            query: format!("possibly also {}: {}", child.reference(), input.described()),
            found: found.iter().map(|m| m.person.id).collect(),
            read: origin.page(),
        };
        state.svc.record_read(actor, commands::read_models::SEARCH_SUBJECT, event).await?;
    }
    Ok(found
        .iter()
        .map(|m| {
            let c = form::match_choice(m);
            (m.person.id.0, c.label, c.hint)
        })
        .collect())
}

// ------------------------------------------------------------------ the decision

/// An earlier referral about a child, for the decision page.
struct PastReferral {
    id: i64,
    reference: String,
    received: String,
    source: &'static str,
    categories: String,
    concern: String,
    decision: String,
    reason: String,
}

/// A case a child has had, for the decision page.
struct PastCase {
    reference: String,
    team: String,
    stage: &'static str,
    opened: String,
    closed: String,
    closure_reason: String,
    last_seen: String,
    open: bool,
}

/// One child's history.
struct ChildHistory {
    id: i64,
    name: String,
    dob: String,
    referrals: Vec<PastReferral>,
    cases: Vec<PastCase>,
}

#[derive(askama::Template)]
#[template(path = "referral_decide.html")]
struct DecidePage {
    layout: Layout,
    errors: FormErrors,
    r: ReferralSummary,
    histories: Vec<ChildHistory>,
    decision: Field,
    decisions: Vec<Choice>,
    reason: Field,
}

#[derive(Debug, Deserialize, Default)]
struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide_page(
    state: &AppState,
    user: &PageUser,
    r: &ReferralView,
    form: &DecideForm,
    errors: FormErrors,
) -> Result<DecidePage, PageError> {
    let actor = &user.actor;
    let mut histories = vec![];
    for c in &r.children {
        let person = state.svc.person(actor, c.id).await?;
        let referrals =
            state.svc.referrals(actor, ReferralFilter { child: Some(c.id), limit: 1000, ..Default::default() }).await?;
        let cases = state.svc.cases(actor, CaseFilter { child: Some(c.id), limit: 1000, ..Default::default() }).await?;
        histories.push(ChildHistory {
            id: c.id.0,
            name: c.name.clone(),
            dob: dob_text(&person.dob),
            referrals: referrals
                .iter()
                .filter(|p| p.id != r.id)
                .map(|p| PastReferral {
                    id: p.id.0,
                    reference: p.id.reference(),
                    received: when(&p.received_at),
                    source: source_label(p.source),
                    categories: categories_text(&p.categories),
                    concern: p.concern.clone(),
                    decision: p.decision.map(|d| d.label().to_string()).unwrap_or_else(|| "Awaiting decision".into()),
                    reason: p.decision_reason.clone().unwrap_or_default(),
                })
                .collect(),
            cases: cases
                .iter()
                .map(|k| PastCase {
                    reference: k.id.reference(),
                    team: k.team.name.clone(),
                    stage: k.stage.label(),
                    opened: when(&k.opened_at),
                    closed: when_opt(&k.closed_at),
                    closure_reason: k.closure_reason.clone().unwrap_or_default(),
                    last_seen: when_opt(&k.last_seen_at),
                    open: k.closed_at.is_none(),
                })
                .collect(),
        });
    }
    Ok(DecidePage {
        layout: Layout::load(state, user, "/referrals").await?,
        r: ReferralSummary::new(r),
        histories,
        decision: Field::new("decision", &form.decision, &errors),
        decisions: Decision::ALL.iter().map(|d| Choice::with_hint(d.code(), d.label(), decision_hint(*d))).collect(),
        reason: Field::new("reason", &form.reason, &errors),
        errors,
    })
}

async fn decide_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require(&user.actor, Action::DecideReferral)?;
    let id = ReferralId(path_id(&id, "referral")?);
    let r = state.svc.referral(&user.actor, id).await?;
    if r.decision.is_some() {
        // Decided already: the referral page shows the decision.
        return Ok(see_other(&format!("/referrals/{}", id.0)));
    }
    Ok(render(&decide_page(&state, &user, &r, &DecideForm::default(), FormErrors::default()).await?))
}

async fn decide(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = ReferralId(path_id(&id, "referral")?);
    let input = DecisionInput { decision: form.decision.clone(), reason: form.reason.clone() };
    match state.svc.decide_referral(&user.actor, id, &input).await {
        Ok(_) => Ok(see_other(&format!("/referrals/{}?done=decision", id.0))),
        Err(e) => {
            let errors =
                FormErrors::from_command(e)?.explain_blank("decision", &form.decision, "choose what happens next");
            let r = state.svc.referral(&user.actor, id).await?;
            Ok(render_invalid(&decide_page(&state, &user, &r, &form, errors).await?))
        }
    }
}
