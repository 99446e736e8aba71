//! Caseloads against the cap, the staffing gap and its forecast, for a team or the whole
//! service: what a manager takes to a budget meeting.

use crate::{Result, Service, not_found};
use domain::Rejection;
use domain::authz::Actor;
use domain::caseload::{self, Forecast, Holding, StaffingGap};
use domain::ids::{StaffId, TeamId};
use domain::staff::Role;
use domain::timeliness::{self, Months, Series};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use store::query::{self, CaseFlow};

/// How many statutory deadlines were met on time, for a team or the service, month by
/// month over the current month and the 11 before it, and in all.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Timeliness {
    /// The months, oldest first (`YYYY-MM`; the last is the current month so far).
    pub months: Vec<String>,
    /// Referral decisions (1 working day after receipt) by month.
    pub referrals: Series,
    /// Assessments (45 working days after the referral) by month.
    pub assessments: Series,
    /// Visits to children on plans (at the plan's frequency) by month.
    pub visits: Series,
    /// Referral decisions that fell due in the window.
    pub referrals_due: i64,
    /// Of which decided by their deadline.
    pub referrals_on_time: i64,
    /// Assessments that fell due in the window.
    pub assessments_due: i64,
    /// Of which completed by their deadline.
    pub assessments_on_time: i64,
    /// Visits to children on plans that fell due in the window.
    pub visits_due: i64,
    /// Of which made (seeing the child) in time.
    pub visits_on_time: i64,
    /// Children on a plan now (child in need, child protection, looked after).
    pub on_plans: i64,
    /// Of which overdue a visit now.
    pub visits_overdue: i64,
}

/// Whether a worker is newly qualified on `today`, and their cap per FTE (for their team,
/// role and first year): the one reading of the policy every screen shares.
pub fn worker_cap_per_fte(
    policy: &domain::escalation::Policy,
    w: &query::WorkerLoad,
    today: jiff::civil::Date,
) -> (bool, f64) {
    let nq = caseload::newly_qualified(w.qualified_on, today);
    (nq, policy.cap_per_fte_for(w.role, w.team, nq))
}

/// How long a worked-out [`Timeliness`] is reused.
pub const TIMELINESS_FOR: SignedDuration = SignedDuration::from_mins(10);

/// How often the server works timeliness out afresh ahead of anyone asking.
pub const TIMELINESS_WARM_EVERY: SignedDuration = SignedDuration::from_mins(8);

/// Timeliness by (team, policy version): when worked out, and the figures.
pub type TimelinessCache = std::collections::HashMap<(Option<TeamId>, i64), (Timestamp, Timeliness)>;

/// One worker's row.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkerRow {
    /// Who.
    pub id: StaffId,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Their team.
    pub team: Option<TeamId>,
    /// Full-time equivalence.
    pub fte: f64,
    /// Children allocated.
    pub open_cases: i64,
    /// Weighted caseload.
    pub load: f64,
    /// Their cap (per-FTE cap × FTE).
    pub cap: f64,
    /// `cap − load` (negative: over).
    pub headroom: f64,
    /// Whether over the cap.
    pub over_cap: bool,
    /// Which band of the histogram (see [`caseload::BANDS`]).
    pub band: usize,
    /// In their first year after qualifying (a smaller cap).
    pub newly_qualified: bool,
}

/// A band of the histogram.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Band {
    /// Its label.
    pub label: &'static str,
    /// Workers in it.
    pub workers: usize,
}

/// Everything on the caseload dashboard, for a team or (with no team) the service.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// The team, if one.
    pub team: Option<(TeamId, String)>,
    /// When the figures were read.
    pub at: Timestamp,
    /// The cap per full-time worker in force.
    pub cap_per_fte: f64,
    /// The weights in force.
    pub weights: caseload::Weights,
    /// The workers, lightest first.
    pub workers: Vec<WorkerRow>,
    /// The distribution of loads against caps.
    pub histogram: Vec<Band>,
    /// The FTE needed today, with the working.
    pub gap: StaffingGap,
    /// Cases in and out over the last 12 months.
    pub flow: CaseFlow,
    /// The 12-month forecast, with the working.
    pub forecast: Forecast,
    /// Open escalations by level, 1 to 4.
    pub escalations_open_by_level: [i64; 4],
    /// Statutory timeliness over the last 12 months.
    pub timeliness: Timeliness,
}

impl Service {
    /// [`Service::timeliness`], reused for [`TIMELINESS_FOR`] per team and policy version.
    async fn timeliness_cached(
        &self,
        team: Option<TeamId>,
        now: Timestamp,
        (version, policy): (i64, &domain::escalation::Policy),
    ) -> Result<Timeliness> {
        let key = (team, version);
        let cached = self.timeliness.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        if let Some((at, t)) = cached
            && at <= now
            && now.duration_since(at) < TIMELINESS_FOR
        {
            return Ok(t);
        }
        let t = self.timeliness(team, &Months::last(12, self.calendar(), now), policy).await?;
        self.timeliness.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (now, t.clone()));
        Ok(t)
    }

    /// Works out timeliness afresh for the whole service and every team, so nobody
    /// opening the dashboard waits for it. The server does this every
    /// [`TIMELINESS_WARM_EVERY`], inside the [`TIMELINESS_FOR`] the figures are reused.
    pub async fn warm_timeliness(&self) -> Result<usize> {
        let (version, policy) = self.current_policy().await?;
        let now = self.now();
        let months = Months::last(12, self.calendar(), now);
        let mut teams: Vec<Option<TeamId>> = vec![None];
        teams.extend(query::teams(self.store()).await?.into_iter().map(|t| Some(t.id)));
        for team in &teams {
            let t = self.timeliness(*team, &months, &policy).await?;
            self.timeliness.lock().unwrap_or_else(|p| p.into_inner()).insert((*team, version), (now, t));
        }
        Ok(teams.len())
    }

    /// Statutory timeliness for a team (or the service) month by month over `months`,
    /// deadlines worked out in working time with the policy's timescales.
    async fn timeliness(
        &self,
        team: Option<TeamId>,
        months: &Months,
        policy: &domain::escalation::Policy,
    ) -> Result<Timeliness> {
        // Started up to ~100 working days before the window can fall due inside it.
        let since = months.since();
        let from = since.checked_sub(SignedDuration::from_hours(24 * 150)).unwrap_or(since);
        let facts = query::deadline_facts(self.store(), team, from).await?;
        let cal = self.calendar();
        let ts = &policy.timescales;
        let referrals = timeliness::deadlines_met(cal, &facts.referrals, &ts.referral_decision, months);
        let assessments = timeliness::deadlines_met(cal, &facts.assessments, &ts.assessment, months);
        let visits = timeliness::visits_on_time(cal, &facts.spells, ts, months);
        Ok(Timeliness {
            months: months.labels.clone(),
            referrals_due: referrals.total_due(),
            referrals_on_time: referrals.total_on_time(),
            assessments_due: assessments.total_due(),
            assessments_on_time: assessments.total_on_time(),
            visits_due: visits.total_due(),
            visits_on_time: visits.total_on_time(),
            referrals,
            assessments,
            visits,
            on_plans: facts.on_plans,
            visits_overdue: facts.visits_overdue,
        })
    }

    /// The caseload dashboard: managers (any team, or the service) and administrators.
    pub async fn caseload_dashboard(&self, actor: &Actor, team: Option<TeamId>) -> Result<Dashboard> {
        if !actor.role.is_manager() && actor.role != Role::Administrator {
            return Err(Rejection::Forbidden(format!(
                "a {} cannot see the caseload dashboard",
                actor.role.label().to_lowercase()
            ))
            .into());
        }
        let team = match team {
            Some(t) => {
                let view = query::team(self.store(), t).await?.ok_or_else(|| not_found(t.reference()))?;
                Some((view.id, view.name))
            }
            None => None,
        };
        let team_id = team.as_ref().map(|(id, _)| *id);
        let (version, policy) = self.current_policy().await?;
        let cap_per_fte = policy.cap_per_fte;
        let weights = policy.caseload_weights;
        let loads = query::caseloads(self.store(), team_id, &weights).await?;
        let today = self.today();
        let workers: Vec<WorkerRow> = loads
            .iter()
            .map(|w| {
                let (newly_qualified, per_fte) = worker_cap_per_fte(&policy, w, today);
                let cap = per_fte * w.fte;
                WorkerRow {
                    id: w.id,
                    name: w.name.clone(),
                    role: w.role,
                    team: w.team,
                    fte: w.fte,
                    open_cases: w.open_cases,
                    load: w.load,
                    cap,
                    headroom: cap - w.load,
                    over_cap: caseload::is_over_cap(w.load, cap),
                    band: caseload::band(w.load, cap),
                    newly_qualified,
                }
            })
            .collect();
        let holdings: Vec<Holding> = loads
            .iter()
            .map(|w| Holding {
                name: w.name.clone(),
                fte: w.fte,
                load: w.load,
                cap_per_fte: worker_cap_per_fte(&policy, w, today).1,
            })
            .collect();
        let counts = caseload::histogram(&holdings);
        let histogram =
            caseload::BANDS.iter().zip(counts).map(|(label, workers)| Band { label, workers }).collect::<Vec<_>>();
        let gap = caseload::staffing_gap(&holdings, cap_per_fte);
        let now = self.now();
        let year_ago = now.checked_sub(SignedDuration::from_hours(24 * 365)).unwrap_or(now);
        let flow = query::case_flow(self.store(), team_id, year_ago, now).await?;
        let held: i64 = loads.iter().map(|w| w.open_cases).sum();
        let load: f64 = loads.iter().map(|w| w.load).sum();
        let mean_weight = if held > 0 { load / held as f64 } else { 1.0 };
        let forecast = caseload::forecast(
            u64::try_from(flow.opened).unwrap_or(0),
            flow.mean_days_open,
            mean_weight,
            cap_per_fte,
            gap.fte,
        );
        let escalations_open_by_level = query::escalations_open_by_level(self.store(), team_id).await?;
        let timeliness = self.timeliness_cached(team_id, now, (version, &policy)).await?;
        Ok(Dashboard {
            team,
            at: now,
            cap_per_fte,
            weights,
            workers,
            histogram,
            gap,
            flow,
            forecast,
            escalations_open_by_level,
            timeliness,
        })
    }
}
