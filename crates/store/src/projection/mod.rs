//! Applying events to the tables. Nothing writes a table except through here.
//!
//! One file per record: [`apply`] sends each event to the function of the record it
//! writes. Rows nothing reads back before commit wait in the write buffer.

mod cases;
mod deliveries;
mod duplicates;
mod escalations;
mod flags;
mod people;
mod policies;
mod practice;
mod referrals;
mod sessions;
mod staff;

use crate::time::to_micros;
use crate::{StoreError, Tx};
use domain::event::Event;
use jiff::Timestamp;

/// Writes what `event` changes to the tables, `at` being when it was recorded.
pub(crate) async fn apply(tx: &mut Tx, event: &Event, at: Timestamp) -> Result<(), StoreError> {
    let now = to_micros(at);
    match event {
        Event::PersonRegistered { .. }
        | Event::AliasAdded { .. }
        | Event::AddressAdded { .. }
        | Event::RelationshipRecorded { .. } => people::apply(tx, event, now).await,
        Event::TeamCreated { .. }
        | Event::TeamLeadershipSet { .. }
        | Event::StaffAdded { .. }
        | Event::DeputySet { .. }
        | Event::PasswordSet { .. }
        | Event::AbsenceSet { .. }
        | Event::ContactSet { .. }
        | Event::QualificationRecorded { .. } => staff::apply(tx, event, now).await,
        Event::SignedIn { .. }
        | Event::SignedOut { .. }
        | Event::ApiTokenIssued { .. }
        | Event::SessionsPurged { .. } => sessions::apply(tx, event, now).await,
        Event::ReferralReceived { .. }
        | Event::ReferralDecided { .. }
        | Event::ReferralLinkedToCase { .. }
        | Event::DisagreementRaised { .. } => referrals::apply(tx, event).await,
        Event::CaseOpened { .. }
        | Event::CaseAllocated { .. }
        | Event::VisitRecorded { .. }
        | Event::CaseNoteAdded { .. }
        | Event::PlanStarted { .. }
        | Event::StrategyDiscussionHeld { .. }
        | Event::IcpcHeld { .. }
        | Event::ReviewConferenceHeld { .. }
        | Event::AssessmentCompleted { .. }
        | Event::CaseClosed { .. } => cases::apply(tx, event, now).await,
        Event::ThresholdDecisionRecorded { .. } | Event::ConcernRecorded { .. } => practice::apply(tx, event).await,
        Event::EscalationRaised { .. }
        | Event::EscalationReminded { .. }
        | Event::EscalationRepeated { .. }
        | Event::EscalationClimbed { .. }
        | Event::EscalationAcknowledged { .. }
        | Event::EscalationResolved { .. }
        | Event::WelfareCheckRequested { .. } => escalations::apply(tx, event).await,
        Event::NotificationQueued { .. }
        | Event::DeliverySent { .. }
        | Event::DeliveryDeferred { .. }
        | Event::DeliveryFailed { .. }
        | Event::DeliveryRetried { .. }
        | Event::WebhookEndpointSet { .. } => deliveries::apply(tx, event, now).await,
        Event::FlagRaised { .. } | Event::FlagCleared { .. } => flags::apply(tx, event).await,
        Event::DuplicatesFound { .. }
        | Event::PeopleMerged { .. }
        | Event::PeopleUnmerged { .. }
        | Event::PeopleMarkedDistinct { .. } => duplicates::apply(tx, event, now).await,
        Event::PolicySet { .. } => policies::apply(tx, event, now).await,
        // Nothing to write: the event is on the trail, and the timer row says overdue.
        // (The stage history row is closed by whatever comes next: a plan or closure.)
        Event::PlanEnded { .. } | Event::DeadlinePassed { .. } => Ok(()),
        // Reads: the trail is their only record.
        Event::RecordViewed { .. }
        | Event::RecordAccessViewed { .. }
        | Event::PeopleSearched { .. }
        | Event::DataExported { .. } => Ok(()),
    }
}
