//! Caseloads against the cap, the staffing gap and its forecast, for a team or the whole
//! service: what a manager takes to a budget meeting.

use crate::{Result, Service, not_found};
use domain::Rejection;
use domain::authz::Actor;
use domain::caseload::{self, Forecast, Holding, StaffingGap};
use domain::ids::{StaffId, TeamId};
use domain::staff::Role;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use store::query::{self, CaseFlow};

/// One worker's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Its label.
    pub label: &'static str,
    /// Workers in it.
    pub workers: usize,
}

/// Everything on the caseload dashboard, for a team or (with no team) the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

impl Service {
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
        let (_, policy) = self.current_policy().await?;
        let cap_per_fte = policy.cap_per_fte;
        let weights = policy.caseload_weights;
        let loads = query::caseloads(self.store(), team_id, &weights).await?;
        let today = self.today();
        let own = |w: &query::WorkerLoad| policy.cap_per_fte_for(caseload::newly_qualified(w.qualified_on, today));
        let workers: Vec<WorkerRow> = loads
            .iter()
            .map(|w| {
                let cap = own(w) * w.fte;
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
                    newly_qualified: caseload::newly_qualified(w.qualified_on, today),
                }
            })
            .collect();
        let holdings: Vec<Holding> = loads
            .iter()
            .map(|w| Holding { name: w.name.clone(), fte: w.fte, load: w.load, cap_per_fte: own(w) })
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
        })
    }
}
