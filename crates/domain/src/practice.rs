//! The statutory steps of a case: plans, strategy discussions and s47 enquiries,
//! conferences, assessments, threshold decisions and new concerns.

use crate::authz::Actor;
use crate::case::{CaseState, Stage};
use crate::error::Rejection;
use crate::event::Event;
use crate::ids::PersonId;
use crate::referral::{Category, ReferralSource};
use crate::text::{ConcernText, Reason};
use jiff::Timestamp;
use jiff::civil::Date;

// Declared beside `Event`, which carries them, so events need not import the rules that emit them.
pub use crate::event::cases::{Forum, Plan, ThresholdOutcome};

fn require_open(case: &CaseState) -> Result<(), Rejection> {
    if case.is_open() {
        Ok(())
    } else {
        Err(Rejection::Conflict { field: None, message: format!("case {} is closed", case.id.reference()) })
    }
}

fn require_manager(by: &Actor, what: &str) -> Result<(), Rejection> {
    if by.role.is_manager() {
        Ok(())
    } else {
        Err(Rejection::Forbidden(format!("only a team manager or above can {what}")))
    }
}

/// Starts a plan (ending the one before, if any). A CP plan needs a category.
pub fn start_plan(
    case: &CaseState,
    plan: Plan,
    category: Option<Category>,
    by: &Actor,
    at: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    require_open(case)?;
    require_manager(by, "start a plan")?;
    if plan == Plan::Cp && category.is_none() {
        return Err(Rejection::invalid("category", "a child protection plan needs a category of abuse"));
    }
    if Plan::of_stage(case.stage) == Some(plan) {
        return Err(Rejection::conflict("plan", format!("the child is already on a {} plan", plan.code())));
    }
    let mut events = vec![];
    if let Some(previous) = Plan::of_stage(case.stage) {
        events.push(Event::PlanEnded { case: case.id, child: case.child, plan: previous, at });
    }
    events.push(Event::PlanStarted { case: case.id, child: case.child, plan, category, by: by.staff, at });
    Ok(events)
}

/// Records a strategy discussion; with `s47` it starts a s47 enquiry and the ICPC clock.
pub fn strategy_discussion(case: &CaseState, s47: bool, by: &Actor, at: Timestamp) -> Result<Vec<Event>, Rejection> {
    require_open(case)?;
    require_manager(by, "record a strategy discussion")?;
    Ok(vec![Event::StrategyDiscussionHeld { case: case.id, child: case.child, s47, by: by.staff, at }])
}

/// Records an initial child protection conference.
pub fn icpc(case: &CaseState, by: &Actor, at: Timestamp) -> Result<Vec<Event>, Rejection> {
    require_open(case)?;
    require_manager(by, "record a conference")?;
    Ok(vec![Event::IcpcHeld { case: case.id, child: case.child, by: by.staff, at }])
}

/// Records a review child protection conference.
pub fn review_conference(case: &CaseState, by: &Actor, at: Timestamp) -> Result<Vec<Event>, Rejection> {
    require_open(case)?;
    require_manager(by, "record a conference")?;
    if case.stage != Stage::Cp {
        return Err(Rejection::conflict("case", "review conferences are for children on a child protection plan"));
    }
    Ok(vec![Event::ReviewConferenceHeld { case: case.id, child: case.child, by: by.staff, at }])
}

/// Completes the assessment (by the allocated worker or a manager).
pub fn complete_assessment(
    case: &CaseState,
    already_completed: bool,
    by: &Actor,
    at: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    require_open(case)?;
    if case.worker != Some(by.staff) && !by.role.is_manager() {
        return Err(Rejection::Forbidden("only the allocated worker or a manager can complete the assessment".into()));
    }
    if already_completed {
        return Err(Rejection::conflict("case", "the assessment is already complete"));
    }
    Ok(vec![Event::AssessmentCompleted { case: case.id, child: case.child, by: by.staff, at }])
}

/// A threshold decision as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdDecision {
    /// Where.
    pub forum: Forum,
    /// Met or not.
    pub outcome: ThresholdOutcome,
    /// Why.
    pub reason: Reason,
    /// Whether the family's cooperation was a reason.
    pub cooperation_noted: bool,
    /// When it must be looked at again.
    pub review_by: Option<Date>,
}

/// Records a threshold decision. "Not met" needs a review date: a decision that the
/// family is below threshold must be looked at again, not forgotten.
pub fn threshold_decision(
    child: PersonId,
    id: i64,
    d: ThresholdDecision,
    by: &Actor,
    at: Timestamp,
    today: Date,
) -> Result<Vec<Event>, Rejection> {
    require_manager(by, "record a threshold decision")?;
    if d.outcome == ThresholdOutcome::NotMet && d.review_by.is_none() {
        return Err(Rejection::invalid("review_by", "a decision that the threshold is not met needs a review date"));
    }
    if d.review_by.is_some_and(|r| r < today) {
        return Err(Rejection::invalid("review_by", "the review date must be today or later"));
    }
    Ok(vec![Event::ThresholdDecisionRecorded {
        decision: id,
        child,
        forum: d.forum,
        outcome: d.outcome,
        reason: d.reason,
        cooperation_noted: d.cooperation_noted,
        review_by: d.review_by,
        by: by.staff,
        at,
    }])
}

/// Records a new concern about a child already known.
pub fn concern(
    child: PersonId,
    id: i64,
    source: ReferralSource,
    text: ConcernText,
    categories: Vec<Category>,
    by: &Actor,
    at: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    if !by.role.is_practice_staff() && by.role != crate::staff::Role::Partner {
        return Err(Rejection::Forbidden("only social care staff and partners can record a concern".into()));
    }
    Ok(vec![Event::ConcernRecorded { concern: id, child, source, text, categories, by: by.staff, at }])
}
