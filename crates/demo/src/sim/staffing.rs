//! The staff: teams and accounts set up at the start, and people joining and going on leave.

use super::{Sim, Team, Worker};
use crate::staff::{self, ADMIN, DEMO_PASSWORD, Member, ROSTER, TEAMS};
use crate::text;
use anyhow::Context;
use commands::Caller;
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use domain::authz::Actor;
use domain::escalation::Policy;
use domain::ids::TeamId;
use domain::staff::{Agency, Role};
use jiff::{Timestamp, ToSpan};

impl Sim {
    async fn add_staff(&mut self, by: Option<&Actor>, member: &Member, team: Option<TeamId>) -> anyhow::Result<Actor> {
        let deputy = member.deputy.and_then(|login| self.actor_by_login(login)).map(|a| a.staff.0);
        let input = StaffInput {
            login: member.login.into(),
            name: member.name.into(),
            role: member.role.code().into(),
            agency: member.agency.map(Into::into),
            team: team.map(|t| t.0),
            fte: Some(member.fte),
            deputy,
            password: DEMO_PASSWORD.into(),
            // A newly qualified worker qualified in the summer before they joined.
            qualified_on: member.newly_qualified.then(|| {
                let on = self.cal.local_date(self.now).checked_sub(45.days()).unwrap_or(self.cal.local_date(self.now));
                on.to_string()
            }),
        };
        let caller = match by {
            Some(a) => Caller::Staff(a),
            None => Caller::System("demo"),
        };
        let id = self.svc.add_staff(caller, &input).await;
        let staff = self.done(id, member.login)?;
        Ok(Actor {
            staff,
            login: member.login.into(),
            role: member.role,
            team,
            agency: member.agency.and_then(|a| Agency::parse(a).ok()),
        })
    }

    fn actor_by_login(&self, login: &str) -> Option<Actor> {
        if self.admin.login == login {
            return Some(self.admin.clone());
        }
        self.workers
            .iter()
            .filter_map(|w| w.actor.as_ref())
            .chain(self.teams.iter().flat_map(|t| [&t.manager, &t.service_manager]))
            .chain(self.partners.iter().map(|(_, a)| a))
            .find(|a| a.login == login)
            .cloned()
            .or_else(|| self.leaders.iter().find(|a| a.login == login).cloned())
    }

    pub(super) async fn set_up(&mut self) -> anyhow::Result<()> {
        self.admin = self.add_staff(None, &ADMIN, None).await?;
        let admin = self.admin.clone();
        let mut team_ids = Vec::new();
        for name in TEAMS {
            self.pause(1, 3);
            let id = self.svc.create_team(Caller::Staff(&admin), &TeamInput { name: name.into() }).await;
            team_ids.push(self.done(id, name)?);
        }
        let mut managers: Vec<Option<Actor>> = vec![None; TEAMS.len()];
        for member in ROSTER {
            self.pause(1, 4);
            let team = member.team.map(|t| team_ids[t]);
            match member.role {
                Role::SocialWorker | Role::SeniorPractitioner => {
                    let t = member.team.context("practitioners have a team")?;
                    let actor = if member.joins_days_ago.is_none() {
                        Some(self.add_staff(Some(&admin), member, team).await?)
                    } else {
                        None
                    };
                    let scaled = (member.target * self.scale).max(0.5);
                    let factor =
                        if member.newly_qualified { Policy::default().newly_qualified_cap_factor } else { 1.0 };
                    let cap = domain::caseload::DEFAULT_CAP_PER_FTE * member.fte * factor;
                    self.workers.push(Worker {
                        member,
                        team: t,
                        available: actor.is_some(),
                        actor,
                        target: scaled,
                        cap,
                        load: 0,
                    });
                }
                Role::TeamManager => {
                    let t = member.team.context("team managers have a team")?;
                    managers[t] = Some(self.add_staff(Some(&admin), member, team).await?);
                }
                Role::Partner => {
                    let actor = self.add_staff(Some(&admin), member, None).await?;
                    let agency = actor.agency.context("partners have an agency")?;
                    self.partners.push((agency, actor));
                }
                _ => {
                    let actor = self.add_staff(Some(&admin), member, None).await?;
                    self.leaders.push(actor);
                }
            }
        }
        for (t, id) in team_ids.iter().enumerate() {
            let manager = managers[t].clone().context("every team has a manager")?;
            let service_manager = self.actor_by_login(staff::SERVICE_MANAGER_OF[t]).context("service manager")?;
            let head = self.actor_by_login(staff::HEAD_OF_SERVICE).context("head of service")?;
            self.pause(1, 3);
            let input = LeadershipInput {
                team_manager: Some(manager.staff.0),
                service_manager: Some(service_manager.staff.0),
                head_of_service: Some(head.staff.0),
            };
            let r = self.svc.set_team_leadership(Caller::Staff(&admin), *id, &input).await;
            self.done(r, "team leadership")?;
            self.teams.push(Team { id: *id, manager, service_manager, queue: Vec::new(), open: 0 });
        }
        Ok(())
    }

    /// A new starter: the administrator adds their account and the manager moves some cases
    /// from the fullest workers to them.
    pub(super) async fn joins(&mut self, at: Timestamp, w: usize) -> anyhow::Result<()> {
        self.tick(at);
        let member = self.workers[w].member;
        let team = self.workers[w].team;
        let admin = self.admin.clone();
        let actor = self.add_staff(Some(&admin), member, Some(self.teams[team].id)).await?;
        self.workers[w].actor = Some(actor);
        self.workers[w].available = true;
        let reason = format!("Rebalancing caseloads now that {} has joined the team.", member.name);
        while (self.workers[w].load as f64) < self.workers[w].target * 0.5 {
            let donor = (0..self.workers.len())
                .filter(|d| *d != w && self.workers[*d].team == team && self.workers[*d].available)
                .filter(|d| self.workers[*d].load as f64 > self.workers[*d].target)
                .max_by(|a, b| {
                    let fa = self.workers[*a].load as f64 / self.workers[*a].target;
                    let fb = self.workers[*b].load as f64 / self.workers[*b].target;
                    fa.total_cmp(&fb)
                });
            let Some(donor) = donor else { break };
            let Some(e) = (0..self.episodes.len())
                .rev()
                .find(|e| !self.episodes[*e].closed && self.episodes[*e].worker == Some(donor))
            else {
                break;
            };
            self.allocate(e, w, &reason).await?;
        }
        Ok(())
    }

    /// A worker goes on extended leave: the manager moves every case they hold.
    pub(super) async fn leave_starts(&mut self, at: Timestamp, w: usize) -> anyhow::Result<()> {
        self.tick(at);
        self.workers[w].available = false;
        let team = self.workers[w].team;
        let held: Vec<usize> = (0..self.episodes.len())
            .filter(|e| !self.episodes[*e].closed && self.episodes[*e].worker == Some(w))
            .collect();
        for e in held {
            let k = self.episodes[e].cases.len();
            let Some((to, _)) = self.roomiest(team, k, Some(w)) else {
                continue;
            };
            self.allocate(e, to, text::REALLOCATE_LEAVE).await?;
        }
        Ok(())
    }
}
