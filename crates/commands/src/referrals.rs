//! Referrals: recording them and the front-door decision.

use crate::executor::{Command, Decided, Load};
use crate::input::{DecisionInput, ReferralChild, ReferralInput};
use crate::{Caller, Result, Service, not_found};
use domain::authz::{Action, Actor};
use domain::event::Event;
use domain::ids::{CaseId, PersonId, ReferralId};
use domain::referral;
use domain::referral::intake::{self, NamedChild};

/// What a decision did: the cases it opened or joined.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionOutcome {
    /// Cases opened by the decision.
    pub opened: Vec<CaseId>,
    /// Open cases the referral joined.
    pub linked: Vec<CaseId>,
}

/// Records a referral, registering any new children named in it.
struct CreateReferral<'a> {
    input: &'a ReferralInput,
}

impl Command for CreateReferral<'_> {
    type Output = ReferralId;
    const ACTION: &'static str = "referral.create";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::CreateReferral)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<ReferralId>> {
        let actor = load.actor()?;
        let mut r = self.input.parse(load.today())?;
        let team_exists = load.team_exists(r.team).await?;
        let mut children = Vec::with_capacity(r.children.len());
        for child in std::mem::take(&mut r.children) {
            children.push(match child {
                ReferralChild::Existing(person) => {
                    NamedChild::Existing { person, on_record: load.person_exists(person).await? }
                }
                ReferralChild::New(details) => {
                    NamedChild::New { person: PersonId(load.next_id(PersonId::KIND).await?), details }
                }
            });
        }
        let referral = ReferralId(load.next_id(ReferralId::KIND).await?);
        let events = intake::receive(referral, r, children, team_exists, actor.staff, load.now())?;
        Ok(Decided::new(referral.subject(), events, referral))
    }
}

/// Makes the front-door decision on a referral.
struct DecideReferral<'a> {
    id: ReferralId,
    input: &'a DecisionInput,
}

impl Command for DecideReferral<'_> {
    type Output = DecisionOutcome;
    const ACTION: &'static str = "referral.decide";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::DecideReferral)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<DecisionOutcome>> {
        let actor = load.actor()?;
        let (decision, reason) = self.input.parse()?;
        let id = self.id;
        let state = load.referral_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let mut open = Vec::new();
        for child in &state.children {
            open.push((*child, load.open_case_for_child(*child).await?.map(|c| c.id)));
        }
        let mut new_ids = Vec::new();
        if decision.opens_case() && state.decision.is_none() {
            for _ in open.iter().filter(|(_, c)| c.is_none()) {
                new_ids.push(CaseId(load.next_id(CaseId::KIND).await?));
            }
        }
        let events = referral::decide(&state, decision, reason, actor.staff, load.now(), &open, &new_ids)?;
        let mut outcome = DecisionOutcome { opened: vec![], linked: vec![] };
        for e in &events {
            match e {
                Event::CaseOpened { case, .. } => outcome.opened.push(*case),
                Event::ReferralLinkedToCase { case, .. } => outcome.linked.push(*case),
                _ => {}
            }
        }
        Ok(Decided::new(id.subject(), events, outcome))
    }
}

impl Service {
    /// Records a referral, registering any new children named in it.
    pub async fn create_referral(&self, actor: &Actor, input: &ReferralInput) -> Result<ReferralId> {
        self.execute(Caller::Staff(actor), CreateReferral { input }).await
    }

    /// Makes the front-door decision on a referral.
    pub async fn decide_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        input: &DecisionInput,
    ) -> Result<DecisionOutcome> {
        self.execute(Caller::Staff(actor), DecideReferral { id, input }).await
    }
}
