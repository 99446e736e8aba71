//! The statutory steps of a case as commands: plans, strategy discussions, conferences,
//! assessments, threshold decisions and new concerns. Each starts or stops timers.

use crate::executor::{Command, Decided, Load};
use crate::input::parse_moment;
use crate::{Caller, Result, Service, not_found};
use domain::authz::{Action, Actor};
use domain::ids::{CaseId, PersonId};
use domain::person::parse_date;
use domain::practice::{self, Forum, Plan, ThresholdDecision, ThresholdOutcome};
use domain::referral::{Category, ReferralSource, parse_categories};
use domain::text::{ConcernText, Reason};
use domain::{FieldErrors, Rejection};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

/// A plan starting, as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PlanInput {
    /// cin, cp or lac.
    #[serde(default)]
    pub plan: String,
    /// For CP plans: physical, neglect, sexual or emotional.
    #[serde(default)]
    pub category: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<String>,
}

/// A strategy discussion as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StrategyDiscussionInput {
    /// Whether it started a s47 enquiry.
    #[serde(default)]
    pub s47: bool,
    /// When (default now).
    #[serde(default)]
    pub at: Option<String>,
}

/// A step that only needs a time (conferences, assessment completion).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct WhenInput {
    /// When (default now).
    #[serde(default)]
    pub at: Option<String>,
}

/// A threshold decision as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ThresholdInput {
    /// strategy_discussion or legal_gateway.
    #[serde(default)]
    pub forum: String,
    /// met or not_met.
    #[serde(default)]
    pub outcome: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// Whether the family's cooperation was a reason.
    #[serde(default)]
    pub cooperation_noted: bool,
    /// When it must be reviewed (needed when not met).
    #[serde(default)]
    pub review_by: Option<String>,
}

/// A new concern as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ConcernInput {
    /// Where it came from.
    #[serde(default)]
    pub source: String,
    /// What it is.
    #[serde(default)]
    pub concern: String,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// When it was received (default now).
    #[serde(default)]
    pub received_at: Option<String>,
}

/// A moment given as input: now when left out; never in the future.
fn moment(raw: &Option<String>, field: &str, now: Timestamp, errors: &mut FieldErrors) -> Option<Timestamp> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(now),
        Some(s) => {
            let t = errors.field(field, parse_moment(s))?;
            if t > now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now) {
                errors.push(field, "cannot be in the future");
                return None;
            }
            Some(t)
        }
    }
}

/// A statutory step on a case, as the trail names it.
enum Step<'a> {
    Plan(&'a PlanInput),
    Strategy(&'a StrategyDiscussionInput),
    Icpc(&'a WhenInput),
    Review(&'a WhenInput),
}

/// The domain's rule for a step, its fields already checked: the case in, the events out.
type StepRule<'a> =
    dyn FnOnce(&domain::case::CaseState) -> std::result::Result<Vec<domain::event::Event>, Rejection> + Send + 'a;

/// Records a statutory step on a case: a plan starting, a strategy discussion, a
/// conference.
struct CaseStep<'a> {
    case: CaseId,
    step: Step<'a>,
}

impl Command for CaseStep<'_> {
    type Output = ();
    const ACTION: &'static str = "case.step";

    fn action(&self) -> String {
        match self.step {
            Step::Plan(_) => "case.start_plan",
            Step::Strategy(_) => "case.strategy_discussion",
            Step::Icpc(_) => "case.icpc",
            Step::Review(_) => "case.review_conference",
        }
        .to_string()
    }

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ViewChildRecords)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, now) = (load.actor()?, load.now());
        let mut errors = FieldErrors::new();
        // Each step's fields are checked before the case is read.
        let step: Box<StepRule<'_>> = match self.step {
            Step::Plan(input) => {
                let plan = errors.field("plan", Plan::parse(&input.plan));
                let category: Option<Category> =
                    match input.category.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                        Some(c) => errors.field("category", Category::parse(c)),
                        None => None,
                    };
                let at = moment(&input.at, "at", now, &mut errors);
                errors.finish()?;
                let (Some(plan), Some(at)) = (plan, at) else {
                    return Err(Rejection::invalid("plan", "missing").into());
                };
                Box::new(move |c| practice::start_plan(c, plan, category, actor, at))
            }
            Step::Strategy(input) => {
                let at = moment(&input.at, "at", now, &mut errors);
                errors.finish()?;
                let at = at.ok_or_else(|| Rejection::invalid("at", "missing"))?;
                let s47 = input.s47;
                Box::new(move |c| practice::strategy_discussion(c, s47, actor, at))
            }
            Step::Icpc(input) => {
                let at = moment(&input.at, "at", now, &mut errors);
                errors.finish()?;
                let at = at.ok_or_else(|| Rejection::invalid("at", "missing"))?;
                Box::new(move |c| practice::icpc(c, actor, at))
            }
            Step::Review(input) => {
                let at = moment(&input.at, "at", now, &mut errors);
                errors.finish()?;
                let at = at.ok_or_else(|| Rejection::invalid("at", "missing"))?;
                Box::new(move |c| practice::review_conference(c, actor, at))
            }
        };
        let case = self.case;
        let state = load.case_state(case).await?.ok_or_else(|| not_found(case.reference()))?;
        Ok(Decided::new(case.subject(), step(&state)?, ()))
    }
}

/// Completes the assessment (the allocated worker or a manager).
struct CompleteAssessment<'a> {
    case: CaseId,
    input: &'a WhenInput,
}

impl Command for CompleteAssessment<'_> {
    type Output = ();
    const ACTION: &'static str = "case.complete_assessment";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ViewChildRecords)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, case) = (load.actor()?, self.case);
        let mut errors = FieldErrors::new();
        let at = moment(&self.input.at, "at", load.now(), &mut errors);
        errors.finish()?;
        let at = at.ok_or_else(|| Rejection::invalid("at", "missing"))?;
        let state = load.case_state(case).await?.ok_or_else(|| not_found(case.reference()))?;
        let done = load.case_times(state.child).await?.is_some_and(|t| t.assessment_completed_at.is_some());
        let events = practice::complete_assessment(&state, done, actor, at)?;
        Ok(Decided::new(case.subject(), events, ()))
    }
}

/// Records a threshold decision about a child (a manager).
struct RecordThresholdDecision<'a> {
    child: PersonId,
    input: &'a ThresholdInput,
}

impl Command for RecordThresholdDecision<'_> {
    type Output = i64;
    const ACTION: &'static str = "person.threshold_decision";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ViewChildRecords)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<i64>> {
        let (actor, child, input) = (load.actor()?, self.child, self.input);
        let mut errors = FieldErrors::new();
        let forum = errors.field("forum", Forum::parse(&input.forum));
        let outcome = errors.field("outcome", ThresholdOutcome::parse(&input.outcome));
        let reason = errors.field("reason", Reason::parse(&input.reason));
        let review_by = match input.review_by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => errors.field("review_by", parse_date(d)),
            None => None,
        };
        errors.finish()?;
        let (Some(forum), Some(outcome), Some(reason)) = (forum, outcome, reason) else {
            return Err(Rejection::invalid("forum", "missing").into());
        };
        if !load.person_exists(child).await? {
            return Err(not_found(child.reference()));
        }
        let id = load.next_id("threshold_decision").await?;
        let d = ThresholdDecision { forum, outcome, reason, cooperation_noted: input.cooperation_noted, review_by };
        let events = practice::threshold_decision(child, id, d, actor, load.now(), load.today())?;
        Ok(Decided::new(child.subject(), events, id))
    }
}

/// Records a new concern about a known child (practice staff and partners).
struct RecordConcern<'a> {
    child: PersonId,
    input: &'a ConcernInput,
}

impl Command for RecordConcern<'_> {
    type Output = i64;
    const ACTION: &'static str = "person.record_concern";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::CreateReferral)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<i64>> {
        let (actor, child, input) = (load.actor()?, self.child, self.input);
        let mut errors = FieldErrors::new();
        let source = errors.field("source", ReferralSource::parse(&input.source));
        let text = errors.field("concern", ConcernText::parse(&input.concern));
        let categories = errors.field("categories", parse_categories(&input.categories));
        let at = moment(&input.received_at, "received_at", load.now(), &mut errors);
        errors.finish()?;
        let (Some(source), Some(text), Some(categories), Some(at)) = (source, text, categories, at) else {
            return Err(Rejection::invalid("concern", "missing").into());
        };
        if !load.person_exists(child).await? {
            return Err(not_found(child.reference()));
        }
        let id = load.next_id("concern").await?;
        let events = practice::concern(child, id, source, text, categories, actor, at)?;
        Ok(Decided::new(child.subject(), events, id))
    }
}

impl Service {
    /// Starts a plan on a case (a manager).
    pub async fn start_plan(&self, actor: &Actor, case: CaseId, input: &PlanInput) -> Result<()> {
        self.execute(Caller::Staff(actor), CaseStep { case, step: Step::Plan(input) }).await
    }

    /// Records a strategy discussion (a manager); with s47 it starts the ICPC clock.
    pub async fn strategy_discussion(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &StrategyDiscussionInput,
    ) -> Result<()> {
        self.execute(Caller::Staff(actor), CaseStep { case, step: Step::Strategy(input) }).await
    }

    /// Records the initial child protection conference (a manager).
    pub async fn icpc(&self, actor: &Actor, case: CaseId, input: &WhenInput) -> Result<()> {
        self.execute(Caller::Staff(actor), CaseStep { case, step: Step::Icpc(input) }).await
    }

    /// Records a review child protection conference (a manager).
    pub async fn review_conference(&self, actor: &Actor, case: CaseId, input: &WhenInput) -> Result<()> {
        self.execute(Caller::Staff(actor), CaseStep { case, step: Step::Review(input) }).await
    }

    /// Completes the assessment (the allocated worker or a manager).
    pub async fn complete_assessment(&self, actor: &Actor, case: CaseId, input: &WhenInput) -> Result<()> {
        self.execute(Caller::Staff(actor), CompleteAssessment { case, input }).await
    }

    /// Records a threshold decision about a child (a manager); the decision's id.
    pub async fn threshold_decision(&self, actor: &Actor, child: PersonId, input: &ThresholdInput) -> Result<i64> {
        self.execute(Caller::Staff(actor), RecordThresholdDecision { child, input }).await
    }

    /// Records a new concern about a known child (practice staff and partners).
    pub async fn record_concern(&self, actor: &Actor, child: PersonId, input: &ConcernInput) -> Result<i64> {
        self.execute(Caller::Staff(actor), RecordConcern { child, input }).await
    }
}
