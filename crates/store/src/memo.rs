//! What a transaction remembers of what it has read, kept true as it writes.
//!
//! The sweeper loads the state for a whole batch of timers in a few queries
//! ([`crate::Reads::preload`]) and then decides each timer in turn. Each decision reads
//! through here, and each event the transaction applies updates (or forgets) what is
//! remembered, so a later timer in the batch sees exactly what a fresh query would.
//! Only this transaction can change these rows while it runs: it holds them locked
//! (PostgreSQL `FOR UPDATE`) or holds the database's write lock (SQLite).

use crate::escalation::CaseTimes;
use domain::escalation::{Escalation, EscalationId, EscalationState, Line, StaffStatus};
use domain::event::Event;
use domain::ids::{PersonId, ReferralId, StaffId, TeamId};
use domain::referral::ReferralState;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};

/// A child's open case, as the timers see it.
#[derive(Debug, Clone)]
pub(crate) struct OpenCase {
    pub(crate) team: TeamId,
    pub(crate) worker: Option<StaffId>,
    pub(crate) stage: String,
    pub(crate) times: CaseTimes,
}

/// Staff statuses as read at one moment with one counting bound.
#[derive(Debug, Default)]
pub(crate) struct StaffMemo {
    /// The `now` and the bound they were read with.
    pub(crate) read_as: Option<(Timestamp, i64)>,
    pub(crate) status: HashMap<StaffId, StaffStatus>,
}

/// What a transaction remembers between commands in a batch.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    pub(crate) policy: Option<Option<(i64, String)>>,
    pub(crate) lines: HashMap<Option<i64>, Line>,
    /// Per kind of id: the last id handed out, and whether the counter row still needs it.
    pub(crate) ids: HashMap<String, (i64, bool)>,
    /// Escalation ids taken ahead for a batch (PostgreSQL's sequence), in order.
    pub(crate) reserved: std::collections::VecDeque<i64>,
    pub(crate) referrals: HashMap<ReferralId, Option<ReferralState>>,
    pub(crate) cases: HashMap<PersonId, Option<OpenCase>>,
    pub(crate) escalations: HashMap<EscalationId, Escalation>,
    /// The open escalation for (trigger code, subject key), where known.
    pub(crate) open: HashMap<(&'static str, String), Option<EscalationId>>,
    /// Subjects whose open escalations are all in `escalations`.
    pub(crate) subjects_loaded: HashSet<String>,
    pub(crate) staff: StaffMemo,
    /// Where each member of staff's notifications are emailed (none: not emailed).
    pub(crate) emails: HashMap<StaffId, Option<String>>,
}

impl Memo {
    /// Keeps the memo true after `event` is applied.
    pub(crate) fn on_event(&mut self, event: &Event) {
        match event {
            Event::EscalationRaised { escalation, trigger, subject, team, level, assignee, at, .. } => {
                self.count(*assignee, 1);
                self.open.insert((trigger.code(), subject.key()), Some(*escalation));
                self.escalations.insert(
                    *escalation,
                    Escalation {
                        id: *escalation,
                        trigger: *trigger,
                        subject: *subject,
                        team: *team,
                        level: *level,
                        assignee: *assignee,
                        state: EscalationState::Open,
                        level_reached_at: *at,
                        welfare_check_requested: false,
                    },
                );
            }
            Event::EscalationClimbed { escalation, level, assignee, at, .. } => {
                match self.escalations.get_mut(escalation) {
                    Some(e) => {
                        let was_open = (e.state == EscalationState::Open).then_some(e.assignee);
                        e.level = *level;
                        e.assignee = *assignee;
                        e.state = EscalationState::Open;
                        e.level_reached_at = *at;
                        if let Some(before) = was_open {
                            self.count(before, -1);
                        }
                        self.count(*assignee, 1);
                    }
                    None => self.staff = StaffMemo::default(),
                }
            }
            Event::EscalationAcknowledged { escalation, .. } => match self.escalations.get_mut(escalation) {
                Some(e) => {
                    let was_open = (e.state == EscalationState::Open).then_some(e.assignee);
                    e.state = EscalationState::Acknowledged;
                    if let Some(before) = was_open {
                        self.count(before, -1);
                    }
                }
                None => self.staff = StaffMemo::default(),
            },
            Event::EscalationResolved { escalation, .. } => match self.escalations.get_mut(escalation) {
                Some(e) => {
                    let was_open = (e.state == EscalationState::Open).then_some(e.assignee);
                    e.state = EscalationState::Resolved;
                    self.open.insert((e.trigger.code(), e.subject.key()), None);
                    if let Some(before) = was_open {
                        self.count(before, -1);
                    }
                }
                // Not remembered, so neither is its subject's open index: only counts change.
                None => self.staff = StaffMemo::default(),
            },
            Event::WelfareCheckRequested { escalation, .. } => {
                if let Some(e) = self.escalations.get_mut(escalation) {
                    e.welfare_check_requested = true;
                }
            }
            Event::ContactSet { staff, .. } => {
                self.emails.remove(staff);
            }
            // Nothing remembered reads these.
            Event::EscalationReminded { .. }
            | Event::WebhookEndpointSet { .. }
            | Event::QualificationRecorded { .. }
            | Event::SessionsPurged { .. }
            | Event::DeliverySent { .. }
            | Event::DeliveryDeferred { .. }
            | Event::DeliveryFailed { .. }
            | Event::DeliveryRetried { .. }
            | Event::EscalationRepeated { .. }
            | Event::NotificationQueued { .. }
            | Event::DeadlinePassed { .. }
            | Event::FlagRaised { .. }
            | Event::FlagCleared { .. }
            | Event::SignedIn { .. }
            | Event::SignedOut { .. }
            | Event::ApiTokenIssued { .. }
            | Event::PasswordSet { .. }
            | Event::CaseNoteAdded { .. }
            | Event::PersonRegistered { .. }
            | Event::AliasAdded { .. }
            | Event::AddressAdded { .. }
            | Event::RelationshipRecorded { .. }
            | Event::ConcernRecorded { .. }
            | Event::ThresholdDecisionRecorded { .. }
            | Event::DisagreementRaised { .. }
            | Event::DuplicatesFound { .. }
            | Event::PeopleMarkedDistinct { .. }
            | Event::RecordViewed { .. }
            | Event::RecordAccessViewed { .. }
            | Event::PeopleSearched { .. }
            | Event::DataExported { .. } => {}
            // A merge moves cases, referrals and escalations between people.
            Event::PeopleMerged { .. } | Event::PeopleUnmerged { .. } => {
                self.referrals.clear();
                self.cases.clear();
                self.escalations.clear();
                self.open.clear();
                self.subjects_loaded.clear();
            }
            Event::PolicySet { .. } => {
                self.policy = None;
                self.staff = StaffMemo::default();
            }
            Event::TeamCreated { .. }
            | Event::TeamLeadershipSet { .. }
            | Event::StaffAdded { .. }
            | Event::DeputySet { .. }
            | Event::AbsenceSet { .. } => {
                self.lines.clear();
                self.staff = StaffMemo::default();
            }
            // Referrals and cases: forget them rather than follow every column.
            Event::ReferralReceived { .. }
            | Event::ReferralDecided { .. }
            | Event::ReferralLinkedToCase { .. }
            | Event::CaseOpened { .. }
            | Event::CaseAllocated { .. }
            | Event::VisitRecorded { .. }
            | Event::PlanStarted { .. }
            | Event::PlanEnded { .. }
            | Event::StrategyDiscussionHeld { .. }
            | Event::IcpcHeld { .. }
            | Event::ReviewConferenceHeld { .. }
            | Event::AssessmentCompleted { .. }
            | Event::CaseClosed { .. } => {
                self.referrals.clear();
                self.cases.clear();
            }
        }
    }

    /// Moves a remembered count of open, unacknowledged escalations. Counts are read up
    /// to a bound; one at the bound means "at least", so taking one away forgets it.
    fn count(&mut self, staff: StaffId, delta: i64) {
        let Some((_, bound)) = self.staff.read_as else { return };
        let Some(s) = self.staff.status.get_mut(&staff) else { return };
        let n = i64::from(s.open_unacknowledged);
        if delta < 0 && n >= bound {
            self.staff.status.remove(&staff);
            return;
        }
        s.open_unacknowledged = u32::try_from((n + delta).clamp(0, bound)).unwrap_or(u32::MAX);
    }
}
