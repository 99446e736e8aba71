//! Referrals: recording them and the front-door decision.

use crate::executor::{Command, Decided, Load};
use crate::input::{DecisionInput, ReferralChild, ReferralInput};
use crate::{Caller, Result, Service, not_found};
use domain::authz::{Action, Actor};
use domain::event::Event;
use domain::ids::{CaseId, PersonId, ReferralId};
use domain::{Rejection, referral};
use jiff::SignedDuration;

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
        let r = self.input.parse(load.today())?;
        let now = load.now();
        let received_at = r.received_at.unwrap_or(now);
        if received_at > now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now) {
            return Err(Rejection::invalid("received_at", "the time received cannot be in the future").into());
        }
        if !load.team_exists(r.team).await? {
            return Err(Rejection::invalid("team", format!("there is no team {}", r.team)).into());
        }
        let mut events = Vec::new();
        let mut children = Vec::new();
        for (i, child) in r.children.into_iter().enumerate() {
            match child {
                ReferralChild::Existing(p) => {
                    if !load.person_exists(p).await? {
                        return Err(Rejection::invalid(
                            format!("children[{i}].person_id"),
                            format!("there is no person {}", p.reference()),
                        )
                        .into());
                    }
                    if children.contains(&p) {
                        return Err(Rejection::invalid(
                            format!("children[{i}].person_id"),
                            "this child is named twice",
                        )
                        .into());
                    }
                    children.push(p);
                }
                ReferralChild::New(details) => {
                    let person = PersonId(load.next_id(PersonId::KIND).await?);
                    events.push(Event::PersonRegistered { person, details });
                    children.push(person);
                }
            }
        }
        let referral = ReferralId(load.next_id(ReferralId::KIND).await?);
        events.push(Event::ReferralReceived {
            referral,
            team: r.team,
            source: r.source,
            referrer: r.referrer,
            recorded_by: actor.staff,
            received_at,
            concern: r.concern,
            categories: r.categories,
            children,
        });
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
