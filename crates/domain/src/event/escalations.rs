//! The words of an escalation on its events: what raised it, what it is about, and how it moved.

use crate::code::code_enum;
use crate::ids::{PersonId, ReferralId, StaffId};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// What raised an escalation.
    Trigger {
        /// A referral has no decision 1 working day after it arrived.
        ReferralDecisionOverdue = "referral_decision_overdue",
        /// A visit did not see the child and no later visit has.
        ChildNotSeen = "child_not_seen",
        /// No visit has seen the child within the plan's frequency.
        VisitOverdue = "visit_overdue",
        /// An assessment is not complete 45 working days after its referral.
        AssessmentOverdue = "assessment_overdue",
        /// No initial child protection conference 15 working days after the strategy discussion.
        IcpcOverdue = "icpc_overdue",
        /// A worker's weighted caseload is over their cap.
        CaseloadOverCap = "caseload_over_cap",
        /// An open case has had no allocated worker for 1 working day.
        CaseUnallocated = "case_unallocated",
        /// The third referral about a child within 12 months.
        RepeatReferrals = "repeat_referrals",
        /// A referral or concern soon after a "threshold not met" decision.
        ConcernAfterThresholdNotMet = "concern_after_threshold_not_met",
        /// A "threshold not met" decision's review date passed with no new decision.
        ThresholdReviewOverdue = "threshold_review_overdue",
        /// A partner agency disagrees with a decision.
        ProfessionalDisagreement = "professional_disagreement",
    }
);

impl Trigger {
    /// Words for a page: what the escalation is about.
    pub fn label(self) -> &'static str {
        match self {
            Trigger::ReferralDecisionOverdue => "Referral not decided in time",
            Trigger::ChildNotSeen => "Child not seen",
            Trigger::VisitOverdue => "Visit overdue",
            Trigger::AssessmentOverdue => "Assessment overdue",
            Trigger::IcpcOverdue => "Initial conference overdue",
            Trigger::CaseloadOverCap => "Caseload over the cap",
            Trigger::CaseUnallocated => "Case unallocated",
            Trigger::RepeatReferrals => "Repeat referrals",
            Trigger::ConcernAfterThresholdNotMet => "New concern after threshold not met",
            Trigger::ThresholdReviewOverdue => "Threshold decision review overdue",
            Trigger::ProfessionalDisagreement => "Professional disagreement",
        }
    }

    /// What the assignee needs to do, in a sentence.
    pub fn needs(self) -> &'static str {
        match self {
            Trigger::ReferralDecisionOverdue => "Decide the referral.",
            Trigger::ChildNotSeen => "Make sure the child is seen, alone if possible.",
            Trigger::VisitOverdue => "Make sure a visit sees the child.",
            Trigger::AssessmentOverdue => "Complete the assessment or record why it is late.",
            Trigger::IcpcOverdue => "Hold the initial child protection conference.",
            Trigger::CaseloadOverCap => "Bring the worker's caseload back under the cap.",
            Trigger::CaseUnallocated => "Allocate the case to a worker.",
            Trigger::RepeatReferrals => "Review the whole history and record what will change.",
            Trigger::ConcernAfterThresholdNotMet => "Review the earlier decision against the whole chronology.",
            Trigger::ThresholdReviewOverdue => "Review the threshold decision.",
            Trigger::ProfessionalDisagreement => "Respond to the partner's disagreement.",
        }
    }
}

/// What an escalation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// A child.
    Child(PersonId),
    /// A referral.
    Referral(ReferralId),
    /// A worker (their caseload).
    Worker(StaffId),
    /// A professional disagreement.
    Disagreement(i64),
}

impl Subject {
    /// The stored form, e.g. `person:3`.
    pub fn key(&self) -> String {
        match self {
            Subject::Child(p) => p.subject(),
            Subject::Referral(r) => r.subject(),
            Subject::Worker(s) => s.subject(),
            Subject::Disagreement(d) => format!("disagreement:{d}"),
        }
    }

    /// Parses the stored form.
    pub fn parse_key(s: &str) -> Option<Subject> {
        let (kind, id) = s.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "person" => Some(Subject::Child(PersonId(id))),
            "referral" => Some(Subject::Referral(ReferralId(id))),
            "staff" => Some(Subject::Worker(StaffId(id))),
            "disagreement" => Some(Subject::Disagreement(id)),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// An escalation's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(minimum = 1)]
pub struct EscalationId(pub i64);

impl EscalationId {
    /// The kind of record, for id counters.
    pub const KIND: &'static str = "escalation";

    /// The reference people see, e.g. `E-4`.
    pub fn reference(self) -> String {
        format!("E-{}", self.0)
    }

    /// The audit subject, e.g. `escalation:4`.
    pub fn subject(self) -> String {
        format!("escalation:{}", self.0)
    }
}

impl fmt::Display for EscalationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

code_enum!(
    /// Why an escalation climbed.
    ClimbReason {
        /// Nobody acknowledged it in time.
        Unacknowledged = "unacknowledged",
        /// Its condition still held after the level's time to resolve.
        Unresolved = "unresolved",
    }
);

code_enum!(
    /// Why an escalation went to someone other than the person its level names.
    RoutingReason {
        /// That person is away.
        AssigneeAbsent = "assignee_absent",
        /// That person already holds too many unacknowledged escalations.
        AssigneeOverloaded = "assignee_overloaded",
        /// Nobody holds that role for the team.
        NoOneAtLevel = "no_one_at_level",
    }
);

code_enum!(
    /// How an escalation was resolved.
    Resolution {
        /// The condition that raised it no longer holds.
        ConditionCleared = "condition_cleared",
        /// A person resolved it, recording the action taken.
        Manual = "manual",
    }
);
