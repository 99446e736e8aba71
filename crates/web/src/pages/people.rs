//! Finding a person, and a child's whole record: details, family, chronology and the
//! current case with what the reader may do next.

use super::{
    DoneQuery, Field, FormErrors, Layout, dob_text, nhs_text, path_id, render, render_invalid, when, when_opt,
};
use crate::{AppState, Origin, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use commands::read_models::{ChildRecord, PersonView, PracticeHistory};
use domain::authz::{Action, permits};
use domain::event::Event;
use domain::ids::PersonId;
use domain::person::Sex;
use domain::practice::{Forum, ThresholdOutcome};
use domain::visit::VisitOutcome;
use jiff::Timestamp;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/people", get(search)).route("/people/{id}", get(record))
}

pub(super) fn sex_text(s: Sex) -> &'static str {
    match s {
        Sex::Male => "Male",
        Sex::Female => "Female",
        Sex::Unknown => "Not known",
    }
}

/// A person in a list of search results.
struct PersonRow {
    id: i64,
    name: String,
    dob: String,
    sex: &'static str,
    nhs_number: String,
}

impl PersonRow {
    fn new(p: &PersonView) -> Self {
        PersonRow {
            id: p.id.0,
            name: p.full_name(),
            dob: dob_text(&p.dob),
            sex: sex_text(p.sex),
            nhs_number: p.nhs_number.as_deref().map(nhs_text).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(askama::Template)]
#[template(path = "people_search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    searched: bool,
    results: Vec<PersonRow>,
}

async fn search(
    State(state): State<AppState>,
    user: PageUser,
    origin: Origin,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let text = q.q.trim().to_string();
    // Asked even for an empty search, so the page itself is refused to those who may not search.
    let results = state.svc.search_people(&user.actor, &text).await?;
    // The empty form shows no one, so only a search goes on the trail.
    if !text.is_empty() {
        let found = results.iter().map(|p| p.id).collect();
        let event = Event::PeopleSearched { query: text.clone(), found, read: origin.page() };
        state.svc.record_read(&user.actor, commands::read_models::SEARCH_SUBJECT, event).await?;
    }
    let page = SearchPage {
        layout: Layout::load(&state, &user, "/people").await?,
        searched: !text.is_empty(),
        q: text,
        results: results.iter().map(PersonRow::new).collect(),
    };
    Ok(render(&page))
}

/// One line of a summary list.
struct SummaryRow {
    key: &'static str,
    value: String,
}

/// An address on the record.
struct AddressRow {
    text: String,
    dates: String,
    current: bool,
}

/// A relationship on the record, read from this person's side.
struct RelationshipRow {
    other_id: i64,
    other: String,
    text: String,
}

/// One event in the chronology.
struct ChronoRow {
    at: Timestamp,
    order: u8,
    when: String,
    kind: &'static str,
    tag: &'static str,
    summary: String,
    detail: String,
    href: String,
    by: String,
}

/// A case (episode) on the record.
struct CaseRow {
    reference: String,
    team: String,
    stage: &'static str,
    opened: String,
    closed: String,
    closure_reason: String,
    worker: String,
}

/// The open case with what the reader may do on it.
struct CurrentCase {
    id: i64,
    reference: String,
    team: String,
    stage: &'static str,
    opened: String,
    worker: String,
    allocated_at: String,
    last_seen: String,
    last_seen_alone: String,
    can_visit: bool,
    can_allocate: bool,
    can_note: bool,
    can_close: bool,
    /// Statutory steps the reader may take (managers; the assessment also its worker).
    can_plan: bool,
    can_review: bool,
    can_assess: bool,
}

/// A flag on the record with the rule that raised it and its evidence.
struct FlagRow {
    label: &'static str,
    rule: String,
    raised: String,
    evidence: Vec<String>,
}

/// A deadline still to be met.
pub(super) struct DueRow {
    pub(super) label: &'static str,
    pub(super) due: String,
    pub(super) overdue: bool,
    /// The child it is about (empty for a referral), with a link.
    pub(super) child: String,
    pub(super) child_id: i64,
    /// The referral it is about, if any.
    pub(super) referral: Option<(i64, String)>,
}

impl DueRow {
    pub(super) fn new(d: &commands::read_models::DueView, now: Timestamp) -> Self {
        DueRow {
            label: d.kind.label(),
            due: when(&d.due_at),
            overdue: d.overdue || d.due_at <= now,
            child: d.child.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            child_id: d.child.as_ref().map(|c| c.id.0).unwrap_or(0),
            referral: d.referral.map(|r| (r.0, r.reference())),
        }
    }
}

/// What was typed into the record page's forms (kept when a form is refused).
#[derive(Debug, Default)]
pub(super) struct RecordForms {
    /// The case note's text.
    pub(super) note: String,
    /// The closure reason.
    pub(super) close_reason: String,
    /// Errors, named `note.text` and `close.reason`.
    pub(super) errors: FormErrors,
}

/// A merge this record took part in, for the banner at the top.
struct MergeNote {
    text: String,
    person: i64,
    pair: i64,
}

#[derive(askama::Template)]
#[template(path = "person_record.html")]
struct RecordPage {
    layout: Layout,
    errors: FormErrors,
    merges: Vec<MergeNote>,
    can_review: bool,
    /// Managers may see who has viewed and changed the record.
    can_see_access: bool,
    id: i64,
    name: String,
    reference: String,
    details: Vec<SummaryRow>,
    aliases: Vec<String>,
    addresses: Vec<AddressRow>,
    relationships: Vec<RelationshipRow>,
    current: Option<CurrentCase>,
    cases: Vec<CaseRow>,
    chronology: Vec<ChronoRow>,
    can_refer: bool,
    can_threshold: bool,
    can_concern: bool,
    escalations: Vec<super::escalations::EscalationRow>,
    flags: Vec<FlagRow>,
    due: Vec<DueRow>,
    note: Field,
    close_reason: Field,
}

async fn record(
    State(state): State<AppState>,
    user: PageUser,
    origin: Origin,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let id = PersonId(path_id(&id, "person")?);
    let page = record_page(&state, &user, id, RecordForms::default(), q.done.as_deref()).await?;
    // Recorded once the record was read (a refusal or a missing record writes nothing)
    // and before it is shown: no one sees a record that is not on the trail.
    state.svc.record_read(&user.actor, &id.subject(), Event::RecordViewed { person: id, read: origin.page() }).await?;
    Ok(page)
}

/// Renders a person's record; with errors in `forms`, as a refused form (422).
pub(super) async fn record_page(
    state: &AppState,
    user: &PageUser,
    id: PersonId,
    forms: RecordForms,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let svc = &state.svc;
    let r = svc.child_record(actor, id).await?;
    let now = svc.now();
    let due = svc.due_for_child(actor, id).await?;
    // The assessment can be completed while its clock is still running.
    let assessment_due = due.iter().any(|d| d.kind == domain::timer::TimerKind::AssessmentDue);
    let practice = svc.practice_history(actor, id).await?;
    let policy = svc.current_policy().await?.1;
    let mut merges = vec![];
    for m in svc.merges_of(actor, id).await? {
        let other = if m.person_a == id { m.person_b } else { m.person_a };
        let name = match svc.person(actor, other).await {
            Ok(p) => p.full_name(),
            Err(_) => other.reference(),
        };
        let text = if m.kept == Some(id) {
            format!("{} {name} was merged into this record on {}", other.reference(), when_opt(&m.decided_at))
        } else {
            format!(
                "This record was merged into {} {name} on {}: read that record for this child",
                other.reference(),
                when_opt(&m.decided_at)
            )
        };
        merges.push(MergeNote { text, person: other.0, pair: m.id.0 });
    }
    let flags = svc
        .flags(actor, id)
        .await?
        .iter()
        .map(|f| FlagRow {
            label: f.flag.label(),
            rule: f.flag.rule(&policy),
            raised: when(&f.raised_at),
            evidence: f.evidence.clone(),
        })
        .collect();
    let escalations = svc
        .child_escalations(actor, id)
        .await?
        .iter()
        .map(|e| super::escalations::EscalationRow::new(e, svc.calendar(), now))
        .collect();
    let current = r.cases.iter().find(|c| c.closed_at.is_none()).map(|c| CurrentCase {
        id: c.id.0,
        reference: c.id.reference(),
        team: c.team.name.clone(),
        stage: c.stage.label(),
        opened: when(&c.opened_at),
        worker: c.worker.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
        allocated_at: when_opt(&c.allocated_at),
        last_seen: when_opt(&c.last_seen_at),
        last_seen_alone: when_opt(&c.last_seen_alone_at),
        can_visit: permits(actor.role, Action::RecordVisit)
            && (actor.role.is_manager() || c.worker.as_ref().is_some_and(|w| w.id == actor.staff)),
        can_allocate: permits(actor.role, Action::AllocateCase),
        can_note: permits(actor.role, Action::AddCaseNote),
        can_close: permits(actor.role, Action::CloseCase),
        can_plan: actor.role.is_manager(),
        can_review: actor.role.is_manager() && c.stage == domain::case::Stage::Cp,
        can_assess: assessment_due
            && (actor.role.is_manager() || c.worker.as_ref().is_some_and(|w| w.id == actor.staff)),
    });
    let invalid = forms.errors.any();
    let page = RecordPage {
        layout: Layout::load(state, user, "/people").await?.with_notice(done),
        id: id.0,
        name: r.person.full_name(),
        reference: id.reference(),
        details: details(&r.person),
        aliases: r.aliases.iter().map(|a| format!("{} {}", a.given_name, a.family_name)).collect(),
        addresses: r
            .addresses
            .iter()
            .map(|a| AddressRow {
                text: [Some(a.line.clone()), a.town.clone(), a.postcode.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                dates: match (a.from, a.to) {
                    (Some(f), Some(t)) => format!("{} to {}", super::day(&f), super::day(&t)),
                    (Some(f), None) => format!("since {}", super::day(&f)),
                    (None, Some(t)) => format!("until {}", super::day(&t)),
                    (None, None) => String::new(),
                },
                current: a.to.is_none(),
            })
            .collect(),
        relationships: r
            .relationships
            .iter()
            .map(|rel| RelationshipRow {
                other_id: rel.other.id.0,
                other: rel.other.name.clone(),
                text: if rel.other_is_subject {
                    format!("{} is {} {}", rel.other.name, rel.kind.label(), r.person.given_name)
                } else {
                    format!("{} is {} {}", r.person.given_name, rel.kind.label(), rel.other.name)
                },
            })
            .collect(),
        current,
        cases: r
            .cases
            .iter()
            .map(|c| CaseRow {
                reference: c.id.reference(),
                team: c.team.name.clone(),
                stage: c.stage.label(),
                opened: when(&c.opened_at),
                closed: when_opt(&c.closed_at),
                closure_reason: c.closure_reason.clone().unwrap_or_default(),
                worker: c.worker.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
            })
            .collect(),
        chronology: chronology(&r, &practice),
        merges,
        can_review: permits(actor.role, Action::ReviewDuplicates),
        can_see_access: permits(actor.role, Action::ViewRecordAccess),
        can_refer: permits(actor.role, Action::CreateReferral),
        can_threshold: actor.role.is_manager(),
        can_concern: permits(actor.role, Action::CreateReferral),
        escalations,
        flags,
        due: due.iter().map(|d| DueRow::new(d, now)).collect(),
        // The ids carry the form's prefix so the two forms on the page never share an id.
        note: Field {
            name: "text".into(),
            id: FormErrors::anchor("note.text"),
            error: forms.errors.get("note.text").into(),
            values: vec![forms.note],
        },
        close_reason: Field {
            name: "reason".into(),
            id: FormErrors::anchor("close.reason"),
            error: forms.errors.get("close.reason").into(),
            values: vec![forms.close_reason],
        },
        errors: forms.errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

fn details(p: &PersonView) -> Vec<SummaryRow> {
    vec![
        SummaryRow { key: "Name", value: p.full_name() },
        SummaryRow { key: "Date of birth", value: dob_text(&p.dob) },
        SummaryRow { key: "Sex", value: sex_text(p.sex).into() },
        SummaryRow {
            key: "NHS number",
            value: p.nhs_number.as_deref().map(nhs_text).unwrap_or_else(|| "Not recorded".into()),
        },
        SummaryRow { key: "Unique pupil number", value: p.upn.clone().unwrap_or_else(|| "Not recorded".into()) },
        SummaryRow { key: "Reference", value: p.id.reference() },
    ]
}

/// Every event on the record in one list, oldest first: what a reviewer reads to see
/// the whole history at once.
fn chronology(r: &ChildRecord, practice: &PracticeHistory) -> Vec<ChronoRow> {
    let mut rows = vec![];
    let mut push = |at: Timestamp,
                    order: u8,
                    kind: &'static str,
                    tag: &'static str,
                    summary: String,
                    detail: String,
                    href: String,
                    by: String| {
        rows.push(ChronoRow { at, order, when: when(&at), kind, tag, summary, detail, href, by });
    };
    for f in &r.referrals {
        let categories = super::referrals::categories_text(&f.categories);
        let source = super::referrals::source_label(f.source);
        let from = match &f.referrer {
            Some(who) => format!("{source} ({who})"),
            None => source.to_string(),
        };
        push(
            f.received_at,
            0,
            "Referral",
            "tag--grey",
            format!("{} received from {from}; concern: {categories}", f.id.reference()),
            f.concern.clone(),
            format!("/referrals/{}", f.id.0),
            f.recorded_by.name.clone(),
        );
        if let (Some(d), Some(at)) = (f.decision, f.decided_at) {
            push(
                at,
                1,
                "Decision",
                "tag--yellow",
                format!("{}: {}", f.id.reference(), d.label()),
                f.decision_reason.clone().unwrap_or_default(),
                format!("/referrals/{}", f.id.0),
                f.decided_by.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
            );
        }
    }
    for s in &r.stages {
        let closure = r.cases.iter().find(|c| c.id == s.case).and_then(|c| c.closure_reason.clone());
        let detail = match (s.stage, closure) {
            (domain::case::Stage::Closed, Some(why)) => why,
            _ => s.category.clone().unwrap_or_default(),
        };
        push(
            s.started_at,
            2,
            "Stage",
            "",
            format!("{}: {}", s.case.reference(), s.stage.label()),
            detail,
            String::new(),
            String::new(),
        );
    }
    for a in &r.allocations {
        let detail = a.override_reason.as_ref().map(|why| format!("Over the caseload cap: {why}")).unwrap_or_default();
        push(
            a.from_at,
            3,
            "Allocation",
            "",
            format!("{} allocated to {}", a.case.reference(), a.worker.name),
            detail,
            String::new(),
            a.allocated_by.name.clone(),
        );
    }
    for v in &r.visits {
        let tag = match v.outcome {
            VisitOutcome::SeenAlone => "tag--green",
            VisitOutcome::Seen => "",
            VisitOutcome::NotSeen => "tag--orange",
            VisitOutcome::NoAccess => "tag--red",
        };
        push(
            v.visited_at,
            4,
            "Visit",
            tag,
            v.outcome.label().to_string(),
            v.note.clone().unwrap_or_default(),
            String::new(),
            v.by.name.clone(),
        );
    }
    for n in &r.notes {
        push(
            n.written_at,
            5,
            "Case note",
            "tag--grey",
            n.case.reference(),
            n.body.clone(),
            String::new(),
            n.author.name.clone(),
        );
    }
    for c in &practice.concerns {
        push(
            c.received_at,
            0,
            "Concern",
            "tag--orange",
            format!(
                "From {}; concern: {}",
                super::referrals::source_label(c.source).to_lowercase(),
                super::referrals::categories_text(&c.categories)
            ),
            c.concern.clone(),
            String::new(),
            c.by.name.clone(),
        );
    }
    for d in &practice.decisions {
        let forum = match d.forum {
            Forum::StrategyDiscussion => "strategy discussion (s47 threshold)",
            Forum::LegalGateway => "legal gateway (proceedings threshold)",
        };
        let outcome = match d.outcome {
            ThresholdOutcome::Met => "met",
            ThresholdOutcome::NotMet => "not met",
        };
        let mut summary = format!("Threshold {outcome} at a {forum}");
        if let Some(review) = d.review_by {
            summary.push_str(&format!("; review by {}", super::day(&review)));
        }
        if d.cooperation_noted {
            summary.push_str("; the family’s cooperation was a reason");
        }
        push(
            d.decided_at,
            1,
            "Threshold decision",
            "tag--yellow",
            summary,
            d.reason.clone(),
            String::new(),
            d.by.name.clone(),
        );
    }
    for st in &practice.steps {
        let what = match st.kind.as_str() {
            "s47_strategy_discussion" => "Strategy discussion: a section 47 enquiry started",
            "strategy_discussion" => "Strategy discussion: no section 47 enquiry",
            "icpc" => "Initial child protection conference",
            "review_conference" => "Review child protection conference",
            "assessment_completed" => "Assessment completed",
            other => other,
        };
        push(
            st.at,
            2,
            "Step",
            "",
            format!("{}: {what}", st.case.reference()),
            String::new(),
            String::new(),
            st.by.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
        );
    }
    rows.sort_by_key(|r| (r.at, r.order));
    rows
}
