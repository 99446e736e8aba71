//! Events: what the domain decided happened. The store commits them, applies them to its
//! tables and records them on the audit trail, all in one transaction.
//!
//! Secrets a projection needs (password and token hashes) ride along but are never
//! serialised, so they never reach the trail.
//!
//! The words events carry about referrals, cases, escalations and flags are declared in
//! submodules here, below the rules that emit the events, so the events never import the
//! rules that write them; each is used from its subject's module (e.g.
//! [`crate::referral::Decision`]).

pub(crate) mod cases;
pub(crate) mod escalations;
pub(crate) mod flags;
mod names;
mod reads;
pub(crate) mod referrals;
#[cfg(test)]
mod tests;

pub use reads::ReadFrom;

use crate::delivery::{Channel, EmailAddress, WebhookUrl};
use crate::ids::*;
use crate::person::{Address, Name, PersonDetails, RelationshipKind};
use crate::staff::{Agency, Fte, Login, Role};
use crate::text::{ConcernText, FreeName, Label, NoteText, Reason};
use crate::visit::VisitOutcome;
use cases::{Forum, Plan, ThresholdOutcome};
use escalations::{ClimbReason, EscalationId, Resolution, RoutingReason, Subject, Trigger};
use flags::Flag;
use jiff::Timestamp;
use jiff::civil::Date;
use referrals::{Category, Decision, ReferralSource};
use serde::{Deserialize, Serialize};

/// Something that happened, in the words of the people who use safeguard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A team was set up.
    TeamCreated {
        /// The team.
        team: TeamId,
        /// Its name.
        name: Label,
    },
    /// Who manages a team (the escalation line) was set or changed.
    TeamLeadershipSet {
        /// The team.
        team: TeamId,
        /// Level 1 of escalation.
        team_manager: Option<StaffId>,
        /// Level 2.
        service_manager: Option<StaffId>,
        /// Level 3.
        head_of_service: Option<StaffId>,
    },
    /// A member of staff was given an account.
    StaffAdded {
        /// Who.
        staff: StaffId,
        /// Sign-in name.
        login: Login,
        /// Full name.
        name: FreeName,
        /// Role.
        role: Role,
        /// Agency, for partners.
        agency: Option<Agency>,
        /// Team.
        team: Option<TeamId>,
        /// Full-time equivalence.
        fte: Fte,
        /// Who covers for them.
        deputy: Option<StaffId>,
        /// The argon2id hash; never serialised.
        #[serde(skip)]
        password_hash: Option<String>,
    },
    /// Who covers for a member of staff was set.
    DeputySet {
        /// Whose deputy.
        staff: StaffId,
        /// The deputy (none: nobody).
        deputy: Option<StaffId>,
    },
    /// A password was set or reset.
    PasswordSet {
        /// Whose.
        staff: StaffId,
        /// The argon2id hash; never serialised.
        #[serde(skip)]
        password_hash: String,
    },
    /// Someone signed in and a session began.
    SignedIn {
        /// Who.
        staff: StaffId,
        /// When the session ends at the latest.
        expires_at: Timestamp,
        /// SHA-256 of the session token; never serialised.
        #[serde(skip)]
        session_hash: String,
    },
    /// A session ended by signing out.
    SignedOut {
        /// Who.
        staff: StaffId,
        /// SHA-256 of the session token; never serialised.
        #[serde(skip)]
        session_hash: String,
    },
    /// An API bearer token was issued.
    ApiTokenIssued {
        /// The token's id.
        token: TokenId,
        /// Whose.
        staff: StaffId,
        /// What it is for.
        name: Label,
        /// SHA-256 of the token; never serialised.
        #[serde(skip)]
        token_hash: String,
    },
    /// A person was recorded.
    PersonRegistered {
        /// Who.
        person: PersonId,
        /// Their details.
        details: PersonDetails,
    },
    /// Another name a person is known by.
    AliasAdded {
        /// Whose.
        person: PersonId,
        /// Given name.
        given_name: Name,
        /// Family name.
        family_name: Name,
    },
    /// An address for a person.
    AddressAdded {
        /// The address record.
        address_id: AddressId,
        /// Whose.
        person: PersonId,
        /// The address.
        address: Address,
    },
    /// How two people are related.
    RelationshipRecorded {
        /// The relationship record.
        relationship: RelationshipId,
        /// Person A.
        person: PersonId,
        /// Person B ("A is the parent of B").
        related: PersonId,
        /// How.
        kind: RelationshipKind,
    },
    /// A referral arrived.
    ReferralReceived {
        /// The referral.
        referral: ReferralId,
        /// The team whose front door received it.
        team: TeamId,
        /// Where it came from.
        source: ReferralSource,
        /// Who made it (name, organisation), as told.
        referrer: Option<FreeName>,
        /// The member of staff (or partner user) who recorded it.
        recorded_by: StaffId,
        /// When it was received.
        received_at: Timestamp,
        /// What the concern is.
        concern: ConcernText,
        /// Categories of concern.
        categories: Vec<Category>,
        /// The children it is about.
        children: Vec<PersonId>,
    },
    /// The front door decided what happens next.
    ReferralDecided {
        /// The referral.
        referral: ReferralId,
        /// The decision.
        decision: Decision,
        /// Why.
        reason: Reason,
        /// Who decided.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A decided referral joined a child's case that was already open.
    ReferralLinkedToCase {
        /// The referral.
        referral: ReferralId,
        /// The open case.
        case: CaseId,
        /// The child.
        child: PersonId,
    },
    /// A case (a child's episode of involvement) opened, at the assessment stage.
    CaseOpened {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// The team holding it.
        team: TeamId,
        /// The referral that opened it.
        referral: ReferralId,
        /// When.
        at: Timestamp,
    },
    /// A case was allocated (or re-allocated) to a worker.
    CaseAllocated {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// The new worker.
        worker: StaffId,
        /// The worker it moved from, if any.
        previous: Option<StaffId>,
        /// Who allocated.
        by: StaffId,
        /// When.
        at: Timestamp,
        /// The manager's reason for going over the worker's cap.
        override_reason: Option<Reason>,
        /// The worker's weighted caseload after this allocation.
        load_after: f64,
        /// The worker's cap.
        cap: f64,
    },
    /// A visit to a child was recorded.
    VisitRecorded {
        /// The visit.
        visit: VisitId,
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Who visited.
        by: StaffId,
        /// When the visit happened.
        visited_at: Timestamp,
        /// Whether the child was seen.
        outcome: VisitOutcome,
        /// What happened.
        note: Option<NoteText>,
    },
    /// A case note was written.
    CaseNoteAdded {
        /// The note.
        note: NoteId,
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Who wrote it.
        author: StaffId,
        /// When.
        at: Timestamp,
        /// The text.
        text: NoteText,
    },
    /// A plan started.
    PlanStarted {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Which plan.
        plan: Plan,
        /// Category of abuse (CP plans).
        category: Option<Category>,
        /// Who.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A plan ended (another started, or the case closed).
    PlanEnded {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Which plan.
        plan: Plan,
        /// When.
        at: Timestamp,
    },
    /// A strategy discussion was held.
    StrategyDiscussionHeld {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Whether it started a s47 enquiry (and the ICPC clock).
        s47: bool,
        /// Who recorded it.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// The initial child protection conference was held.
    IcpcHeld {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Who recorded it.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A review child protection conference was held.
    ReviewConferenceHeld {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Who recorded it.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// The assessment was completed.
    AssessmentCompleted {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Who.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A threshold decision was recorded.
    ThresholdDecisionRecorded {
        /// The decision's id.
        decision: i64,
        /// The child.
        child: PersonId,
        /// Where it was made.
        forum: Forum,
        /// Met or not.
        outcome: ThresholdOutcome,
        /// Why.
        reason: Reason,
        /// Whether the family's cooperation was a reason.
        cooperation_noted: bool,
        /// When it must be reviewed.
        review_by: Option<Date>,
        /// Who.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A new concern about a known child.
    ConcernRecorded {
        /// The concern's id.
        concern: i64,
        /// The child.
        child: PersonId,
        /// Where it came from.
        source: ReferralSource,
        /// What it is.
        text: ConcernText,
        /// Categories.
        categories: Vec<Category>,
        /// Who recorded it.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A partner agency disagrees with a decision (professional disagreement).
    DisagreementRaised {
        /// The disagreement's id.
        disagreement: i64,
        /// The referral whose decision is disputed.
        referral: ReferralId,
        /// The team that made the decision.
        team: TeamId,
        /// The partner user raising it.
        by: StaffId,
        /// What they disagree with and why.
        text: ConcernText,
        /// When.
        at: Timestamp,
    },
    /// A member of staff is away until a time (or back, when `until` is none).
    AbsenceSet {
        /// Who.
        staff: StaffId,
        /// Away until.
        until: Option<Timestamp>,
    },
    /// The escalation policy changed.
    PolicySet {
        /// Its new version number.
        version: i64,
        /// The whole policy.
        policy: serde_json::Value,
    },
    /// An escalation was raised.
    EscalationRaised {
        /// The escalation.
        escalation: EscalationId,
        /// What raised it.
        trigger: Trigger,
        /// What it is about.
        subject: Subject,
        /// The team whose line it climbs.
        team: Option<TeamId>,
        /// Its level.
        level: u8,
        /// Who holds it.
        assignee: StaffId,
        /// The person the level names, when it went to someone else.
        routed_from: Option<StaffId>,
        /// Why it went to someone else.
        routing_reason: Option<RoutingReason>,
        /// What raised it, in words (put in front of the assignee).
        detail: String,
        /// When.
        at: Timestamp,
    },
    /// An escalation climbed a level.
    EscalationClimbed {
        /// The escalation.
        escalation: EscalationId,
        /// From.
        from_level: u8,
        /// To.
        level: u8,
        /// Who holds it now.
        assignee: StaffId,
        /// Why it climbed.
        reason: ClimbReason,
        /// The person the level names, when it went to someone else.
        routed_from: Option<StaffId>,
        /// Why it went to someone else.
        routing_reason: Option<RoutingReason>,
        /// When.
        at: Timestamp,
    },
    /// A reminder went out at the top level.
    EscalationReminded {
        /// The escalation.
        escalation: EscalationId,
        /// Its level.
        level: u8,
        /// To whom.
        assignee: StaffId,
        /// When.
        at: Timestamp,
    },
    /// The condition that raised an open escalation happened again.
    EscalationRepeated {
        /// The escalation.
        escalation: EscalationId,
        /// What happened.
        detail: String,
        /// When.
        at: Timestamp,
    },
    /// Someone acknowledged an escalation.
    EscalationAcknowledged {
        /// The escalation.
        escalation: EscalationId,
        /// Who.
        by: StaffId,
        /// Their note.
        note: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// An escalation was resolved.
    EscalationResolved {
        /// The escalation.
        escalation: EscalationId,
        /// How.
        resolution: Resolution,
        /// Who (when by hand).
        by: Option<StaffId>,
        /// The action taken (when by hand).
        action: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// The police were asked to check on a child.
    WelfareCheckRequested {
        /// The child.
        child: PersonId,
        /// The agency asked.
        agency: Agency,
        /// The escalation that asked.
        escalation: EscalationId,
        /// When.
        at: Timestamp,
    },
    /// Someone was told something: in the inbox at once, and by email when they have an
    /// address and want it (an outbox row, delivered in the background).
    NotificationQueued {
        /// To whom.
        to: StaffId,
        /// What about.
        about: Option<EscalationId>,
        /// What it says.
        text: String,
        /// When.
        at: Timestamp,
        /// The case it is about (allocations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case: Option<CaseId>,
        /// The referral it is about (outcomes told to the referrer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referral: Option<ReferralId>,
        /// Inbox only: news of a failed delivery is not itself emailed, so a mail outage
        /// cannot feed on itself.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        inbox_only: bool,
    },
    /// A member of staff's email address and notification choices were set.
    ContactSet {
        /// Whose.
        staff: StaffId,
        /// Their work email address (none: no email).
        email: Option<EmailAddress>,
        /// Whether notifications are emailed to them (the inbox always has them).
        email_notifications: bool,
    },
    /// When a social worker qualified was recorded (their first year is "newly qualified").
    QualificationRecorded {
        /// Who.
        staff: StaffId,
        /// The date they qualified.
        qualified_on: Date,
    },
    /// A partner agency's system was set up to receive webhooks (welfare-check requests).
    WebhookEndpointSet {
        /// Whose system.
        agency: Agency,
        /// Where calls go.
        url: WebhookUrl,
        /// The shared secret the calls are signed with; never serialised.
        #[serde(skip)]
        secret: String,
    },
    /// Sessions that had expired were removed (housekeeping; the sign-ins stay on the trail).
    SessionsPurged {
        /// Sessions that expired before this moment.
        before: Timestamp,
        /// How many.
        count: u64,
    },
    /// A mail server or partner system accepted a delivery.
    DeliverySent {
        /// Which.
        delivery: DeliveryId,
        /// By which channel.
        channel: Channel,
        /// Tries it took.
        attempts: u32,
        /// When.
        at: Timestamp,
    },
    /// A try at a delivery failed; it will be tried again.
    DeliveryDeferred {
        /// Which.
        delivery: DeliveryId,
        /// Tries so far.
        attempts: u32,
        /// What went wrong.
        error: String,
        /// When it is tried next.
        retry_at: Timestamp,
        /// When.
        at: Timestamp,
    },
    /// A delivery failed for good (retrying could not help, or the tries ran out).
    DeliveryFailed {
        /// Which.
        delivery: DeliveryId,
        /// By which channel.
        channel: Channel,
        /// Tries made.
        attempts: u32,
        /// What went wrong the last time.
        error: String,
        /// When.
        at: Timestamp,
    },
    /// An administrator sent a failed delivery back to be tried again.
    DeliveryRetried {
        /// Which.
        delivery: DeliveryId,
        /// Who (none: the operator, from the command line).
        by: Option<StaffId>,
        /// When.
        at: Timestamp,
    },
    /// A deadline passed without being met (it shows as overdue until it is).
    DeadlinePassed {
        /// Which deadline.
        kind: crate::timer::TimerKind,
        /// About what (e.g. `person:3`).
        subject: String,
        /// When it fell due.
        due_at: Timestamp,
    },
    /// A flag was raised on a child's record.
    FlagRaised {
        /// The child.
        child: PersonId,
        /// Which flag.
        flag: Flag,
        /// The events that raised it, in words.
        evidence: Vec<String>,
        /// When.
        at: Timestamp,
    },
    /// A flag's rule no longer holds.
    FlagCleared {
        /// The child.
        child: PersonId,
        /// Which flag.
        flag: Flag,
        /// When.
        at: Timestamp,
    },
    /// A case closed.
    CaseClosed {
        /// The case.
        case: CaseId,
        /// The child.
        child: PersonId,
        /// Who closed it.
        by: StaffId,
        /// When.
        at: Timestamp,
        /// Why.
        reason: Reason,
    },
    /// The matching engine found pairs of records that may be one person; they wait for a
    /// manager in the review queue.
    DuplicatesFound {
        /// The new pairs, most likely first.
        pairs: Vec<crate::duplicates::FoundPair>,
    },
    /// A manager decided two records are one person and merged the duplicate into the
    /// person kept.
    PeopleMerged {
        /// The pair in the review queue.
        pair: DuplicatePairId,
        /// The record kept.
        kept: PersonId,
        /// The duplicate, now pointing at the record kept.
        merged: PersonId,
        /// What moved from the duplicate to the record kept.
        moved: crate::duplicates::MovedRecords,
        /// The manager who decided.
        by: StaffId,
    },
    /// A merge was undone: exactly what it moved went back to the duplicate.
    PeopleUnmerged {
        /// The pair in the review queue, open again.
        pair: DuplicatePairId,
        /// The record that was kept.
        kept: PersonId,
        /// The duplicate, a record of its own again.
        merged: PersonId,
        /// What moved back.
        moved: crate::duplicates::MovedRecords,
        /// The manager who decided.
        by: StaffId,
    },
    /// A manager decided two records the engine paired are two different people.
    PeopleMarkedDistinct {
        /// The pair in the review queue.
        pair: DuplicatePairId,
        /// One of them.
        person_a: PersonId,
        /// The other.
        person_b: PersonId,
        /// The manager who decided.
        by: StaffId,
    },
    /// Someone opened a person's record (a read: it changes nothing, but is on the trail).
    RecordViewed {
        /// Whose record.
        person: PersonId,
        /// Where they read it, and from where.
        read: ReadFrom,
    },
    /// Someone looked at who has viewed and changed a person's record.
    RecordAccessViewed {
        /// Whose record.
        person: PersonId,
        /// Where they read it, and from where.
        read: ReadFrom,
    },
    /// Someone searched for people (by name or NHS number, or described someone to match).
    PeopleSearched {
        /// What they searched for, as typed (the fields, for a match).
        query: String,
        /// The people shown to them, most likely first.
        found: Vec<PersonId>,
        /// Where they searched, and from where.
        read: ReadFrom,
    },
    /// Someone exported data (a CSV download).
    DataExported {
        /// What, e.g. `caseloads` or `caseloads team:3`.
        what: String,
        /// Data rows in the file.
        rows: u32,
        /// Where they exported it, and from where.
        read: ReadFrom,
    },
}
