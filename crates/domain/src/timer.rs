//! Timers: every timescale is a durable row with a due time. Timer rows change only in
//! the same transaction as the event that changes them; a sweeper fires them when due.

use crate::code::code_enum;
use jiff::Timestamp;

code_enum!(
    /// What a timer is for.
    TimerKind {
        /// A referral's decision is due.
        ReferralDecisionDue = "referral_decision_due",
        /// A visit that sees the child is due (plan frequency).
        VisitDue = "visit_due",
        /// The assessment is due for completion.
        AssessmentDue = "assessment_due",
        /// The initial child protection conference is due.
        IcpcDue = "icpc_due",
        /// A review child protection conference is due.
        ReviewConferenceDue = "review_conference_due",
        /// An open case still has no worker.
        CaseUnallocatedDue = "case_unallocated_due",
        /// A "threshold not met" decision is due for review.
        ThresholdReviewDue = "threshold_review_due",
        /// A windowed flag may clear.
        FlagWindow = "flag_window",
        /// An escalation level's time to acknowledge.
        EscalationAck = "escalation_ack",
        /// An escalation level's time to resolve.
        EscalationResolve = "escalation_resolve",
        /// A reminder at the top level.
        EscalationReminder = "escalation_reminder",
    }
);

impl TimerKind {
    /// Deadlines people see as "due next" (and "overdue" once fired, until met).
    pub fn is_deadline(self) -> bool {
        matches!(
            self,
            TimerKind::ReferralDecisionDue
                | TimerKind::VisitDue
                | TimerKind::AssessmentDue
                | TimerKind::IcpcDue
                | TimerKind::ReviewConferenceDue
                | TimerKind::CaseUnallocatedDue
                | TimerKind::ThresholdReviewDue
        )
    }

    /// Words for a page.
    pub fn label(self) -> &'static str {
        match self {
            TimerKind::ReferralDecisionDue => "Referral decision",
            TimerKind::VisitDue => "Visit seeing the child",
            TimerKind::AssessmentDue => "Assessment completed",
            TimerKind::IcpcDue => "Initial child protection conference",
            TimerKind::ReviewConferenceDue => "Review child protection conference",
            TimerKind::CaseUnallocatedDue => "Case allocated",
            TimerKind::ThresholdReviewDue => "Threshold decision reviewed",
            TimerKind::FlagWindow => "Flag review",
            TimerKind::EscalationAck => "Escalation acknowledged",
            TimerKind::EscalationResolve => "Escalation resolved",
            TimerKind::EscalationReminder => "Escalation reminder",
        }
    }
}

/// A change to the timers, made with the events that cause it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerChange {
    /// Creates the (kind, subject) timer, or moves it, to fire at `due_at`. `token` lets
    /// a firing timer check it is still current (e.g. the escalation level it was set for).
    Schedule {
        /// What for.
        kind: TimerKind,
        /// The audit-style subject, e.g. `referral:3`, `person:5`, `escalation:2`.
        subject: String,
        /// When it fires.
        due_at: Timestamp,
        /// What it was set for.
        token: i64,
    },
    /// The (kind, subject) timer is met or no longer needed.
    Done {
        /// What for.
        kind: TimerKind,
        /// Subject.
        subject: String,
    },
}

impl TimerChange {
    /// Shorthand for a schedule.
    pub fn schedule(kind: TimerKind, subject: impl Into<String>, due_at: Timestamp, token: i64) -> Self {
        TimerChange::Schedule { kind, subject: subject.into(), due_at, token }
    }

    /// Shorthand for done.
    pub fn done(kind: TimerKind, subject: impl Into<String>) -> Self {
        TimerChange::Done { kind, subject: subject.into() }
    }
}
