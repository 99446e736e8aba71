//! Acting on escalations, and the policy and absences that steer them.

use crate::{Caller, Result, Service, audit_actor};
use domain::Rejection;
use domain::authz::{Action, Actor};
use domain::escalation::{self, Ctx, EscalationId, Policy};
use domain::event::Event;
use domain::ids::StaffId;
use domain::staff::Role;
use domain::text::Reason;
use jiff::Timestamp;
use serde::Deserialize;

/// An acknowledgement as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AcknowledgeInput {
    /// What the person is doing about it.
    #[serde(default)]
    pub note: Option<String>,
}

/// A resolution by hand as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResolveInput {
    /// The action taken (required).
    #[serde(default)]
    pub action: String,
}

/// A professional disagreement as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DisagreementInput {
    /// What the partner disagrees with, and why.
    #[serde(default)]
    pub text: String,
}

/// An absence as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AbsenceInput {
    /// Away until (RFC 3339 or local `2026-03-02T09:00`); empty means back now.
    #[serde(default)]
    pub until: Option<String>,
}

impl Service {
    /// Acknowledges an escalation (its assignee, or a manager at or above its level).
    pub async fn acknowledge_escalation(
        &self,
        actor: &Actor,
        id: EscalationId,
        input: &AcknowledgeInput,
    ) -> Result<()> {
        if !actor.role.is_manager() && actor.role != Role::SocialWorker && actor.role != Role::SeniorPractitioner {
            return Err(Rejection::Forbidden("only social care staff can act on escalations".into()).into());
        }
        let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > 4000) {
            return Err(Rejection::invalid("note", "the note must be 4000 characters or fewer").into());
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let esc = self.load_escalation(&mut tx, id).await?;
        let policy = self.policy_in(&mut tx).await?;
        let ctx = Ctx { policy: &policy, calendar: self.calendar(), now };
        let out = escalation::acknowledge(&ctx, &esc, actor, note)?;
        self.apply_outcome(&mut tx, out, now).await?;
        tx.record(&audit_actor(actor), "escalation.acknowledge", &id.subject(), now, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves an escalation by hand, recording the action taken.
    pub async fn resolve_escalation(&self, actor: &Actor, id: EscalationId, input: &ResolveInput) -> Result<()> {
        let action = Reason::parse(&input.action)
            .map_err(|e| Rejection::invalid("action", e.replace("the reason", "the action taken")))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let esc = self.load_escalation(&mut tx, id).await?;
        let policy = self.policy_in(&mut tx).await?;
        let ctx = Ctx { policy: &policy, calendar: self.calendar(), now };
        let out = escalation::resolve_by_hand(&ctx, &esc, actor, action)?;
        self.apply_outcome(&mut tx, out, now).await?;
        tx.record(&audit_actor(actor), "escalation.resolve", &id.subject(), now, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A partner raises a professional disagreement about the decision on a referral they
    /// made. It escalates through the team's line in stages; the partner sees the stage.
    pub async fn raise_disagreement(
        &self,
        actor: &Actor,
        referral: domain::ids::ReferralId,
        input: &DisagreementInput,
    ) -> Result<i64> {
        if actor.role != Role::Partner {
            return Err(Rejection::Forbidden("professional disagreements are raised by partner agencies".into()).into());
        }
        let text = domain::text::ConcernText::parse(&input.text)
            .map_err(|e| Rejection::invalid("text", e.replace("the concern", "what you disagree with")))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let Some(r) = tx.referral_state(referral).await? else { return Err(crate::not_found(referral.reference())) };
        let view = store::query::referral(self.store(), referral).await?;
        if view.as_ref().is_none_or(|v| v.recorded_by.id != actor.staff) {
            // Not found rather than forbidden: other agencies' referrals stay undiscoverable.
            return Err(crate::not_found(referral.reference()));
        }
        if r.decision.is_none() {
            return Err(Rejection::conflict("referral", "the referral has not been decided yet").into());
        }
        let id = tx.next_id("disagreement").await?;
        let event =
            Event::DisagreementRaised { disagreement: id, referral, team: r.team, by: actor.staff, text, at: now };
        self.finish(tx, &audit_actor(actor), "disagreement.raise", &format!("disagreement:{id}"), now, &[event])
            .await?;
        Ok(id)
    }

    /// Marks someone away until a time (managers for their staff; anyone for themselves).
    pub async fn set_absence(&self, by: Caller<'_>, staff: StaffId, input: &AbsenceInput) -> Result<()> {
        if !matches!(by, Caller::Staff(a) if a.staff == staff || a.role.is_manager()) {
            by.require(Action::ManageStaff)?;
        }
        let until = match input.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(crate::input::parse_moment(s).map_err(|e| Rejection::invalid("until", e))?),
            None => None,
        };
        let now = self.now();
        if until.is_some_and(|u: Timestamp| u <= now) {
            return Err(Rejection::invalid("until", "the end of the absence must be in the future").into());
        }
        let mut tx = self.store().begin().await?;
        if tx.staff_actor(staff).await?.is_none() {
            return Err(crate::not_found(staff.reference()));
        }
        tx.record(&by.audit(), "staff.set_absence", &staff.subject(), now, &[Event::AbsenceSet { staff, until }])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the escalation policy with a new version (administrators; the CLI).
    /// Timers already running keep the times they were set with; everything from now on
    /// follows the new policy.
    pub async fn set_policy(&self, by: Caller<'_>, policy: &Policy) -> Result<i64> {
        by.require(Action::ManageTeams)?;
        policy.validate().map_err(|e| match e {
            escalation::PolicyError::Invalid { field, message } => Rejection::invalid(field, message),
            escalation::PolicyError::Malformed(m) => Rejection::invalid("policy", m),
        })?;
        let body = serde_json::to_value(policy).map_err(|e| Rejection::invalid("policy", e.to_string()))?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let version = tx.current_policy().await?.map(|(v, _)| v).unwrap_or(0) + 1;
        tx.record(
            &by.audit(),
            "policy.set",
            &format!("policy:{version}"),
            now,
            &[Event::PolicySet { version, policy: body }],
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}
