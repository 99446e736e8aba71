//! Cases: allocation, visits, notes and closure.

use crate::executor::{Command, Decided, Load};
use crate::input::{AllocationInput, VisitInput};
use crate::{Caller, Result, Service, not_found};
use domain::Rejection;
use domain::authz::{Action, Actor};
use domain::case;
use domain::ids::{CaseId, NoteId, PersonId, StaffId, VisitId};
use domain::text::{NoteText, Reason};
use serde::Deserialize;

/// A case note as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NoteInput {
    /// The note.
    #[serde(default)]
    pub text: String,
}

/// A closure as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CloseInput {
    /// Why the case is closing.
    #[serde(default)]
    pub reason: String,
}

/// Moving every case a worker holds, as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReallocationInput {
    /// Who takes them all; left out, each goes to the colleague in the team with the most
    /// room under their cap at that moment.
    #[serde(default)]
    pub to: Option<i64>,
    /// A manager's reason, needed if any move takes someone over their cap.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// Moves every open case a worker holds, each with the same checks as a single
/// allocation; all move or none do.
struct ReallocateAll<'a> {
    from: StaffId,
    input: &'a ReallocationInput,
}

impl Command for ReallocateAll<'_> {
    type Output = Vec<CaseId>;
    const ACTION: &'static str = "case.reallocate_all";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::AllocateCase)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<Vec<CaseId>>> {
        let (actor, from, input) = (load.actor()?, self.from, self.input);
        let reason = match input.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(Reason::parse(r).map_err(|e| Rejection::invalid("override_reason", e))?),
            None => None,
        };
        let to = input.to.filter(|t| *t > 0).map(StaffId);
        if to == Some(from) {
            return Err(Rejection::invalid("to", "choose someone else to take the cases").into());
        }
        let (now, today) = (load.now(), load.today());
        let policy = load.policy().await?;
        let leaving = load.worker_state(from, &policy, today).await?.ok_or_else(|| not_found(from.reference()))?;
        let cases = load.open_cases_of(from).await?;
        if cases.is_empty() {
            return Err(Rejection::conflict("to", format!("{} holds no open cases", leaving.name)).into());
        }
        let candidates = match to {
            Some(t) => vec![t],
            None => {
                let team = leaving
                    .team
                    .ok_or_else(|| Rejection::invalid("to", "they have no team; choose who takes the cases"))?;
                load.team_practitioners(team).await?.into_iter().filter(|s| *s != from).collect()
            }
        };
        let mut workers = Vec::with_capacity(candidates.len());
        for c in candidates {
            let w = load
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
        let links = load.family_links(&children).await?;
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
                let after = load.load_with(target.id, &policy.caseload_weights, taken).await?;
                let case_events = case::allocate(case, target, actor, now, reason.clone(), after - target.load)?;
                target.load = after;
                events.extend(case_events);
                moved.push(case.id);
            }
        }
        Ok(Decided::new(from.subject(), events, moved))
    }
}

/// Allocates a case to a worker, with their caseload checked against their cap.
struct Allocate<'a> {
    id: CaseId,
    input: &'a AllocationInput,
}

impl Command for Allocate<'_> {
    type Output = ();
    const ACTION: &'static str = "case.allocate";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::AllocateCase)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id) = (load.actor()?, self.id);
        let (worker, override_reason) = self.input.parse()?;
        let state = load.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let policy = load.policy().await?;
        let today = load.today();
        let (worker, after) = load
            .worker_state_adding(worker, &policy, today, &[(state.child, state.stage)])
            .await?
            .ok_or_else(|| Rejection::invalid("worker", format!("there is no member of staff {worker}")))?;
        let events = case::allocate(&state, &worker, actor, load.now(), override_reason, after - worker.load)?;
        Ok(Decided::new(id.subject(), events, ()))
    }
}

/// Records a visit to the child on a case.
struct RecordVisit<'a> {
    id: CaseId,
    input: &'a VisitInput,
}

impl Command for RecordVisit<'_> {
    type Output = VisitId;
    const ACTION: &'static str = "visit.record";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        // The police record the visits that answer welfare-check requests.
        match caller {
            Caller::Staff(a) if a.agency == Some(domain::staff::Agency::Police) => Ok(()),
            _ => caller.require(Action::RecordVisit),
        }
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<VisitId>> {
        let (actor, id, now) = (load.actor()?, self.id, load.now());
        let (at, outcome, note) = self.input.parse()?;
        let state = load.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let visit = VisitId(load.next_id(VisitId::KIND).await?);
        let asked = actor.agency == Some(domain::staff::Agency::Police)
            && load.welfare_check_requested(state.child, state.opened_at).await?;
        let events = case::record_visit(&state, actor, visit, at.unwrap_or(now), outcome, note, now, asked)?;
        Ok(Decided::new(id.subject(), events, visit))
    }
}

/// Writes a case note.
struct AddCaseNote<'a> {
    id: CaseId,
    input: &'a NoteInput,
}

impl Command for AddCaseNote<'_> {
    type Output = NoteId;
    const ACTION: &'static str = "case.add_note";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::AddCaseNote)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<NoteId>> {
        let (actor, id) = (load.actor()?, self.id);
        let text = NoteText::parse(&self.input.text).map_err(|e| Rejection::invalid("text", e))?;
        let state = load.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let note = NoteId(load.next_id(NoteId::KIND).await?);
        let events = case::add_note(&state, actor, note, text, load.now())?;
        Ok(Decided::new(id.subject(), events, note))
    }
}

/// Closes a case.
struct CloseCase<'a> {
    id: CaseId,
    input: &'a CloseInput,
}

impl Command for CloseCase<'_> {
    type Output = ();
    const ACTION: &'static str = "case.close";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::CloseCase)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id) = (load.actor()?, self.id);
        let reason = Reason::parse(&self.input.reason).map_err(|e| Rejection::invalid("reason", e))?;
        let state = load.case_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let events = case::close(&state, actor, reason, load.now())?;
        Ok(Decided::new(id.subject(), events, ()))
    }
}

impl Service {
    /// Moves every open case a worker holds (they are leaving, or away for long), each with
    /// the same checks as a single allocation, in one transaction: all move or none do.
    /// Returns the cases moved.
    pub async fn reallocate_all(&self, actor: &Actor, from: StaffId, input: &ReallocationInput) -> Result<Vec<CaseId>> {
        self.execute(Caller::Staff(actor), ReallocateAll { from, input }).await
    }

    /// Allocates a case to a worker, with their caseload checked against their cap.
    pub async fn allocate(&self, actor: &Actor, id: CaseId, input: &AllocationInput) -> Result<()> {
        self.execute(Caller::Staff(actor), Allocate { id, input }).await
    }

    /// Records a visit to the child on a case.
    pub async fn record_visit(&self, actor: &Actor, id: CaseId, input: &VisitInput) -> Result<VisitId> {
        self.execute(Caller::Staff(actor), RecordVisit { id, input }).await
    }

    /// Writes a case note.
    pub async fn add_case_note(&self, actor: &Actor, id: CaseId, input: &NoteInput) -> Result<NoteId> {
        self.execute(Caller::Staff(actor), AddCaseNote { id, input }).await
    }

    /// Closes a case.
    pub async fn close_case(&self, actor: &Actor, id: CaseId, input: &CloseInput) -> Result<()> {
        self.execute(Caller::Staff(actor), CloseCase { id, input }).await
    }
}
