//! `safeguard simulate`: runs a scenario (a timeline of what people do) through the same
//! commands the API and pages use, on a fresh store with a simulated clock, and reports
//! what the system did as JSON lines (`contracts/SCENARIOS.md`).
//!
//! The lines are read back from the audit trail, so what a simulation reports is exactly
//! what the service recorded.

pub mod scenario;

pub use scenario::{Scenario, ScenarioError, parse};

use commands::cases::CloseInput;
use commands::escalations::{AbsenceInput, AcknowledgeInput, ResolveInput};
use commands::input::{AllocationInput, DecisionInput, ReferralChildInput, ReferralInput, VisitInput};
use commands::practice::{ConcernInput, PlanInput, StrategyDiscussionInput, ThresholdInput, WhenInput};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, CommandError, Config, Service};
use domain::authz::Actor;
use domain::clock::{Clock, SimulatedClock};
use domain::escalation::{EscalationId, Policy, Subject};
use domain::event::Event;
use domain::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use domain::person::PersonInput;
use jiff::Timestamp;
use scenario::{Action, EscalationRef, Step};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{Store, StoreError, query};

/// A failure running a (valid) scenario: the store or the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A command failed for a reason other than a rule.
    #[error("step {step}: {error}")]
    Command {
        /// The step.
        step: usize,
        /// What failed.
        error: String,
    },
    /// The scenario could not be set up (e.g. a team or person the service refused).
    #[error("setting up the scenario: {0}")]
    Setup(String),
}

/// One line of output: `at`, `event`, then the event's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// When (UTC).
    pub at: String,
    /// What kind of line.
    pub event: String,
    /// Its fields.
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
}

impl Line {
    fn new(at: Timestamp, event: &str, fields: Value) -> Line {
        let fields = match fields {
            Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => BTreeMap::new(),
        };
        Line { at: at.to_string(), event: event.to_string(), fields }
    }

    /// The line as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The running simulation: the service, the clock and the scenario's names for things.
struct Run {
    svc: Service,
    store: Store,
    clock: Arc<SimulatedClock>,
    staff: BTreeMap<String, Actor>,
    teams: BTreeMap<String, TeamId>,
    team_managers: BTreeMap<String, String>,
    children: BTreeMap<String, PersonId>,
    referrals: BTreeMap<String, ReferralId>,
    names: Names,
    seen_seq: i64,
    lines: Vec<Line>,
}

/// Store ids back to the scenario's names.
#[derive(Default)]
struct Names {
    staff: BTreeMap<StaffId, String>,
    people: BTreeMap<PersonId, String>,
    referrals: BTreeMap<ReferralId, String>,
    escalations: BTreeMap<EscalationId, (String, String)>,
}

impl Names {
    fn staff(&self, s: StaffId) -> String {
        self.staff.get(&s).cloned().unwrap_or_else(|| s.reference())
    }

    fn person(&self, p: PersonId) -> String {
        self.people.get(&p).cloned().unwrap_or_else(|| p.reference())
    }

    fn subject(&self, s: &Subject) -> String {
        match s {
            Subject::Child(p) => self.person(*p),
            Subject::Referral(r) => self.referrals.get(r).cloned().unwrap_or_else(|| r.reference()),
            Subject::Worker(w) => self.staff(*w),
            Subject::Disagreement(d) => format!("disagreement-{d}"),
        }
    }
}

/// Runs a parsed scenario on a fresh in-memory store. `policy` replaces the default.
pub async fn run(scenario: &Scenario, policy: Option<&Policy>) -> Result<Vec<Line>, RunError> {
    let store = Store::open("sqlite::memory:").await?;
    let clock = Arc::new(SimulatedClock::new(scenario.start));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    let mut run = Run {
        svc,
        store,
        clock,
        staff: BTreeMap::new(),
        teams: BTreeMap::new(),
        team_managers: BTreeMap::new(),
        children: BTreeMap::new(),
        referrals: BTreeMap::new(),
        names: Names::default(),
        seen_seq: 0,
        lines: vec![],
    };
    run.set_up(scenario, policy).await?;
    for step in &scenario.steps {
        run.advance(step.at).await?;
        run.step(step).await?;
        run.collect().await?;
    }
    run.advance(scenario.end).await?;
    let open = query::open_escalation_count(&run.store).await?;
    let mut lines = run.lines;
    lines.push(Line::new(scenario.end, "summary", json!({"open_escalations": open, "steps": scenario.steps.len()})));
    Ok(lines)
}

fn login(id: &str) -> String {
    let clean: String = id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-@".contains(c) { c } else { '-' })
        .collect();
    format!("sim-{clean}")
}

fn setup_err(what: &str, e: CommandError) -> RunError {
    RunError::Setup(format!("{what}: {e}"))
}

impl Run {
    async fn set_up(&mut self, s: &Scenario, policy: Option<&Policy>) -> Result<(), RunError> {
        let sys = Caller::System("simulate");
        if let Some(p) = policy {
            self.svc.set_policy(sys, p).await.map_err(|e| setup_err("policy", e))?;
        }
        for t in &s.teams {
            let id =
                self.svc.create_team(sys, &TeamInput { name: t.id.clone() }).await.map_err(|e| setup_err(&t.id, e))?;
            self.teams.insert(t.id.clone(), id);
            if let Some(tm) = &t.team_manager {
                self.team_managers.insert(t.id.clone(), tm.clone());
            }
        }
        for p in &s.staff {
            let input = StaffInput {
                login: login(&p.id),
                name: p.id.clone(),
                role: p.role.code().to_string(),
                agency: p.agency.map(|a| a.code().to_string()),
                team: p.team.as_ref().and_then(|t| self.teams.get(t)).map(|t| t.0),
                fte: Some(p.fte),
                deputy: None,
                password: String::new(),
                qualified_on: None,
            };
            let id = self.svc.add_staff(sys, &input).await.map_err(|e| setup_err(&p.id, e))?;
            self.staff.insert(
                p.id.clone(),
                Actor {
                    staff: id,
                    login: input.login.clone(),
                    role: p.role,
                    team: input.team.map(TeamId),
                    agency: p.agency,
                },
            );
            self.names.staff.insert(id, p.id.clone());
        }
        for p in &s.staff {
            if let Some(d) = &p.deputy {
                self.svc
                    .set_deputy(sys, self.staff[&p.id].staff, Some(self.staff[d].staff))
                    .await
                    .map_err(|e| setup_err(&p.id, e))?;
            }
        }
        for t in &s.teams {
            let who = |w: &Option<String>| w.as_ref().map(|w| self.staff[w].staff.0);
            let input = LeadershipInput {
                team_manager: who(&t.team_manager),
                service_manager: who(&t.service_manager),
                head_of_service: who(&t.head_of_service),
            };
            self.svc.set_team_leadership(sys, self.teams[&t.id], &input).await.map_err(|e| setup_err(&t.id, e))?;
        }
        // Setting up is not part of what the scenario asks about.
        self.seen_seq = query::audit_head(&self.store).await?.0;
        Ok(())
    }

    /// Moves the clock to `to`, firing every timer that falls due on the way at its due
    /// time, earliest first.
    async fn advance(&mut self, to: Timestamp) -> Result<(), RunError> {
        while let Some(due) = query::next_timer_due(&self.store).await? {
            if due > to {
                break;
            }
            self.clock.set(due.max(self.clock.now()));
            self.svc.sweep().await.map_err(|e| RunError::Command { step: 0, error: e.to_string() })?;
            self.collect().await?;
        }
        if to > self.clock.now() {
            self.clock.set(to);
        }
        Ok(())
    }

    fn actor(&self, id: &str) -> &Actor {
        &self.staff[id]
    }

    async fn case_of(&self, child: &str) -> Result<Result<CaseId, String>, RunError> {
        let Some(p) = self.children.get(child) else { return Ok(Err(format!("{child} has not been referred"))) };
        let cases = query::cases(
            &self.store,
            &query::CaseFilter { child: Some(*p), open_only: true, limit: 1, ..Default::default() },
        )
        .await?;
        Ok(cases.first().map(|c| c.id).ok_or_else(|| format!("{child} has no open case")))
    }

    /// Whoever records things the scenario does not attribute: the team manager.
    fn recorder(&self, team: Option<&str>) -> Option<&Actor> {
        team.and_then(|t| self.team_managers.get(t))
            .or_else(|| self.team_managers.values().next())
            .and_then(|id| self.staff.get(id))
            .or_else(|| self.staff.values().find(|a| a.role.is_manager()))
    }

    async fn escalation(&self, r: &EscalationRef) -> Result<Result<EscalationId, String>, RunError> {
        match r {
            EscalationRef::Id(id) => Ok(Ok(EscalationId(*id))),
            EscalationRef::Latest { trigger, subject } => {
                let key = if let Some(p) = self.children.get(subject) {
                    Subject::Child(*p).key()
                } else if let Some(r) = self.referrals.get(subject) {
                    Subject::Referral(*r).key()
                } else if let Some(a) = self.staff.get(subject) {
                    Subject::Worker(a.staff).key()
                } else {
                    return Ok(Err(format!("nothing is called {subject:?}")));
                };
                Ok(query::latest_escalation(&self.store, trigger.code(), &key)
                    .await?
                    .map(EscalationId)
                    .ok_or_else(|| format!("there is no {} escalation about {subject}", trigger.code())))
            }
        }
    }

    async fn step(&mut self, step: &Step) -> Result<(), RunError> {
        let svc = self.svc.clone();
        let refusal: Option<String> = match &step.action {
            Action::Referral { id, team, source, child, concern, categories } => {
                let existing = self.children.get(&child.id).copied();
                let child_input = match existing {
                    Some(p) => ReferralChildInput { person_id: Some(p.0), ..Default::default() },
                    None => ReferralChildInput {
                        person_id: None,
                        details: PersonInput {
                            kind: None,
                            given_name: child.given_name.clone(),
                            family_name: child.family_name.clone(),
                            dob_precision: Some(if child.dob.is_some() { "known" } else { "unknown" }.into()),
                            dob: child.dob.clone(),
                            sex: child.sex.clone(),
                            nhs_number: child.nhs_number.clone(),
                            upn: None,
                        },
                    },
                };
                let input = ReferralInput {
                    team: self.teams.get(team).map(|t| t.0),
                    source: source.code().into(),
                    referrer: None,
                    received_at: Some(step.at.to_string()),
                    concern: concern.clone(),
                    categories: categories.iter().map(|c| c.code().to_string()).collect(),
                    children: vec![child_input],
                };
                let Some(by) = self.recorder(Some(team)).cloned() else {
                    return Err(RunError::Setup("nobody can record referrals: the scenario has no manager".into()));
                };
                match svc.create_referral(&by, &input).await {
                    Ok(r) => {
                        self.referrals.insert(id.clone(), r);
                        self.names.referrals.insert(r, id.clone());
                        if existing.is_none() {
                            let view = query::referral(&self.store, r).await?;
                            if let Some(p) = view.and_then(|v| v.children.first().map(|c| c.id)) {
                                self.children.insert(child.id.clone(), p);
                                self.names.people.insert(p, child.id.clone());
                            }
                        }
                        None
                    }
                    Err(e) => refusal_of::<()>(Err(e))?,
                }
            }
            Action::DecideReferral { referral, by, decision, reason } => {
                let input = DecisionInput { decision: decision.code().into(), reason: reason.clone() };
                match self.referrals.get(referral) {
                    Some(r) => refusal_of(svc.decide_referral(self.actor(by), *r, &input).await)?,
                    None => Some(format!("referral {referral} was not accepted")),
                }
            }
            Action::Allocate { child, worker, by, override_reason } => match self.case_of(child).await? {
                Ok(case) => {
                    let input = AllocationInput {
                        worker: Some(self.actor(worker).staff.0),
                        override_reason: override_reason.clone(),
                    };
                    refusal_of(svc.allocate(self.actor(by), case, &input).await)?
                }
                Err(e) => Some(e),
            },
            Action::StartPlan { child, plan, category, by } => match self.case_of(child).await? {
                Ok(case) => {
                    let input = PlanInput { plan: plan.clone(), category: category.clone(), at: None };
                    refusal_of(svc.start_plan(self.actor(by), case, &input).await)?
                }
                Err(e) => Some(e),
            },
            Action::Visit { child, by, outcome, note } => match self.case_of(child).await? {
                Ok(case) => {
                    let input = VisitInput { visited_at: None, outcome: outcome.code().into(), note: note.clone() };
                    refusal_of(svc.record_visit(self.actor(by), case, &input).await)?
                }
                Err(e) => Some(e),
            },
            Action::Concern { child, source, concern, categories } => {
                let team = match self.case_of(child).await? {
                    Ok(c) => query::case(&self.store, c).await?.map(|v| v.team.name),
                    Err(_) => None,
                };
                let Some(by) = self.recorder(team.as_deref()).cloned() else {
                    return Err(RunError::Setup("nobody can record concerns: the scenario has no manager".into()));
                };
                let input = ConcernInput {
                    source: source.code().into(),
                    concern: concern.clone(),
                    categories: categories.iter().map(|c| c.code().to_string()).collect(),
                    received_at: None,
                };
                match self.children.get(child) {
                    Some(p) => refusal_of(svc.record_concern(&by, *p, &input).await)?,
                    None => Some(format!("{child} has not been referred")),
                }
            }
            Action::ThresholdDecision { child, by, forum, outcome, reason, cooperation_noted, review_by } => {
                let input = ThresholdInput {
                    forum: forum.clone(),
                    outcome: outcome.clone(),
                    reason: reason.clone(),
                    cooperation_noted: *cooperation_noted,
                    review_by: review_by.map(|d| d.to_string()),
                };
                match self.children.get(child) {
                    Some(p) => refusal_of(svc.threshold_decision(self.actor(by), *p, &input).await)?,
                    None => Some(format!("{child} has not been referred")),
                }
            }
            Action::StrategyDiscussion { child, by, s47 } => match self.case_of(child).await? {
                Ok(case) => refusal_of(
                    svc.strategy_discussion(self.actor(by), case, &StrategyDiscussionInput { s47: *s47, at: None })
                        .await,
                )?,
                Err(e) => Some(e),
            },
            Action::Icpc { child, by } => match self.case_of(child).await? {
                Ok(case) => refusal_of(svc.icpc(self.actor(by), case, &WhenInput::default()).await)?,
                Err(e) => Some(e),
            },
            Action::ReviewConference { child, by } => match self.case_of(child).await? {
                Ok(case) => refusal_of(svc.review_conference(self.actor(by), case, &WhenInput::default()).await)?,
                Err(e) => Some(e),
            },
            Action::CompleteAssessment { child, by } => match self.case_of(child).await? {
                Ok(case) => refusal_of(svc.complete_assessment(self.actor(by), case, &WhenInput::default()).await)?,
                Err(e) => Some(e),
            },
            Action::Acknowledge { escalation, by, note } => match self.escalation(escalation).await? {
                Ok(id) => refusal_of(
                    svc.acknowledge_escalation(self.actor(by), id, &AcknowledgeInput { note: note.clone() }).await,
                )?,
                Err(e) => Some(e),
            },
            Action::Resolve { escalation, by, action } => match self.escalation(escalation).await? {
                Ok(id) => refusal_of(
                    svc.resolve_escalation(self.actor(by), id, &ResolveInput { action: action.clone() }).await,
                )?,
                Err(e) => Some(e),
            },
            Action::Absent { staff, until } => {
                let input = AbsenceInput { until: Some(until.to_string()) };
                refusal_of(svc.set_absence(Caller::System("simulate"), self.actor(staff).staff, &input).await)?
            }
            Action::CloseCase { child, by, reason } => match self.case_of(child).await? {
                Ok(case) => {
                    refusal_of(svc.close_case(self.actor(by), case, &CloseInput { reason: reason.clone() }).await)?
                }
                Err(e) => Some(e),
            },
        };
        if let Some(error) = refusal {
            self.collect().await?;
            self.lines.push(Line::new(self.clock.now(), "rejected", json!({"step": step.number, "error": error})));
        }
        Ok(())
    }

    /// Turns new audit entries into output lines.
    async fn collect(&mut self) -> Result<(), RunError> {
        loop {
            let entries = query::audit_entries(&self.store, self.seen_seq + 1, 1000).await?;
            let Some(last) = entries.last() else { return Ok(()) };
            self.seen_seq = last.seq;
            for entry in entries {
                let envelope: Value = serde_json::from_str(&entry.entry).map_err(|e| RunError::Setup(e.to_string()))?;
                let events: Vec<Event> = serde_json::from_value(envelope.get("events").cloned().unwrap_or(Value::Null))
                    .map_err(|e| RunError::Setup(e.to_string()))?;
                for event in events {
                    if let Some(line) = self.line(&event, entry.at) {
                        self.lines.push(line);
                    }
                }
            }
        }
    }

    fn line(&mut self, event: &Event, at: Timestamp) -> Option<Line> {
        let n = &self.names;
        let esc = |id: &EscalationId| id.reference();
        Some(match event {
            Event::EscalationRaised {
                escalation,
                trigger,
                subject,
                level,
                assignee,
                routed_from,
                routing_reason,
                ..
            } => {
                let subject = n.subject(subject);
                self.names.escalations.insert(*escalation, (trigger.code().to_string(), subject.clone()));
                let n = &self.names;
                Line::new(
                    at,
                    "escalation.raised",
                    json!({
                        "escalation": esc(escalation), "trigger": trigger.code(), "subject": subject, "level": level,
                        "assignee": n.staff(*assignee), "routed_from": routed_from.map(|r| n.staff(r)), "routing_reason": routing_reason.map(|r| r.code()),
                    }),
                )
            }
            Event::EscalationClimbed {
                escalation,
                from_level,
                level,
                assignee,
                reason,
                routed_from,
                routing_reason,
                ..
            } => {
                let (trigger, subject) = n.escalations.get(escalation).cloned().unwrap_or_default();
                Line::new(
                    at,
                    "escalation.climbed",
                    json!({
                        "escalation": esc(escalation), "trigger": trigger, "subject": subject, "from_level": from_level, "level": level,
                        "assignee": n.staff(*assignee), "reason": reason.code(), "routed_from": routed_from.map(|r| n.staff(r)),
                        "routing_reason": routing_reason.map(|r| r.code()),
                    }),
                )
            }
            Event::EscalationReminded { escalation, level, assignee, .. } => Line::new(
                at,
                "escalation.reminded",
                json!({"escalation": esc(escalation), "level": level, "assignee": n.staff(*assignee)}),
            ),
            Event::EscalationAcknowledged { escalation, by, .. } => {
                Line::new(at, "escalation.acknowledged", json!({"escalation": esc(escalation), "by": n.staff(*by)}))
            }
            Event::EscalationResolved { escalation, resolution, by, .. } => Line::new(
                at,
                "escalation.resolved",
                json!({"escalation": esc(escalation), "reason": resolution.code(), "by": by.map(|b| n.staff(b))}),
            ),
            Event::WelfareCheckRequested { child, agency, escalation, .. } => Line::new(
                at,
                "welfare_check.requested",
                json!({"child": n.person(*child), "agency": agency.code(), "escalation": esc(escalation)}),
            ),
            Event::FlagRaised { child, flag, .. } => {
                Line::new(at, "flag.raised", json!({"child": n.person(*child), "flag": flag.code()}))
            }
            Event::FlagCleared { child, flag, .. } => {
                Line::new(at, "flag.cleared", json!({"child": n.person(*child), "flag": flag.code()}))
            }
            // The contract's `notification.sent` is about escalations (`about` names one);
            // news of an allocation or a referral's outcome is not an escalation's.
            Event::NotificationQueued { to, about: Some(about), .. } => {
                Line::new(at, "notification.sent", json!({"to": n.staff(*to), "channel": "inbox", "about": esc(about)}))
            }
            _ => return None,
        })
    }
}

/// A rule's refusal becomes a `rejected` line; a store failure stops the run.
fn refusal_of<T>(r: Result<T, CommandError>) -> Result<Option<String>, RunError> {
    match r {
        Ok(_) => Ok(None),
        Err(CommandError::Rejected(r)) => Ok(Some(r.to_string())),
        Err(CommandError::Unauthenticated) => Ok(Some("not signed in".into())),
        Err(CommandError::Store(s) | CommandError::Unavailable(s)) => Err(RunError::Store(s)),
    }
}
