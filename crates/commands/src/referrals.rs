//! Referrals: recording them and the front-door decision.

use crate::input::{DecisionInput, ReferralChild, ReferralInput};
use crate::{Result, Service, audit_actor, not_found};
use domain::authz::{Action, Actor, require};
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

impl Service {
    /// Records a referral, registering any new children named in it.
    pub async fn create_referral(&self, actor: &Actor, input: &ReferralInput) -> Result<ReferralId> {
        require(actor, Action::CreateReferral)?;
        let r = input.parse(self.today())?;
        let now = self.now();
        let received_at = r.received_at.unwrap_or(now);
        if received_at > now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now) {
            return Err(Rejection::invalid("received_at", "the time received cannot be in the future").into());
        }
        let mut tx = self.store().begin().await?;
        if !tx.team_exists(r.team).await? {
            return Err(Rejection::invalid("team", format!("there is no team {}", r.team)).into());
        }
        let mut events = Vec::new();
        let mut children = Vec::new();
        for (i, child) in r.children.into_iter().enumerate() {
            match child {
                ReferralChild::Existing(p) => {
                    if !tx.person_exists(p).await? {
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
                    let person = PersonId(tx.next_id(PersonId::KIND).await?);
                    events.push(Event::PersonRegistered { person, details });
                    children.push(person);
                }
            }
        }
        let referral = ReferralId(tx.next_id(ReferralId::KIND).await?);
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
        self.finish(tx, &audit_actor(actor), "referral.create", &referral.subject(), now, &events).await?;
        Ok(referral)
    }

    /// Makes the front-door decision on a referral.
    pub async fn decide_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        input: &DecisionInput,
    ) -> Result<DecisionOutcome> {
        require(actor, Action::DecideReferral)?;
        let (decision, reason) = input.parse()?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let state = tx.referral_state(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let mut open = Vec::new();
        for child in &state.children {
            open.push((*child, tx.open_case_for_child(*child).await?.map(|c| c.id)));
        }
        let mut new_ids = Vec::new();
        if decision.opens_case() && state.decision.is_none() {
            for _ in open.iter().filter(|(_, c)| c.is_none()) {
                new_ids.push(CaseId(tx.next_id(CaseId::KIND).await?));
            }
        }
        let events = referral::decide(&state, decision, reason, actor.staff, now, &open, &new_ids)?;
        let mut outcome = DecisionOutcome { opened: vec![], linked: vec![] };
        for e in &events {
            match e {
                Event::CaseOpened { case, .. } => outcome.opened.push(*case),
                Event::ReferralLinkedToCase { case, .. } => outcome.linked.push(*case),
                _ => {}
            }
        }
        self.finish(tx, &audit_actor(actor), "referral.decide", &id.subject(), now, &events).await?;
        Ok(outcome)
    }
}
