//! Read-backs: what the caller's own command has just written, read for the reply to it,
//! where no query that the caller may make shows it.
//!
//! Each is authorised as the command it follows is, so whoever may make the change may
//! read back what they wrote; one who may not read the whole record (the police after a
//! visit, a partner after a concern) reads back only their own. None is on the trail:
//! like the queries in `views.rs`, a read-back records no entry of its own.

use crate::{Caller, Result, Service, not_found};
use domain::authz::{Action, Actor, permits, require};
use domain::ids::{CaseId, NoteId, PersonId, StaffId, VisitId};
use domain::staff::Agency;
use store::query::{self, AbsenceView, ChildRecord, ConcernView, NoteView, ThresholdDecisionView, VisitView};

impl Service {
    /// A visit just recorded on a case, as the child's record shows it.
    pub async fn visit_written(&self, actor: &Actor, case: CaseId, visit: VisitId) -> Result<VisitView> {
        // As `record_visit`: the police, asked to check on a child, record visits too.
        if actor.agency != Some(Agency::Police) {
            require(actor, Action::RecordVisit)?;
        }
        let v = self.record_of_case(case).await?.visits.into_iter().find(|v| v.id == visit);
        v.filter(|v| permits(actor.role, Action::ViewChildRecords) || v.by.id == actor.staff)
            .ok_or_else(|| not_found(visit.reference()))
    }

    /// A case note just written, as the child's record shows it.
    pub async fn note_written(&self, actor: &Actor, case: CaseId, note: NoteId) -> Result<NoteView> {
        require(actor, Action::AddCaseNote)?;
        let n = self.record_of_case(case).await?.notes.into_iter().find(|n| n.id == note);
        n.filter(|n| permits(actor.role, Action::ViewChildRecords) || n.author.id == actor.staff)
            .ok_or_else(|| not_found(note.reference()))
    }

    /// A threshold decision just recorded about a child.
    pub async fn threshold_decision_written(
        &self,
        actor: &Actor,
        child: PersonId,
        decision: i64,
    ) -> Result<ThresholdDecisionView> {
        require(actor, Action::ViewChildRecords)?;
        let found = query::threshold_decisions(self.store(), child).await?.into_iter().find(|d| d.id == decision);
        found.ok_or_else(|| not_found(format!("threshold decision {decision}")))
    }

    /// A concern just recorded about a child.
    pub async fn concern_written(&self, actor: &Actor, child: PersonId, concern: i64) -> Result<ConcernView> {
        // As `record_concern`: partners record concerns, but may read back only their own.
        require(actor, Action::CreateReferral)?;
        let found = query::concerns(self.store(), child).await?.into_iter().find(|c| c.id == concern);
        found
            .filter(|c| permits(actor.role, Action::ViewChildRecords) || c.by.id == actor.staff)
            .ok_or_else(|| not_found(format!("concern {concern}")))
    }

    /// A member of staff's absence just set.
    pub async fn absence_written(&self, by: Caller<'_>, staff: StaffId) -> Result<AbsenceView> {
        // As `set_absence`: anyone for themselves, managers for anyone, else administrators.
        if !matches!(by, Caller::Staff(a) if a.staff == staff || a.role.is_manager()) {
            by.require(Action::ManageStaff)?;
        }
        query::absence(self.store(), staff).await?.ok_or_else(|| not_found(staff.reference()))
    }

    /// The record of the child a case is about.
    async fn record_of_case(&self, case: CaseId) -> Result<ChildRecord> {
        let c = query::case(self.store(), case).await?.ok_or_else(|| not_found(case.reference()))?;
        query::child_record(self.store(), c.child.id).await?.ok_or_else(|| not_found(c.child.id.reference()))
    }
}
