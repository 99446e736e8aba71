//! The statutory steps as forms: starting a plan, a strategy discussion, the initial and
//! review conferences, completing the assessment, a threshold decision and a new concern.
//! Each goes back to the child's record with a banner; each starts or stops the clocks
//! that escalate when a timescale is missed.

use super::cases::{CaseSummary, case_id};
use super::referrals::{category_label, source_label};
use super::{Choice, Field, FormErrors, Layout, path_id, render, render_invalid, see_other};
use crate::{AppState, PageError, PageUser};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum_extra::extract::Form;
use commands::practice::{ConcernInput, PlanInput, StrategyDiscussionInput, ThresholdInput, WhenInput};
use domain::Rejection;
use domain::authz::{Action, require};
use domain::ids::{CaseId, PersonId};
use domain::practice::{Forum, Plan, ThresholdOutcome};
use domain::referral::{Category, ReferralSource};
use domain::staff::Role;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/plan", get(plan_form).post(plan))
        .route("/cases/{id}/strategy-discussion", get(strategy_form).post(strategy))
        .route("/cases/{id}/icpc", get(icpc_form).post(icpc))
        .route("/cases/{id}/review-conference", get(review_form).post(review))
        .route("/cases/{id}/assessment-complete", get(assessment_form).post(assessment))
        .route("/people/{id}/threshold-decision", get(threshold_form).post(threshold))
        .route("/people/{id}/concerns", get(concern_form).post(concern))
}

const AT_HINT: &str = "Date and time, for example 2026-03-02T09:30. Leave empty if it was just now.";

/// Who may take a step on a case, as the commands check.
#[derive(Clone, Copy)]
enum Who {
    /// A team manager or above.
    Manager,
    /// The allocated worker or a manager.
    WorkerOrManager,
}

/// The case a step is about, refused up front when the step cannot go through (someone
/// not allowed, a closed case) so nobody fills in a form for nothing.
async fn step_case(
    state: &AppState,
    user: &PageUser,
    id: CaseId,
    who: Who,
    what: &str,
) -> Result<CaseSummary, PageError> {
    let actor = &user.actor;
    let case = state.svc.case(actor, id).await?;
    let allowed = match who {
        Who::Manager => actor.role.is_manager(),
        Who::WorkerOrManager => actor.role.is_manager() || case.worker.as_ref().is_some_and(|w| w.id == actor.staff),
    };
    if !allowed {
        let by = match who {
            Who::Manager => "a team manager or above",
            Who::WorkerOrManager => "the allocated worker or a manager",
        };
        return Err(Rejection::Forbidden(format!("only {by} can {what}")).into());
    }
    if case.closed_at.is_some() {
        return Err(Rejection::Conflict { field: None, message: format!("case {} is closed", id.reference()) }.into());
    }
    Ok(CaseSummary::new(&case))
}

fn done(child: i64, flag: &str) -> Response {
    see_other(&format!("/people/{child}?done={flag}"))
}

// ------------------------------------------------------------------ plan

#[derive(Debug, Deserialize, Default)]
struct PlanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    at: String,
}

#[derive(askama::Template)]
#[template(path = "step_plan.html")]
struct PlanPage {
    layout: Layout,
    errors: FormErrors,
    case: CaseSummary,
    plan: Field,
    plans: Vec<Choice>,
    category: Field,
    categories: Vec<Choice>,
    at: Field,
}

fn plan_label(p: Plan) -> (&'static str, &'static str) {
    match p {
        Plan::Cin => ("Child in need plan", "Section 17: the child is seen at least every 20 working days"),
        Plan::Cp => {
            ("Child protection plan", "The child is seen at least every 10 working days; needs a category of abuse")
        }
        Plan::Lac => ("Looked after", "The child is seen within a week, then at least every 6 weeks"),
    }
}

async fn plan_page(
    state: &AppState,
    user: &PageUser,
    id: CaseId,
    form: &PlanForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let case = step_case(state, user, id, Who::Manager, "start a plan").await?;
    let invalid = errors.any();
    let page = PlanPage {
        layout: Layout::load(state, user, "/people").await?,
        case,
        plan: Field::new("plan", &form.plan, &errors),
        plans: Plan::ALL
            .iter()
            .map(|p| {
                let (label, hint) = plan_label(*p);
                Choice::with_hint(p.code(), label, hint)
            })
            .collect(),
        category: Field::new("category", &form.category, &errors),
        categories: Category::ALL.iter().map(|c| Choice::new(c.code(), category_label(*c))).collect(),
        at: Field::new("at", &form.at, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn plan_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    plan_page(&state, &user, case_id(&id)?, &PlanForm::default(), FormErrors::default()).await
}

async fn plan(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(&id)?;
    let input = PlanInput { plan: form.plan.clone(), category: Some(form.category.clone()), at: Some(form.at.clone()) };
    match state.svc.start_plan(&user.actor, id, &input).await {
        Ok(()) => Ok(done(state.svc.case(&user.actor, id).await?.child.id.0, "plan")),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["plan", "category", "at"])?.explain_blank(
                "plan",
                &form.plan,
                "choose a plan",
            );
            plan_page(&state, &user, id, &form, errors).await
        }
    }
}

// ------------------------------------------------------------------ strategy discussion

#[derive(Debug, Deserialize, Default)]
struct StrategyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    s47: String,
    #[serde(default)]
    at: String,
}

#[derive(askama::Template)]
#[template(path = "step_strategy.html")]
struct StrategyPage {
    layout: Layout,
    errors: FormErrors,
    case: CaseSummary,
    s47: Field,
    answers: Vec<Choice>,
    at: Field,
}

async fn strategy_page(
    state: &AppState,
    user: &PageUser,
    id: CaseId,
    form: &StrategyForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let case = step_case(state, user, id, Who::Manager, "record a strategy discussion").await?;
    let invalid = errors.any();
    let page = StrategyPage {
        layout: Layout::load(state, user, "/people").await?,
        case,
        s47: Field::new("s47", &form.s47, &errors),
        answers: vec![
            Choice::with_hint("yes", "Yes", "Starts the 15 working days to the initial child protection conference"),
            Choice::new("no", "No"),
        ],
        at: Field::new("at", &form.at, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn strategy_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    strategy_page(&state, &user, case_id(&id)?, &StrategyForm::default(), FormErrors::default()).await
}

/// A time typed into an optional "when" field that cannot be read, for forms whose other
/// field the page checks itself (so every wrong field is reported at once).
fn at_error(at: &str, errors: &mut FormErrors) {
    if !at.trim().is_empty()
        && let Err(message) = commands::input::parse_moment(at)
    {
        errors.0.push(domain::FieldError::new("at", message));
    }
}

async fn strategy(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<StrategyForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(&id)?;
    // The command takes a yes/no switch; on the page leaving it unanswered is a mistake.
    let s47 = match form.s47.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            let mut errors = FormErrors(vec![domain::FieldError::new(
                "s47",
                "choose whether the discussion started a section 47 enquiry",
            )]);
            at_error(&form.at, &mut errors);
            return strategy_page(&state, &user, id, &form, errors).await;
        }
    };
    let input = StrategyDiscussionInput { s47, at: Some(form.at.clone()) };
    match state.svc.strategy_discussion(&user.actor, id, &input).await {
        Ok(()) => Ok(done(state.svc.case(&user.actor, id).await?.child.id.0, "strategy")),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["at"])?;
            strategy_page(&state, &user, id, &form, errors).await
        }
    }
}

// ------------------------------------------------------------------ steps that need only a time

/// A step recorded with only its time.
#[derive(Clone, Copy)]
enum WhenStep {
    Icpc,
    Review,
    Assessment,
}

impl WhenStep {
    fn path(self) -> &'static str {
        match self {
            WhenStep::Icpc => "icpc",
            WhenStep::Review => "review-conference",
            WhenStep::Assessment => "assessment-complete",
        }
    }

    fn who(self) -> Who {
        match self {
            WhenStep::Icpc | WhenStep::Review => Who::Manager,
            WhenStep::Assessment => Who::WorkerOrManager,
        }
    }

    fn what(self) -> &'static str {
        match self {
            WhenStep::Icpc | WhenStep::Review => "record a conference",
            WhenStep::Assessment => "complete the assessment",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            WhenStep::Icpc => "Record the initial child protection conference",
            WhenStep::Review => "Record a review child protection conference",
            WhenStep::Assessment => "Complete the assessment",
        }
    }

    fn intro(self) -> &'static str {
        match self {
            WhenStep::Icpc => {
                "The conference decides whether the child needs a child protection plan. Recording it stops the conference clock; start the plan separately."
            }
            WhenStep::Review => "Recording it sets when the next review conference is due.",
            WhenStep::Assessment => "Recording it stops the assessment clock (45 working days from the referral).",
        }
    }

    fn label(self) -> &'static str {
        match self {
            WhenStep::Icpc | WhenStep::Review => "When was the conference (optional)",
            WhenStep::Assessment => "When was the assessment completed (optional)",
        }
    }

    fn button(self) -> &'static str {
        match self {
            WhenStep::Icpc | WhenStep::Review => "Record conference",
            WhenStep::Assessment => "Complete assessment",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            WhenStep::Icpc => "icpc",
            WhenStep::Review => "review",
            WhenStep::Assessment => "assessment",
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct WhenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    at: String,
}

#[derive(askama::Template)]
#[template(path = "step_when.html")]
struct WhenPage {
    layout: Layout,
    errors: FormErrors,
    case: CaseSummary,
    path: &'static str,
    heading: &'static str,
    intro: &'static str,
    label: &'static str,
    button: &'static str,
    at_hint: &'static str,
    at: Field,
}

async fn when_page(
    state: &AppState,
    user: &PageUser,
    id: CaseId,
    step: WhenStep,
    at: &str,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let case = step_case(state, user, id, step.who(), step.what()).await?;
    let invalid = errors.any();
    let page = WhenPage {
        layout: Layout::load(state, user, "/people").await?,
        case,
        path: step.path(),
        heading: step.heading(),
        intro: step.intro(),
        label: step.label(),
        button: step.button(),
        at_hint: AT_HINT,
        at: Field::new("at", at, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn when_step(
    state: &AppState,
    user: &PageUser,
    raw_id: &str,
    step: WhenStep,
    form: WhenForm,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = case_id(raw_id)?;
    let input = WhenInput { at: Some(form.at.clone()) };
    let svc = &state.svc;
    let result = match step {
        WhenStep::Icpc => svc.icpc(&user.actor, id, &input).await,
        WhenStep::Review => svc.review_conference(&user.actor, id, &input).await,
        WhenStep::Assessment => svc.complete_assessment(&user.actor, id, &input).await,
    };
    match result {
        Ok(()) => Ok(done(svc.case(&user.actor, id).await?.child.id.0, step.flag())),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["at"])?;
            when_page(state, user, id, step, &form.at, errors).await
        }
    }
}

async fn icpc_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    when_page(&state, &user, case_id(&id)?, WhenStep::Icpc, "", FormErrors::default()).await
}

async fn icpc(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<WhenForm>,
) -> Result<Response, PageError> {
    when_step(&state, &user, &id, WhenStep::Icpc, form).await
}

async fn review_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    when_page(&state, &user, case_id(&id)?, WhenStep::Review, "", FormErrors::default()).await
}

async fn review(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<WhenForm>,
) -> Result<Response, PageError> {
    when_step(&state, &user, &id, WhenStep::Review, form).await
}

async fn assessment_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    when_page(&state, &user, case_id(&id)?, WhenStep::Assessment, "", FormErrors::default()).await
}

async fn assessment(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<WhenForm>,
) -> Result<Response, PageError> {
    when_step(&state, &user, &id, WhenStep::Assessment, form).await
}

// ------------------------------------------------------------------ about a child

/// The child a decision or concern is about, as the form's heading shows them.
struct ChildSummary {
    id: i64,
    name: String,
    reference: String,
}

async fn child(state: &AppState, user: &PageUser, raw: &str) -> Result<ChildSummary, PageError> {
    let id = PersonId(path_id(raw, "person")?);
    let p = state.svc.person(&user.actor, id).await?;
    Ok(ChildSummary { id: id.0, name: p.full_name(), reference: id.reference() })
}

#[derive(Debug, Deserialize, Default)]
struct ThresholdForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    forum: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    cooperation_noted: Option<String>,
    #[serde(default)]
    review_by: String,
}

#[derive(askama::Template)]
#[template(path = "step_threshold.html")]
struct ThresholdPage {
    layout: Layout,
    errors: FormErrors,
    child: ChildSummary,
    forum: Field,
    forums: Vec<Choice>,
    outcome: Field,
    outcomes: Vec<Choice>,
    reason: Field,
    cooperation_noted: Field,
    cooperation: Vec<Choice>,
    review_by: Field,
}

async fn threshold_page(
    state: &AppState,
    user: &PageUser,
    raw: &str,
    form: &ThresholdForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    if !user.actor.role.is_manager() {
        return Err(Rejection::Forbidden("only a team manager or above can record a threshold decision".into()).into());
    }
    let child = child(state, user, raw).await?;
    let invalid = errors.any();
    let page = ThresholdPage {
        layout: Layout::load(state, user, "/people").await?,
        child,
        forum: Field::new("forum", &form.forum, &errors),
        forums: vec![
            Choice::with_hint(
                Forum::StrategyDiscussion.code(),
                "Strategy discussion",
                "The threshold for a section 47 enquiry",
            ),
            Choice::with_hint(
                Forum::LegalGateway.code(),
                "Legal gateway (PLO) meeting",
                "The threshold for care proceedings",
            ),
        ],
        outcome: Field::new("outcome", &form.outcome, &errors),
        outcomes: vec![
            Choice::new(ThresholdOutcome::Met.code(), "Met"),
            Choice::with_hint(
                ThresholdOutcome::NotMet.code(),
                "Not met",
                "Needs a review date; a new concern within 6 months goes to the service manager",
            ),
        ],
        reason: Field::new("reason", &form.reason, &errors),
        cooperation_noted: Field::new("cooperation_noted", form.cooperation_noted.as_deref().unwrap_or(""), &errors),
        cooperation: vec![Choice::with_hint(
            "yes",
            "The family’s cooperation was one of the reasons",
            "If concerns keep coming after this, the record flags possible disguised compliance",
        )],
        review_by: Field::new("review_by", &form.review_by, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn threshold_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    threshold_page(&state, &user, &id, &ThresholdForm::default(), FormErrors::default()).await
}

async fn threshold(
    State(state): State<AppState>,
    user: PageUser,
    Path(raw): Path<String>,
    Form(form): Form<ThresholdForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = PersonId(path_id(&raw, "person")?);
    let input = ThresholdInput {
        forum: form.forum.clone(),
        outcome: form.outcome.clone(),
        reason: form.reason.clone(),
        cooperation_noted: form.cooperation_noted.as_deref() == Some("yes"),
        review_by: Some(form.review_by.clone()),
    };
    match state.svc.threshold_decision(&user.actor, id, &input).await {
        Ok(_) => Ok(done(id.0, "threshold")),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["forum", "outcome", "reason", "review_by"])?
                .explain_blank("forum", &form.forum, "choose where the decision was made")
                .explain_blank("outcome", &form.outcome, "choose whether the threshold was met");
            threshold_page(&state, &user, &raw, &form, errors).await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
struct ConcernForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    concern: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    received_at: String,
}

#[derive(askama::Template)]
#[template(path = "step_concern.html")]
struct ConcernPage {
    layout: Layout,
    errors: FormErrors,
    child: ChildSummary,
    source: Field,
    sources: Vec<Choice>,
    concern: Field,
    categories: Field,
    category_choices: Vec<Choice>,
    received_at: Field,
}

async fn concern_page(
    state: &AppState,
    user: &PageUser,
    raw: &str,
    form: &ConcernForm,
    errors: FormErrors,
) -> Result<Response, PageError> {
    require(&user.actor, Action::CreateReferral)?;
    let child = child(state, user, raw).await?;
    let invalid = errors.any();
    let page = ConcernPage {
        layout: Layout::load(state, user, "/people").await?,
        child,
        source: Field::new("source", &form.source, &errors),
        sources: ReferralSource::ALL.iter().map(|s| Choice::new(s.code(), source_label(*s))).collect(),
        concern: Field::new("concern", &form.concern, &errors),
        categories: Field::many("categories", form.categories.clone(), &errors),
        category_choices: Category::ALL.iter().map(|c| Choice::new(c.code(), category_label(*c))).collect(),
        received_at: Field::new("received_at", &form.received_at, &errors),
        errors,
    };
    Ok(if invalid { render_invalid(&page) } else { render(&page) })
}

async fn concern_form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    concern_page(&state, &user, &id, &ConcernForm::default(), FormErrors::default()).await
}

async fn concern(
    State(state): State<AppState>,
    user: PageUser,
    Path(raw): Path<String>,
    Form(form): Form<ConcernForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let id = PersonId(path_id(&raw, "person")?);
    // Only those who may read the record record a concern from it (partners make referrals).
    if user.actor.role == Role::Partner {
        require(&user.actor, Action::ViewChildRecords)?;
    }
    let input = ConcernInput {
        source: form.source.clone(),
        concern: form.concern.clone(),
        categories: form.categories.clone(),
        received_at: Some(form.received_at.clone()),
    };
    match state.svc.record_concern(&user.actor, id, &input).await {
        Ok(_) => Ok(done(id.0, "concern")),
        Err(e) => {
            let errors = FormErrors::from_command_on(e, &["source", "concern", "categories", "received_at"])?
                .explain_blank("source", &form.source, "choose where the concern came from")
                .explain_blank("categories", &form.categories.concat(), "choose at least one category of concern");
            concern_page(&state, &user, &raw, &form, errors).await
        }
    }
}
