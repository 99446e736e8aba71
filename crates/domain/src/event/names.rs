//! What each event is called on the trail and in the chronology, and which events are reads.

use super::Event;

impl Event {
    /// The event's name on the trail and in the chronology, e.g. `referral.decided`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::TeamCreated { .. } => "team.created",
            Event::TeamLeadershipSet { .. } => "team.leadership_set",
            Event::StaffAdded { .. } => "staff.added",
            Event::DeputySet { .. } => "staff.deputy_set",
            Event::PasswordSet { .. } => "staff.password_set",
            Event::SignedIn { .. } => "session.signed_in",
            Event::SignedOut { .. } => "session.signed_out",
            Event::ApiTokenIssued { .. } => "token.issued",
            Event::PersonRegistered { .. } => "person.registered",
            Event::AliasAdded { .. } => "person.alias_added",
            Event::AddressAdded { .. } => "person.address_added",
            Event::RelationshipRecorded { .. } => "person.relationship_recorded",
            Event::ReferralReceived { .. } => "referral.received",
            Event::ReferralDecided { .. } => "referral.decided",
            Event::ReferralLinkedToCase { .. } => "referral.linked_to_case",
            Event::CaseOpened { .. } => "case.opened",
            Event::CaseAllocated { .. } => "case.allocated",
            Event::VisitRecorded { .. } => "visit.recorded",
            Event::CaseNoteAdded { .. } => "case.note_added",
            Event::PlanStarted { .. } => "plan.started",
            Event::PlanEnded { .. } => "plan.ended",
            Event::StrategyDiscussionHeld { .. } => "strategy_discussion.held",
            Event::IcpcHeld { .. } => "icpc.held",
            Event::ReviewConferenceHeld { .. } => "review_conference.held",
            Event::AssessmentCompleted { .. } => "assessment.completed",
            Event::ThresholdDecisionRecorded { .. } => "threshold_decision.recorded",
            Event::ConcernRecorded { .. } => "concern.recorded",
            Event::DisagreementRaised { .. } => "disagreement.raised",
            Event::AbsenceSet { .. } => "staff.absence_set",
            Event::PolicySet { .. } => "policy.set",
            Event::EscalationRaised { .. } => "escalation.raised",
            Event::EscalationClimbed { .. } => "escalation.climbed",
            Event::EscalationReminded { .. } => "escalation.reminded",
            Event::EscalationRepeated { .. } => "escalation.repeated",
            Event::EscalationAcknowledged { .. } => "escalation.acknowledged",
            Event::EscalationResolved { .. } => "escalation.resolved",
            Event::WelfareCheckRequested { .. } => "welfare_check.requested",
            Event::NotificationQueued { .. } => "notification.queued",
            Event::ContactSet { .. } => "staff.contact_set",
            Event::QualificationRecorded { .. } => "staff.qualification_recorded",
            Event::WebhookEndpointSet { .. } => "webhook.endpoint_set",
            Event::SessionsPurged { .. } => "session.purged",
            Event::DeliverySent { .. } => "delivery.sent",
            Event::DeliveryDeferred { .. } => "delivery.deferred",
            Event::DeliveryFailed { .. } => "delivery.failed",
            Event::DeliveryRetried { .. } => "delivery.retried",
            Event::DeadlinePassed { .. } => "deadline.passed",
            Event::FlagRaised { .. } => "flag.raised",
            Event::FlagCleared { .. } => "flag.cleared",
            Event::CaseClosed { .. } => "case.closed",
            Event::DuplicatesFound { .. } => "duplicates.found",
            Event::PeopleMerged { .. } => "person.merged",
            Event::PeopleUnmerged { .. } => "person.unmerged",
            Event::PeopleMarkedDistinct { .. } => "person.marked_distinct",
            Event::RecordViewed { .. } => "person.viewed",
            Event::RecordAccessViewed { .. } => "person.access_viewed",
            Event::PeopleSearched { .. } => "people.searched",
            Event::DataExported { .. } => "data.exported",
        }
    }

    /// Whether the event is a read: on the trail, but changing no table.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Event::RecordViewed { .. }
                | Event::RecordAccessViewed { .. }
                | Event::PeopleSearched { .. }
                | Event::DataExported { .. }
        )
    }
}
