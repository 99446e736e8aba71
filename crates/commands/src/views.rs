//! Queries: what each person may see, read through the store's views.

use crate::{CommandError, Result, Service, not_found};
use domain::Rejection;
use domain::authz::{Action, Actor, require};
use domain::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use domain::staff::Role;
use store::query::{self, CaseFilter, ReferralFilter};

/// A worker as a candidate for a case.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Candidate {
    /// Who, with their load.
    #[serde(flatten)]
    pub worker: query::WorkerLoad,
    /// Their cap (smaller in their first year after qualifying).
    pub cap: f64,
    /// `cap − load`.
    pub headroom: f64,
    /// In their first year after qualifying.
    pub newly_qualified: bool,
    /// How many of the child's brothers and sisters they hold.
    pub siblings_held: i64,
    /// What this child would add to their load (less for whoever holds the family,
    /// when the policy counts brothers and sisters as one case).
    pub adds: f64,
    /// Away until then, if away now.
    pub away_until: Option<jiff::Timestamp>,
}

impl Service {
    /// A child's (or adult's) whole record.
    pub async fn child_record(&self, actor: &Actor, id: PersonId) -> Result<query::ChildRecord> {
        require(actor, Action::ViewChildRecords)?;
        query::child_record(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))
    }

    /// A person's identifying details.
    pub async fn person(&self, actor: &Actor, id: PersonId) -> Result<query::PersonView> {
        require(actor, Action::ViewChildRecords)?;
        query::person(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))
    }

    /// People whose name starts with the words given (or with that NHS number).
    pub async fn search_people(&self, actor: &Actor, text: &str) -> Result<Vec<query::PersonView>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::search_people(self.store(), text, 50).await?)
    }

    /// One referral: practice staff see any; a partner sees only those they made.
    pub async fn referral(&self, actor: &Actor, id: ReferralId) -> Result<query::ReferralView> {
        require(actor, Action::ViewOwnReferrals)?;
        let r = query::referral(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))?;
        if actor.role == Role::Partner && r.recorded_by.id != actor.staff {
            // Saying "not found" rather than "forbidden" keeps other agencies' referrals
            // from being discovered by guessing ids.
            return Err(not_found(id.reference()));
        }
        Ok(r)
    }

    /// Referrals: a partner's own; for practice staff, filtered as asked.
    pub async fn referrals(&self, actor: &Actor, mut filter: ReferralFilter) -> Result<Vec<query::ReferralView>> {
        require(actor, Action::ViewOwnReferrals)?;
        if actor.role == Role::Partner {
            filter.recorded_by = Some(actor.staff);
            filter.child = None;
        }
        Ok(query::referrals(self.store(), &filter).await?)
    }

    /// One case.
    pub async fn case(&self, actor: &Actor, id: CaseId) -> Result<query::CaseView> {
        require(actor, Action::ViewChildRecords)?;
        query::case(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))
    }

    /// Cases matching a filter.
    pub async fn cases(&self, actor: &Actor, filter: CaseFilter) -> Result<Vec<query::CaseView>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::cases(self.store(), &filter).await?)
    }

    /// The actor's own caseload: open cases allocated to them.
    pub async fn my_caseload(&self, actor: &Actor) -> Result<Vec<query::CaseView>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::cases(
            self.store(),
            &CaseFilter { worker: Some(actor.staff), open_only: true, limit: 1000, ..Default::default() },
        )
        .await?)
    }

    /// Every team.
    pub async fn teams(&self, actor: &Actor) -> Result<Vec<query::TeamView>> {
        if actor.role != Role::Partner {
            require(actor, Action::ViewStaffDirectory)?;
        }
        // Partners need team names to address a referral, and nothing else about them.
        Ok(query::teams(self.store()).await?)
    }

    /// One team.
    pub async fn team(&self, actor: &Actor, id: TeamId) -> Result<query::TeamView> {
        require(actor, Action::ViewStaffDirectory)?;
        query::team(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))
    }

    /// Staff, optionally of one team.
    pub async fn staff_list(&self, actor: &Actor, team: Option<TeamId>) -> Result<Vec<query::StaffView>> {
        require(actor, Action::ViewStaffDirectory)?;
        Ok(query::staff_list(self.store(), team).await?)
    }

    /// One member of staff (anyone may see their own entry).
    pub async fn staff_member(&self, actor: &Actor, id: StaffId) -> Result<query::StaffView> {
        if actor.staff != id {
            require(actor, Action::ViewStaffDirectory)?;
        }
        query::staff(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))
    }

    /// Who is away now and until when (for the staff directory and escalation routing).
    pub async fn absences(&self, actor: &Actor) -> Result<Vec<(StaffId, jiff::Timestamp)>> {
        require(actor, Action::ViewStaffDirectory)?;
        Ok(query::absences(self.store(), self.now()).await?)
    }

    /// The case-holding workers of a case's team, ranked for allocation: those who hold
    /// the child's brothers and sisters first (one worker for a family), then those not
    /// away, then the most room under their own cap.
    pub async fn allocation_candidates(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> Result<(query::CaseView, Vec<Candidate>)> {
        require(actor, Action::AllocateCase)?;
        let c = query::case(self.store(), case).await?.ok_or_else(|| not_found(case.reference()))?;
        let (_, policy) = self.current_policy().await?;
        let workers = query::team_workers(self.store(), c.team.id, &policy.caseload_weights).await?;
        let siblings = query::siblings_held(self.store(), c.child.id).await?;
        let away = query::absences(self.store(), self.now()).await?;
        let today = self.today();
        let weight = policy.caseload_weights.of(c.stage);
        let mut ranked = Vec::with_capacity(workers.len());
        for w in workers {
            let (newly_qualified, per_fte) = crate::caseloads::worker_cap_per_fte(&policy, &w, today);
            let cap = per_fte * w.fte;
            let siblings_held = siblings.iter().find(|(s, _)| *s == w.id).map_or(0, |(_, n)| *n);
            // Only a worker holding the family can take the child for less than their weight.
            let adds = if siblings_held > 0 && policy.caseload_weights.sibling_extra.is_some() {
                let adding = [(c.child.id, c.stage)];
                query::load_with(self.store(), w.id, &policy.caseload_weights, &adding).await? - w.load
            } else {
                weight
            };
            ranked.push(Candidate {
                siblings_held,
                adds,
                away_until: away.iter().find(|(s, _)| *s == w.id).map(|(_, t)| *t),
                newly_qualified,
                cap,
                headroom: cap - w.load,
                worker: w,
            });
        }
        ranked.sort_by(|a, b| {
            b.siblings_held
                .cmp(&a.siblings_held)
                .then(a.away_until.is_some().cmp(&b.away_until.is_some()))
                .then(b.headroom.total_cmp(&a.headroom))
                .then_with(|| a.worker.name.cmp(&b.worker.name))
        });
        Ok((c, ranked))
    }

    /// The audit chain's head: entries so far and the latest hash. Managers only.
    pub async fn audit_head(&self, actor: &Actor) -> Result<(i64, String)> {
        if !actor.role.is_manager() && actor.role != Role::Administrator {
            return Err(CommandError::Rejected(Rejection::Forbidden(
                "only managers and administrators can read the trail".into(),
            )));
        }
        Ok(query::audit_head(self.store()).await?)
    }
}

impl Service {
    /// Unresolved escalations held by the actor ("waiting on me"), highest level first.
    pub async fn my_escalations(&self, actor: &Actor) -> Result<Vec<query::EscalationView>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::escalations(
            self.store(),
            &query::EscalationFilter { assignee: Some(actor.staff), limit: 500, ..Default::default() },
        )
        .await?)
    }

    /// Escalations in a team's line (managers), unresolved unless asked.
    pub async fn team_escalations(
        &self,
        actor: &Actor,
        team: Option<TeamId>,
        include_resolved: bool,
    ) -> Result<Vec<query::EscalationView>> {
        if !actor.role.is_manager() {
            return Err(Rejection::Forbidden("only managers can see a team's escalations".into()).into());
        }
        Ok(query::escalations(
            self.store(),
            &query::EscalationFilter { team, include_resolved, limit: 1000, ..Default::default() },
        )
        .await?)
    }

    /// Escalations about a child (and about referrals naming them), open first.
    pub async fn child_escalations(&self, actor: &Actor, child: PersonId) -> Result<Vec<query::EscalationView>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::escalations(
            self.store(),
            &query::EscalationFilter { child: Some(child), include_resolved: true, limit: 200, ..Default::default() },
        )
        .await?)
    }

    /// One escalation with its history.
    pub async fn escalation(
        &self,
        actor: &Actor,
        id: domain::escalation::EscalationId,
    ) -> Result<(query::EscalationView, Vec<query::EscalationHistoryView>)> {
        require(actor, Action::ViewChildRecords)?;
        query::escalation(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))
    }

    /// The flags on a child's record, with their evidence.
    pub async fn flags(&self, actor: &Actor, child: PersonId) -> Result<Vec<query::FlagView>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::flags(self.store(), child).await?)
    }

    /// A child's concerns, threshold decisions and statutory steps, for the chronology.
    pub async fn practice_history(&self, actor: &Actor, child: PersonId) -> Result<query::PracticeHistory> {
        require(actor, Action::ViewChildRecords)?;
        Ok(query::practice_history(self.store(), child).await?)
    }

    /// What is due next for a child (and referrals about them), earliest first.
    pub async fn due_for_child(&self, actor: &Actor, child: PersonId) -> Result<Vec<query::DueView>> {
        require(actor, Action::ViewChildRecords)?;
        let referrals: Vec<ReferralId> = query::referrals(
            self.store(),
            &ReferralFilter { child: Some(child), undecided: true, limit: 100, ..Default::default() },
        )
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
        Ok(query::due(self.store(), &[child], &referrals).await?)
    }

    /// What is due and overdue across the actor's caseload (and, for a team manager,
    /// their team's undecided referrals), earliest first.
    pub async fn my_due(&self, actor: &Actor) -> Result<Vec<query::DueView>> {
        require(actor, Action::ViewChildRecords)?;
        let children: Vec<PersonId> = self.my_caseload(actor).await?.iter().map(|c| c.child.id).collect();
        let referrals: Vec<ReferralId> = match (actor.role.is_manager(), actor.team) {
            (true, Some(team)) => query::referrals(
                self.store(),
                &ReferralFilter { team: Some(team), undecided: true, limit: 500, ..Default::default() },
            )
            .await?
            .iter()
            .map(|r| r.id)
            .collect(),
            _ => vec![],
        };
        Ok(query::due(self.store(), &children, &referrals).await?)
    }

    /// The open case of the child a welfare-check request is about: where the police
    /// record the visit they were asked to make. Only those who may see the request ask.
    pub async fn welfare_check_case(&self, actor: &Actor, request: i64) -> Result<CaseId> {
        let checks = self.welfare_checks(actor).await?;
        let check = checks
            .iter()
            .find(|w| w.id == request)
            .ok_or_else(|| not_found(format!("welfare-check request {request}")))?;
        let open = query::cases(
            self.store(),
            &CaseFilter { child: Some(check.child.id), open_only: true, limit: 1, ..Default::default() },
        )
        .await?;
        open.first().map(|c| c.id).ok_or_else(|| {
            CommandError::Rejected(Rejection::Conflict {
                field: None,
                message: format!("{} has no open case to record a visit on", check.child.name),
            })
        })
    }

    /// The actor's inbox, newest first.
    pub async fn inbox(&self, actor: &Actor) -> Result<Vec<query::NotificationView>> {
        Ok(query::inbox(self.store(), actor.staff, 200).await?)
    }

    /// Welfare-check requests: the police see those made to them; managers see all.
    pub async fn welfare_checks(&self, actor: &Actor) -> Result<Vec<query::WelfareCheckView>> {
        let police = actor.role == Role::Partner && actor.agency == Some(domain::staff::Agency::Police);
        if !police && !actor.role.is_manager() {
            return Err(
                Rejection::Forbidden("welfare-check requests go to the police and their managers".into()).into()
            );
        }
        Ok(query::welfare_checks(self.store(), "police", 500).await?)
    }

    /// The escalation policy in force and its version (0: the built-in default). The
    /// rules are open to everyone inside the service; partner agencies have no use for them.
    pub async fn policy(&self, actor: &Actor) -> Result<(i64, std::sync::Arc<domain::escalation::Policy>)> {
        if actor.role == Role::Partner {
            return Err(Rejection::Forbidden(
                "the escalation policy is for social care staff and administrators".into(),
            )
            .into());
        }
        self.current_policy().await
    }
}

impl Service {
    /// Professional disagreements: a partner sees their own with the stage reached;
    /// managers see all (optionally about one referral).
    pub async fn disagreements(
        &self,
        actor: &Actor,
        referral: Option<ReferralId>,
    ) -> Result<Vec<query::DisagreementView>> {
        let mine = match actor.role {
            Role::Partner => Some(actor.staff),
            r if r.is_manager() => None,
            _ => {
                return Err(Rejection::Forbidden(
                    "only partners and managers can see professional disagreements".into(),
                )
                .into());
            }
        };
        Ok(query::disagreements(self.store(), mine, referral).await?)
    }
}
