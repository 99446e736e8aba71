//! Cases: allocation, visits, notes and closure.

use crate::input::{AllocationInput, VisitInput};
use crate::{Result, Service, audit_actor, not_found};
use domain::Rejection;
use domain::authz::{Action, Actor, require};
use domain::case;
use domain::ids::{CaseId, NoteId, PersonId, StaffId, VisitId};
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

/// Moving every case a worker holds, as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReallocationInput {
    /// Who takes them all; left out, each goes to the colleague in the team with the most
    /// room under their cap at that moment.
    #[serde(default)]
    pub to: Option<i64>,
    /// A manager's reason, needed if any move takes someone over their cap.
    #[serde(default)]
    pub override_reason: Option<String>,
}

impl Service {
    /// Moves every open case a worker holds (they are leaving, or away for long), each with
    /// the same checks as a single allocation, in one transaction: all move or none do.
    /// Returns the cases moved.
    pub async fn reallocate_all(&self, actor: &Actor, from: StaffId, input: &ReallocationInput) -> Result<Vec<CaseId>> {
        require(actor, Action::AllocateCase)?;
        let reason = match input.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(Reason::parse(r).map_err(|e| Rejection::invalid("override_reason", e))?),
            None => None,
        };
        let to = input.to.filter(|t| *t > 0).map(StaffId);
        if to == Some(from) {
            return Err(Rejection::invalid("to", "choose someone else to take the cases").into());
        }
        let now = self.now();
        let today = self.calendar().local_date(now);
        let mut tx = self.store().begin().await?;
        let policy = self.policy_in(&mut tx).await?;
        let leaving = tx.worker_state(from, &policy, today).await?.ok_or_else(|| not_found(from.reference()))?;
        let cases = tx.open_cases_of(from).await?;
        if cases.is_empty() {
            return Err(Rejection::conflict("to", format!("{} holds no open cases", leaving.name)).into());
        }
        let candidates = match to {
            Some(t) => vec![t],
            None => {
                let team = leaving
                    .team
                    .ok_or_else(|| Rejection::invalid("to", "they have no team; choose who takes the cases"))?;
                tx.team_practitioners(team).await?.into_iter().filter(|s| *s != from).collect()
            }
        };
        let mut workers = Vec::with_capacity(candidates.len());
        for c in candidates {
            let w = tx
                .worker_state(c, &policy, today)
                .await?
                .ok_or_else(|| Rejection::invalid("to", format!("there is no member of staff {c}")))?;
            workers.push(w);
        }
        if workers.is_empty() {
            return Err(Rejection::invalid("to", "nobody else in the team holds cases; choose who takes them").into());
        }
        // Brothers and sisters move together, so a family keeps one worker.
        let children: Vec<PersonId> = cases.iter().map(|c| c.child).collect();
        let links = tx.family_links(&children).await?;
        let mut events = vec![];
        let mut moved = vec![];
        let mut taking: std::collections::HashMap<StaffId, Vec<(PersonId, domain::case::Stage)>> = Default::default();
        for family in domain::caseload::family_groups(&children, &links) {
            // The colleague with the most room under their own cap takes the next family.
            let room = |w: &domain::case::WorkerState| domain::caseload::cap(w.fte, w.cap_per_fte) - w.load;
            let Some(target) = workers.iter_mut().max_by(|a, b| room(a).total_cmp(&room(b))) else { break };
            for i in family {
                let case = &cases[i];
                let taken = taking.entry(target.id).or_default();
                taken.push((case.child, case.stage));
                let after = tx.load_with(target.id, &policy.caseload_weights, taken).await?;
                let case_events = case::allocate(case, target, actor, now, reason.clone(), after - target.load)?;
                target.load = after;
                events.extend(case_events);
                moved.push(case.id);
            }
        }
        self.finish(tx, &audit_actor(actor), "case.reallocate_all", &from.subject(), now, &events).await?;
        Ok(moved)
    }

    /// Allocates a case to a worker, with their caseload checked against their cap.
    pub async fn allocate(&self, actor: &Actor, id: CaseId, input: &AllocationInput) -> Result<()> {
        require(actor, Action::AllocateCase)?;
        let (worker, override_reason) = input.parse()?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let state = tx.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let policy = self.policy_in(&mut tx).await?;
        let (worker, after) = tx
            .worker_state_adding(worker, &policy, self.calendar().local_date(now), &[(state.child, state.stage)])
            .await?
            .ok_or_else(|| Rejection::invalid("worker", format!("there is no member of staff {worker}")))?;
        let events = case::allocate(&state, &worker, actor, now, override_reason, after - worker.load)?;
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
