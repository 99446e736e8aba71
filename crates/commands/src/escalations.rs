//! Acting on escalations, and the policy and absences that steer them.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, Result, Service};
use domain::Rejection;
use domain::authz::{Action, Actor};
use domain::escalation::{self, Ctx, EscalationId, Policy};
use domain::ids::StaffId;
use domain::staff::Role;
use domain::text::Reason;
use serde::Deserialize;

/// An acknowledgement as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AcknowledgeInput {
    /// What the person is doing about it.
    #[serde(default)]
    pub note: Option<String>,
}

/// A resolution by hand as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ResolveInput {
    /// The action taken (required).
    #[serde(default)]
    pub action: String,
}

/// A professional disagreement as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DisagreementInput {
    /// What the partner disagrees with, and why.
    #[serde(default)]
    pub text: String,
}

/// An absence as it arrives.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AbsenceInput {
    /// Away until (RFC 3339 or local `2026-03-02T09:00`); empty means back now.
    #[serde(default)]
    pub until: Option<String>,
}

/// Acknowledges an escalation (its assignee, or a manager at or above its level).
struct Acknowledge<'a> {
    id: EscalationId,
    input: &'a AcknowledgeInput,
}

/// Only social care staff act on escalations.
fn social_care_staff(caller: &Caller<'_>) -> Result<()> {
    match caller {
        Caller::Staff(a)
            if !a.role.is_manager() && a.role != Role::SocialWorker && a.role != Role::SeniorPractitioner =>
        {
            Err(Rejection::Forbidden("only social care staff can act on escalations".into()).into())
        }
        _ => Ok(()),
    }
}

impl Command for Acknowledge<'_> {
    type Output = ();
    const ACTION: &'static str = "escalation.acknowledge";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        social_care_staff(caller)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id) = (load.actor()?, self.id);
        let note = self.input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > 4000) {
            return Err(Rejection::invalid("note", "the note must be 4000 characters or fewer").into());
        }
        let esc = load.escalation(id).await?.ok_or_else(|| crate::not_found(id.reference()))?;
        let policy = load.policy().await?;
        let ctx = Ctx { policy: &policy, calendar: load.calendar(), now: load.now() };
        let out = escalation::acknowledge(&ctx, &esc, actor, note)?;
        Ok(Decided::new(id.subject(), out.events, ()).with_timers(out.timers))
    }
}

/// Resolves an escalation by hand, recording the action taken.
struct Resolve<'a> {
    id: EscalationId,
    input: &'a ResolveInput,
}

impl Command for Resolve<'_> {
    type Output = ();
    const ACTION: &'static str = "escalation.resolve";

    fn authorise(&self, _caller: &Caller<'_>) -> Result<()> {
        // Who may resolve depends on the escalation: the domain decides.
        Ok(())
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id) = (load.actor()?, self.id);
        let action = Reason::parse(&self.input.action)
            .map_err(|e| Rejection::invalid("action", e.replace("the reason", "the action taken")))?;
        let esc = load.escalation(id).await?.ok_or_else(|| crate::not_found(id.reference()))?;
        let policy = load.policy().await?;
        let ctx = Ctx { policy: &policy, calendar: load.calendar(), now: load.now() };
        let out = escalation::resolve_by_hand(&ctx, &esc, actor, action)?;
        Ok(Decided::new(id.subject(), out.events, ()).with_timers(out.timers))
    }
}

/// A partner raises a professional disagreement about the decision on a referral they made.
struct RaiseDisagreement<'a> {
    referral: domain::ids::ReferralId,
    input: &'a DisagreementInput,
}

impl Command for RaiseDisagreement<'_> {
    type Output = i64;
    const ACTION: &'static str = "disagreement.raise";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        match caller {
            Caller::Staff(a) if a.role == Role::Partner => Ok(()),
            _ => Err(Rejection::Forbidden("professional disagreements are raised by partner agencies".into()).into()),
        }
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<i64>> {
        let (actor, referral, now) = (load.actor()?, self.referral, load.now());
        let text = domain::text::ConcernText::parse(&self.input.text)
            .map_err(|e| Rejection::invalid("text", e.replace("the concern", "what you disagree with")))?;
        let Some(r) = load.referral_state(referral).await? else { return Err(crate::not_found(referral.reference())) };
        let made_by_them = load.referral_recorded_by(referral).await? == Some(actor.staff);
        let id = load.next_id("disagreement").await?;
        let event = escalation::disagreement::raise(id, &r, made_by_them, actor.staff, text, now)?;
        Ok(Decided::new(format!("disagreement:{id}"), vec![event], id))
    }
}

/// Marks someone away until a time (managers for their staff; anyone for themselves).
struct SetAbsence<'a> {
    staff: StaffId,
    input: &'a AbsenceInput,
}

impl Command for SetAbsence<'_> {
    type Output = ();
    const ACTION: &'static str = "staff.set_absence";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        match caller {
            Caller::Staff(a) if a.staff == self.staff || a.role.is_manager() => Ok(()),
            _ => caller.require(Action::ManageStaff),
        }
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let staff = self.staff;
        let until = match self.input.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(crate::input::parse_moment(s).map_err(|e| Rejection::invalid("until", e))?),
            None => None,
        };
        let event = domain::accounts::set_absence(staff, until, load.now())?;
        if load.staff_actor(staff).await?.is_none() {
            return Err(crate::not_found(staff.reference()));
        }
        Ok(Decided::new(staff.subject(), vec![event], ()))
    }
}

/// Replaces the escalation policy with a new version.
struct SetPolicy<'a> {
    policy: &'a Policy,
}

impl Command for SetPolicy<'_> {
    type Output = i64;
    const ACTION: &'static str = "policy.set";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ManageTeams)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<i64>> {
        let current = load.current_policy().await?.map(|(v, _)| v).unwrap_or(0);
        let event = escalation::set_policy(current, self.policy)?;
        let version = current + 1;
        Ok(Decided::new(format!("policy:{version}"), vec![event], version))
    }
}

impl Service {
    /// Acknowledges an escalation (its assignee, or a manager at or above its level).
    pub async fn acknowledge_escalation(
        &self,
        actor: &Actor,
        id: EscalationId,
        input: &AcknowledgeInput,
    ) -> Result<()> {
        self.execute(Caller::Staff(actor), Acknowledge { id, input }).await
    }

    /// Resolves an escalation by hand, recording the action taken.
    pub async fn resolve_escalation(&self, actor: &Actor, id: EscalationId, input: &ResolveInput) -> Result<()> {
        self.execute(Caller::Staff(actor), Resolve { id, input }).await
    }

    /// A partner raises a professional disagreement about the decision on a referral they
    /// made. It escalates through the team's line in stages; the partner sees the stage.
    pub async fn raise_disagreement(
        &self,
        actor: &Actor,
        referral: domain::ids::ReferralId,
        input: &DisagreementInput,
    ) -> Result<i64> {
        self.execute(Caller::Staff(actor), RaiseDisagreement { referral, input }).await
    }

    /// Marks someone away until a time (managers for their staff; anyone for themselves).
    pub async fn set_absence(&self, by: Caller<'_>, staff: StaffId, input: &AbsenceInput) -> Result<()> {
        self.execute(by, SetAbsence { staff, input }).await
    }

    /// Replaces the escalation policy with a new version (administrators; the CLI).
    /// Timers already running keep the times they were set with; everything from now on
    /// follows the new policy.
    pub async fn set_policy(&self, by: Caller<'_>, policy: &Policy) -> Result<i64> {
        self.execute(by, SetPolicy { policy }).await
    }
}
