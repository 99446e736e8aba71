//! Cases: allocation, visits, notes and closure.

use crate::input::{AllocationInput, VisitInput};
use crate::{Result, Service, audit_actor, not_found};
use domain::Rejection;
use domain::authz::{Action, Actor, require};
use domain::case;
use domain::ids::{CaseId, NoteId, VisitId};
use domain::text::{NoteText, Reason};
use serde::Deserialize;

/// A case note as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NoteInput {
    /// The note.
    #[serde(default)]
    pub text: String,
}

/// A closure as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CloseInput {
    /// Why the case is closing.
    #[serde(default)]
    pub reason: String,
}

impl Service {
    /// Allocates a case to a worker, with their caseload checked against their cap.
    pub async fn allocate(&self, actor: &Actor, id: CaseId, input: &AllocationInput) -> Result<()> {
        require(actor, Action::AllocateCase)?;
        let (worker, override_reason) = input.parse()?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let state = tx.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let policy = self.policy_in(&mut tx).await?;
        let worker = tx
            .worker_state(worker, &policy, self.calendar().local_date(now))
            .await?
            .ok_or_else(|| Rejection::invalid("worker", format!("there is no member of staff {worker}")))?;
        let weight = policy.caseload_weights.of(state.stage);
        let events = case::allocate(&state, &worker, actor, now, override_reason, weight)?;
        self.finish(tx, &audit_actor(actor), "case.allocate", &id.subject(), now, &events).await?;
        Ok(())
    }

    /// Records a visit to the child on a case.
    pub async fn record_visit(&self, actor: &Actor, id: CaseId, input: &VisitInput) -> Result<VisitId> {
        if actor.agency != Some(domain::staff::Agency::Police) {
            require(actor, Action::RecordVisit)?;
        }
        let (at, outcome, note) = input.parse()?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let state = tx.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let visit = VisitId(tx.next_id(VisitId::KIND).await?);
        let asked = actor.agency == Some(domain::staff::Agency::Police)
            && tx.welfare_check_requested(state.child, state.opened_at).await?;
        let events = case::record_visit(&state, actor, visit, at.unwrap_or(now), outcome, note, now, asked)?;
        self.finish(tx, &audit_actor(actor), "visit.record", &id.subject(), now, &events).await?;
        Ok(visit)
    }

    /// Writes a case note.
    pub async fn add_case_note(&self, actor: &Actor, id: CaseId, input: &NoteInput) -> Result<NoteId> {
        require(actor, Action::AddCaseNote)?;
        let text = NoteText::parse(&input.text).map_err(|e| Rejection::invalid("text", e))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let state = tx.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let note = NoteId(tx.next_id(NoteId::KIND).await?);
        let events = case::add_note(&state, actor, note, text, now)?;
        self.finish(tx, &audit_actor(actor), "case.add_note", &id.subject(), now, &events).await?;
        Ok(note)
    }

    /// Closes a case.
    pub async fn close_case(&self, actor: &Actor, id: CaseId, input: &CloseInput) -> Result<()> {
        require(actor, Action::CloseCase)?;
        let reason = Reason::parse(&input.reason).map_err(|e| Rejection::invalid("reason", e))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let state = tx.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let events = case::close(&state, actor, reason, now)?;
        self.finish(tx, &audit_actor(actor), "case.close", &id.subject(), now, &events).await?;
        Ok(())
    }
}
