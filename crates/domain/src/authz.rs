//! Who may do what: the baseline role checks every command and query makes first.
//!
//! Record-level rules (a worker records visits on their *own* cases) live with the
//! record's rules in [`crate::case`]; this module answers the role question only.

use crate::error::Rejection;
use crate::ids::{StaffId, TeamId};
use crate::staff::{Agency, Role};
use serde::{Deserialize, Serialize};

/// The person behind a request, as the rules need to see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Who.
    pub staff: StaffId,
    /// Their sign-in name (for the trail).
    pub login: String,
    /// Their role.
    pub role: Role,
    /// Their team, if they have one.
    pub team: Option<TeamId>,
    /// Their agency, for partner users.
    pub agency: Option<Agency>,
}

/// Something a person may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Record a referral.
    CreateReferral,
    /// See referrals one made oneself and what happened to them.
    ViewOwnReferrals,
    /// Make the front-door decision on a referral.
    DecideReferral,
    /// Allocate a case to a worker.
    AllocateCase,
    /// Record a visit (on one's own cases unless a manager).
    RecordVisit,
    /// Write a case note.
    AddCaseNote,
    /// Close a case.
    CloseCase,
    /// Read children's and families' records.
    ViewChildRecords,
    /// Register a person or change their details.
    EditPerson,
    /// See the staff and team directory.
    ViewStaffDirectory,
    /// Add staff, reset passwords, change roles.
    ManageStaff,
    /// Create and change teams.
    ManageTeams,
    /// Read the operational figures (`/metrics`): backlogs and failures, no records.
    ViewOperations,
    /// See the outbox, send failed deliveries again, set up partner webhooks.
    ManageDeliveries,
    /// Decide whether two records are one person: merge, unmerge, "not the same person".
    ReviewDuplicates,
    /// Read the audit trail: every entry, its proofs and checkpoints.
    ReadAuditTrail,
    /// See who has viewed, found or changed a child's record (not the record itself).
    ViewRecordAccess,
}

impl Action {
    /// Every action, so that tests of who may do what cover each one (add a new action
    /// here as well as to the enum).
    pub const ALL: [Action; 17] = [
        Action::CreateReferral,
        Action::ViewOwnReferrals,
        Action::DecideReferral,
        Action::AllocateCase,
        Action::RecordVisit,
        Action::AddCaseNote,
        Action::CloseCase,
        Action::ViewChildRecords,
        Action::EditPerson,
        Action::ViewStaffDirectory,
        Action::ManageStaff,
        Action::ManageTeams,
        Action::ViewOperations,
        Action::ManageDeliveries,
        Action::ReviewDuplicates,
        Action::ReadAuditTrail,
        Action::ViewRecordAccess,
    ];

    /// Words for an error message ("decide referrals").
    pub fn describe(self) -> &'static str {
        match self {
            Action::CreateReferral => "make referrals",
            Action::ViewOwnReferrals => "see referrals",
            Action::DecideReferral => "decide referrals",
            Action::AllocateCase => "allocate cases",
            Action::RecordVisit => "record visits",
            Action::AddCaseNote => "write case notes",
            Action::CloseCase => "close cases",
            Action::ViewChildRecords => "see children's records",
            Action::EditPerson => "change people's details",
            Action::ViewStaffDirectory => "see the staff directory",
            Action::ManageStaff => "manage staff",
            Action::ManageTeams => "manage teams",
            Action::ViewOperations => "see the service's operational figures",
            Action::ManageDeliveries => "manage email and webhook deliveries",
            Action::ReviewDuplicates => "merge records of people recorded twice",
            Action::ReadAuditTrail => "read the audit trail",
            Action::ViewRecordAccess => "see who has viewed a record",
        }
    }
}

/// Whether `role` may ever do `action`.
pub fn permits(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::SocialWorker | Role::SeniorPractitioner => matches!(
            action,
            CreateReferral
                | ViewOwnReferrals
                | RecordVisit
                | AddCaseNote
                | ViewChildRecords
                | EditPerson
                | ViewStaffDirectory
        ),
        Role::TeamManager | Role::ServiceManager | Role::HeadOfService | Role::Director => {
            !matches!(action, ManageStaff | ManageTeams | ViewOperations | ManageDeliveries | ReadAuditTrail)
        }
        Role::Administrator => {
            matches!(action, ManageStaff | ManageTeams | ViewStaffDirectory | ViewOperations | ManageDeliveries)
        }
        Role::Partner => matches!(action, CreateReferral | ViewOwnReferrals),
        // Checks the trail from outside the work: sees who read and changed a record,
        // never the record itself.
        Role::Auditor => matches!(action, ReadAuditTrail | ViewRecordAccess),
    }
}

/// `Ok` when the actor's role permits `action`, else a [`Rejection::Forbidden`].
pub fn require(actor: &Actor, action: Action) -> Result<(), Rejection> {
    if permits(actor.role, action) {
        Ok(())
    } else {
        let role = actor.role.label().to_lowercase();
        // "an auditor", "an administrator": the message is read by people.
        let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        Err(Rejection::Forbidden(format!("{article} {role} cannot {}", action.describe())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_matrix_holds() {
        use Action::*;
        assert!(permits(Role::TeamManager, DecideReferral));
        assert!(permits(Role::Director, AllocateCase));
        assert!(!permits(Role::SocialWorker, DecideReferral));
        assert!(!permits(Role::SeniorPractitioner, AllocateCase));
        assert!(permits(Role::SocialWorker, RecordVisit));
        assert!(permits(Role::Partner, CreateReferral));
        for a in [DecideReferral, AllocateCase, RecordVisit, ViewChildRecords, EditPerson, ManageStaff] {
            assert!(!permits(Role::Partner, a), "partner must not {a:?}");
        }
        for a in [ViewChildRecords, DecideReferral, RecordVisit, CreateReferral] {
            assert!(!permits(Role::Administrator, a), "administrator must not {a:?}");
        }
        assert!(!permits(Role::HeadOfService, ManageStaff));
        assert!(permits(Role::TeamManager, ReviewDuplicates));
        for r in [Role::SocialWorker, Role::SeniorPractitioner, Role::Partner, Role::Administrator] {
            assert!(!permits(r, ReviewDuplicates), "{r:?} must not merge records");
        }
        assert!(permits(Role::Administrator, ViewOperations));
        assert!(permits(Role::Administrator, ManageDeliveries));
        for r in Role::ALL.iter().filter(|r| **r != Role::Administrator) {
            assert!(!permits(*r, ViewOperations), "{r:?} must not see operational figures");
            assert!(!permits(*r, ManageDeliveries), "{r:?} must not manage deliveries");
        }
    }

    #[test]
    fn only_the_auditor_reads_the_trail() {
        for r in Role::ALL {
            assert_eq!(permits(r, Action::ReadAuditTrail), r == Role::Auditor, "{r:?} and the trail");
        }
    }

    #[test]
    fn managers_and_the_auditor_see_who_viewed_a_record() {
        for r in Role::ALL {
            let expected = r.is_manager() || r == Role::Auditor;
            assert_eq!(permits(r, Action::ViewRecordAccess), expected, "{r:?} and a record's access");
        }
    }

    #[test]
    fn the_auditor_may_do_nothing_else() {
        use Action::*;
        let allowed: Vec<Action> = Action::ALL.into_iter().filter(|a| permits(Role::Auditor, *a)).collect();
        assert_eq!(allowed, vec![ReadAuditTrail, ViewRecordAccess]);
        let actor = Actor { staff: StaffId(9), login: "aud".into(), role: Role::Auditor, team: None, agency: None };
        assert_eq!(
            require(&actor, ViewChildRecords).unwrap_err(),
            Rejection::Forbidden("an auditor cannot see children's records".into())
        );
    }

    #[test]
    fn every_action_is_listed_once() {
        let mut described: Vec<&str> = Action::ALL.iter().map(|a| a.describe()).collect();
        described.sort_unstable();
        described.dedup();
        assert_eq!(described.len(), Action::ALL.len(), "each action once, each with its own words");
    }

    #[test]
    fn forbidden_says_who_and_what() {
        let actor = Actor { staff: StaffId(1), login: "sw".into(), role: Role::SocialWorker, team: None, agency: None };
        let err = require(&actor, Action::DecideReferral).unwrap_err();
        assert_eq!(err, Rejection::Forbidden("a social worker cannot decide referrals".into()));
    }
}
