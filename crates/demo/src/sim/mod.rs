//! Three years of a children's services department, played forward on a simulated clock.
//!
//! A queue of timed happenings (a referral arrives, a manager decides, a worker visits, the
//! team's daily allocation, a case reaches its planned end…) is worked through in time
//! order. Each happening moves the clock and issues the commands the real person would:
//! partners and duty workers record referrals, managers decide, allocate and close,
//! workers visit and write notes. Nothing is written any other way, so the audit trail
//! holds every change.
//!
//! The realism comes from a few rules real teams follow:
//! - managers fill each worker up to a personal target (experienced workers far over the
//!   cap of 15, newly qualified and part-time workers under it); when nobody has room the
//!   case waits unallocated, and after three weeks goes to the lightest load anyway;
//! - siblings stay with one worker;
//! - overloaded workers visit less often, and some families are rarely in;
//! - when a team holds more than its workers can carry, the weekly caseload meeting steps
//!   cases down early; when it has room, cases stay open for longer work;
//! - workers join, and go on leave, and their cases move.
//!
//! The queue and the clock are in `timeline`; each kind of activity has a file of its own
//! (`staffing`, `people`, `front_door`, `allocation`, `casework`).

mod allocation;
mod casework;
mod front_door;
mod people;
mod staffing;
mod timeline;

use crate::staff::Member;
use crate::world::{self, Plan};
use anyhow::Context;
use commands::Service;
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use domain::referral::Decision;
use domain::staff::{Agency, Role};
use domain::working_time::Calendar;
use jiff::{Timestamp, ToSpan};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BinaryHeap;
use std::sync::Arc;
use timeline::{Scheduled, plus_days};

/// The size the staff targets are written for.
const DEFAULT_CHILDREN: f64 = 1500.0;
/// A team is "full" when it holds this much more than its workers' targets.
const TEAM_HEADROOM: f64 = 1.06;
/// How long a case may wait for a worker with room before going to the lightest load.
const MAX_WAIT_WORKING_DAYS: i64 = 15;

/// The kind of work a case turns into; sets visit frequency and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// A child and family assessment, then close or step down.
    Assessment,
    /// Child in need plan.
    ChildInNeed,
    /// Child protection plan.
    ChildProtection,
    /// Looked after.
    LookedAfter,
}

impl Work {
    /// Days between visits for a worker with room, inside the statutory frequency even
    /// at the slow end of the jitter (CP: 10 working days; CIN: 20; CLA: 6 weeks). A
    /// worker over their cap stretches them, and then visits fall late.
    fn visit_days(self) -> f64 {
        match self {
            Work::Assessment => 12.0,
            Work::ChildInNeed => 19.0,
            Work::ChildProtection => 9.0,
            Work::LookedAfter => 30.0,
        }
    }

    /// How long the work is planned to last, in days.
    fn planned_days(self, rng: &mut ChaCha8Rng) -> i64 {
        match self {
            Work::Assessment => rng.random_range(35..90),
            Work::ChildInNeed => rng.random_range(120..400),
            Work::ChildProtection => rng.random_range(180..540),
            Work::LookedAfter => rng.random_range(365..1200),
        }
    }

    /// The shortest time before a case may be stepped down for capacity.
    fn minimum_days(self) -> i64 {
        match self {
            Work::Assessment => 20,
            Work::ChildInNeed => 60,
            Work::ChildProtection => 90,
            Work::LookedAfter => 180,
        }
    }

    fn closure_kind(self) -> &'static str {
        match self {
            Work::Assessment => "assessment",
            Work::LookedAfter => "lac",
            _ => "plan",
        }
    }

    /// What a decision in a team's front door becomes.
    fn for_decision(rng: &mut ChaCha8Rng, team: usize, decision: Decision) -> Work {
        let strategy = decision == Decision::StrategyDiscussion;
        let (a, b, p) = match (team, strategy) {
            (3, _) => return Work::LookedAfter,
            (0, true) => (Work::ChildProtection, Work::Assessment, 0.5),
            (0, false) => (Work::Assessment, Work::ChildInNeed, 0.5),
            (1, true) => (Work::ChildProtection, Work::ChildInNeed, 0.8),
            (1, false) => (Work::ChildProtection, Work::ChildInNeed, 0.4),
            (_, true) => (Work::ChildProtection, Work::ChildInNeed, 0.4),
            (_, false) => (Work::ChildInNeed, Work::Assessment, 0.8),
        };
        if rng.random_bool(p) { a } else { b }
    }
}

struct Worker {
    member: &'static Member,
    team: usize,
    actor: Option<Actor>,
    target: f64,
    cap: f64,
    /// Children allocated now (mirrors the store's count, which the cap check uses).
    load: usize,
    available: bool,
}

struct Team {
    id: TeamId,
    manager: Actor,
    service_manager: Actor,
    /// Episodes waiting for a worker, oldest first.
    queue: Vec<usize>,
    /// Children with an open case.
    open: usize,
}

/// The cases one decision opened for a family's children: worked, visited and closed together.
struct Episode {
    family: usize,
    team: usize,
    cases: Vec<(CaseId, usize)>,
    work: Work,
    opened_at: Timestamp,
    planned_end: Timestamp,
    latest_end: Timestamp,
    worker: Option<usize>,
    generation: u32,
    closed: bool,
    urgent: bool,
    /// Waiting for a worker at the end of the history, whatever the capacity.
    held: bool,
    queued_since: Timestamp,
    /// The assessment is done and (for plan work) the plan has started.
    assessed: bool,
}

#[derive(Default)]
struct FamilyState {
    children: Vec<Option<PersonId>>,
    registered: bool,
    /// Open episodes.
    open: Vec<usize>,
}

/// What the seeding did.
pub(crate) struct Run {
    /// Commands issued (each wrote one audit entry).
    pub commands: u64,
}

struct Sim {
    svc: Service,
    clock: Arc<SimulatedClock>,
    cal: Calendar,
    rng: ChaCha8Rng,
    now: Timestamp,
    end: Timestamp,
    commands: u64,
    heap: BinaryHeap<Scheduled>,
    seq: u64,
    plan: Plan,
    admin: Actor,
    partners: Vec<(Agency, Actor)>,
    workers: Vec<Worker>,
    teams: Vec<Team>,
    episodes: Vec<Episode>,
    families: Vec<FamilyState>,
    /// Service managers, head of service and director.
    leaders: Vec<Actor>,
    /// The id each planned referral got when recorded.
    referral_ids: Vec<Option<ReferralId>>,
    scale: f64,
}

/// Plays three years ending at `end` into the (empty) store behind `svc`, whose clock is `clock`.
pub(crate) async fn run(
    svc: Service,
    clock: Arc<SimulatedClock>,
    children: usize,
    seed: u64,
    end: Timestamp,
) -> anyhow::Result<Run> {
    use rand::SeedableRng;
    let cal = Calendar::england_and_wales();
    let start = end
        .to_zoned_datetime(cal.time_zone().clone())
        .checked_sub(3.years())
        .context("three years before today")?
        .timestamp();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plan = world::plan(&mut rng, &cal, children, start, end);
    let n_referrals = plan.referrals.len();
    let families = plan
        .families
        .iter()
        .map(|f| FamilyState { children: vec![None; f.children.len()], ..Default::default() })
        .collect();
    let setup = plus_days(start, -1.0);
    clock.set(setup);
    let placeholder =
        Actor { staff: StaffId(0), login: String::new(), role: Role::Administrator, team: None, agency: None };
    let mut sim = Sim {
        svc,
        clock,
        cal,
        rng,
        now: setup,
        end,
        commands: 0,
        heap: BinaryHeap::new(),
        seq: 0,
        plan,
        admin: placeholder,
        partners: Vec::new(),
        workers: Vec::new(),
        teams: Vec::new(),
        episodes: Vec::new(),
        families,
        leaders: Vec::new(),
        referral_ids: vec![None; n_referrals],
        scale: (children as f64 / DEFAULT_CHILDREN).max(0.01),
    };
    sim.set_up().await?;
    sim.schedule_everything(start);
    while let Some(next) = sim.heap.pop() {
        if next.at > sim.end {
            break;
        }
        sim.happen(next.at, next.what).await?;
    }
    sim.record_some_children_twice().await?;
    Ok(Run { commands: sim.commands })
}
