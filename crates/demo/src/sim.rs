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

use super::staff::{self, ADMIN, DEMO_PASSWORD, Member, ROSTER, TEAMS};
use super::text::{self, LISTS};
use super::world::{self, AdultRole, Person, Plan, pick, weighted};
use anyhow::{Context, anyhow};
use commands::cases::{CloseInput, NoteInput};
use commands::input::{AllocationInput, DecisionInput, ReferralChildInput, ReferralInput, VisitInput};
use commands::people::{AliasInput, RelationshipInput};
use commands::practice::{PlanInput, WhenInput};
use commands::staff::{LeadershipInput, StaffInput, TeamInput};
use commands::{Caller, Service};
use domain::authz::Actor;
use domain::clock::SimulatedClock;
use domain::escalation::Policy;
use domain::ids::{CaseId, PersonId, ReferralId, StaffId, TeamId};
use domain::person::{AddressInput, PersonInput};
use domain::referral::{Decision, ReferralSource};
use domain::staff::{Agency, Role};
use domain::visit::VisitOutcome;
use domain::working_time::Calendar;
use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use store::query;

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

/// Something that happens at a moment.
#[derive(Debug, Clone, Copy)]
enum Happening {
    Referral(usize),
    Decision(usize),
    /// A team manager's daily look at unallocated work (and, on Mondays, caseloads).
    DailyReview(usize),
    Visit {
        episode: usize,
        generation: u32,
    },
    /// The assessment is completed (and a plan started, for plan work).
    Assessed(usize),
    PlannedEnd(usize),
    Joins(usize),
    LeaveStarts(usize),
    LeaveEnds(usize),
}

#[derive(Debug)]
struct Scheduled {
    at: Timestamp,
    seq: u64,
    what: Happening,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Earliest first out of the (max-)heap.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
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

fn plus_mins(t: Timestamp, mins: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_mins(mins)).unwrap_or(t)
}

fn plus_days(t: Timestamp, days: f64) -> Timestamp {
    SignedDuration::try_from_secs_f64(days * 86_400.0).ok().and_then(|d| t.checked_add(d).ok()).unwrap_or(t)
}

/// A surname as someone typing it in a hurry might: two letters swapped.
fn misspell(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.len() >= 4 {
        chars.swap(2, 3);
    }
    chars.into_iter().collect()
}

fn person_input(p: &Person, kind: &str) -> PersonInput {
    PersonInput {
        kind: Some(kind.into()),
        given_name: p.given.clone(),
        family_name: p.family.clone(),
        dob: Some(p.dob.to_string()),
        dob_precision: Some(if p.dob_estimated { "estimated" } else { "known" }.into()),
        sex: Some(if p.female { "female" } else { "male" }.into()),
        nhs_number: p.nhs.clone(),
        upn: p.upn.clone(),
    }
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

impl Sim {
    /// As in every real service, some children end up recorded twice: a health visitor's
    /// or a school's record typed in again with the surname misspelt, the day and month
    /// of birth swapped or the sex left out, without finding the record already there.
    /// The engine then finds them for the review queue ("People recorded twice").
    async fn record_some_children_twice(&mut self) -> anyhow::Result<()> {
        use rand::seq::SliceRandom;
        let mut recorded: Vec<(usize, usize)> = self
            .families
            .iter()
            .enumerate()
            .flat_map(|(f, st)| st.children.iter().enumerate().filter(|(_, c)| c.is_some()).map(move |(i, _)| (f, i)))
            .collect();
        recorded.shuffle(&mut self.rng);
        let n = (recorded.len() / 60).clamp(3, 40).min(recorded.len());
        let Some(by) = self.workers.iter().find_map(|w| w.actor.clone()) else { return Ok(()) };
        for (k, (f, i)) in recorded.into_iter().take(n).enumerate() {
            let family = &self.plan.families[f];
            let child = &family.children[i];
            let mut input = person_input(child, "child");
            // The second record is thinner: no NHS number or pupil number.
            input.nhs_number = None;
            input.upn = None;
            match k % 3 {
                0 => input.family_name = misspell(&child.family),
                1 if child.dob.day() <= 12 && child.dob.day() != child.dob.month() => {
                    input.dob = jiff::civil::Date::new(child.dob.year(), child.dob.day(), child.dob.month())
                        .ok()
                        .map(|d| d.to_string())
                        .or(input.dob);
                }
                _ => input.sex = Some("unknown".into()),
            }
            let address = AddressInput {
                line: family.address.line.clone(),
                town: Some("Elmsford".into()),
                postcode: Some(family.address.postcode.clone()),
                from: None,
                to: None,
            };
            self.pause(20, 90);
            let r = self.svc.register_person(&by, &input).await;
            let person = self.done(r, "a child recorded twice")?;
            let r = self.svc.add_address(&by, person, &address).await;
            self.done(r, "their address")?;
        }
        let r = self.svc.find_duplicates(commands::Caller::System("demo"), None).await;
        let found = self.done(r, "looking for people recorded twice")?;
        if found.added == 0 {
            // Nothing was written, so nothing went on the trail.
            self.commands -= 1;
        }
        Ok(())
    }

    // ------------------------------------------------------------ time and bookkeeping

    /// Moves the clock to `at`: never backwards (and a second on at least, so actions keep
    /// their order), and never past the end of the history, which is the real present:
    /// what someone would finish after it is finished at it.
    fn tick(&mut self, at: Timestamp) {
        let step = self.now.checked_add(SignedDuration::from_secs(1)).unwrap_or(self.now);
        self.now = at.max(step).min(self.end).max(self.now);
        self.clock.set(self.now);
    }

    /// Moves the clock on by a few minutes (the time a person takes between two actions).
    fn pause(&mut self, lo: i64, hi: i64) {
        let mins = self.rng.random_range(lo..hi);
        self.tick(plus_mins(self.now, mins));
    }

    fn schedule(&mut self, at: Timestamp, what: Happening) {
        self.seq += 1;
        self.heap.push(Scheduled { at, seq: self.seq, what });
    }

    /// Counts a command that went through; names the step when one did not.
    fn done<T>(&mut self, result: commands::Result<T>, what: &str) -> anyhow::Result<T> {
        match result {
            Ok(v) => {
                self.commands += 1;
                Ok(v)
            }
            Err(e) => Err(anyhow!("demo seeding failed at {} ({what}): {e}", self.now)),
        }
    }

    fn today(&self) -> Date {
        self.cal.local_date(self.now)
    }

    /// A time for a home visit `days` from now: a working day, mostly office hours.
    fn visit_slot(&mut self, days: f64) -> Timestamp {
        let day = self.cal.working_day_on_or_after(self.cal.local_date(plus_days(self.now, days)));
        let minutes = if self.rng.random_bool(0.9) {
            self.rng.random_range(9 * 60 + 30..17 * 60)
        } else {
            self.rng.random_range(17 * 60..19 * 60 + 30)
        };
        let at = world::local(&self.cal, day, minutes);
        if at <= self.now { plus_mins(self.now, self.rng.random_range(45..180)) } else { at }
    }

    // ------------------------------------------------------------ setting up

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

    async fn set_up(&mut self) -> anyhow::Result<()> {
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

    fn schedule_everything(&mut self, start: Timestamp) {
        for i in 0..self.plan.referrals.len() {
            let at = self.plan.referrals[i].at;
            self.schedule(at, Happening::Referral(i));
        }
        let first = self.cal.working_day_on_or_after(self.cal.local_date(start));
        for t in 0..self.teams.len() {
            let at = world::local(&self.cal, first, 10 * 60 + 20 * t as i64);
            self.schedule(at, Happening::DailyReview(t));
        }
        let last = self.cal.local_date(self.end);
        for (i, w) in self.workers.iter().enumerate() {
            let day = |ago: i64| last.checked_sub(ago.days()).unwrap_or(last);
            if let Some(ago) = w.member.joins_days_ago {
                let d = self.cal.working_day_on_or_after(day(ago));
                self.seq += 1;
                self.heap.push(Scheduled {
                    at: world::local(&self.cal, d, 9 * 60),
                    seq: self.seq,
                    what: Happening::Joins(i),
                });
            }
            if let Some((from, to)) = w.member.leave_days_ago {
                let (a, b) = (self.cal.working_day_on_or_after(day(from)), self.cal.working_day_on_or_after(day(to)));
                self.seq += 2;
                self.heap.push(Scheduled {
                    at: world::local(&self.cal, a, 9 * 60),
                    seq: self.seq - 1,
                    what: Happening::LeaveStarts(i),
                });
                self.heap.push(Scheduled {
                    at: world::local(&self.cal, b, 9 * 60),
                    seq: self.seq,
                    what: Happening::LeaveEnds(i),
                });
            }
        }
    }

    async fn happen(&mut self, at: Timestamp, what: Happening) -> anyhow::Result<()> {
        match what {
            Happening::Referral(i) => self.referral(i).await,
            Happening::Decision(i) => self.decision(at, i).await,
            Happening::DailyReview(t) => self.daily_review(at, t).await,
            Happening::Visit { episode, generation } => self.visit(at, episode, generation).await,
            Happening::Assessed(e) => self.assessed(at, e).await,
            Happening::PlannedEnd(e) => self.planned_end(at, e).await,
            Happening::Joins(w) => self.joins(at, w).await,
            Happening::LeaveStarts(w) => self.leave_starts(at, w).await,
            Happening::LeaveEnds(w) => {
                self.workers[w].available = true;
                Ok(())
            }
        }
    }

    // ------------------------------------------------------------ people

    /// A practitioner on duty in the team's front door today.
    fn duty_worker(&mut self, team: usize) -> anyhow::Result<Actor> {
        let on_duty: Vec<usize> =
            (0..self.workers.len()).filter(|w| self.workers[*w].team == team && self.workers[*w].available).collect();
        let w = pick(&mut self.rng, &on_duty);
        self.workers[w].actor.clone().context("an available worker has an account")
    }

    fn partner(&self, source: ReferralSource) -> anyhow::Result<Actor> {
        let agency = match source {
            ReferralSource::Police => Agency::Police,
            ReferralSource::School => Agency::School,
            _ => Agency::Health,
        };
        self.partners
            .iter()
            .find(|(a, _)| *a == agency)
            .map(|(_, actor)| actor.clone())
            .context("a partner user for the agency")
    }

    fn manager_of(&self, team: usize) -> Actor {
        self.teams[team].manager.clone()
    }

    /// The duty worker records the household: the adults, where everyone lives, and how
    /// they are related.
    async fn register_family(&mut self, f: usize, by: &Actor) -> anyhow::Result<()> {
        let family = self.plan.families[f].clone();
        let children: Vec<PersonId> = self.families[f]
            .children
            .iter()
            .map(|c| c.context("children are registered by their referral"))
            .collect::<anyhow::Result<_>>()?;
        let mut adults = Vec::new();
        for a in &family.adults {
            self.pause(2, 6);
            let id = self.svc.register_person(by, &person_input(&a.person, "adult")).await;
            adults.push(self.done(id, "register adult")?);
        }
        let mut household: Vec<PersonId> = children.clone();
        household.extend(family.adults.iter().zip(&adults).filter(|(a, _)| a.elsewhere.is_none()).map(|(_, id)| *id));
        for person in household {
            let moved = family.previous.as_ref().map(|(_, d)| d.to_string());
            if let Some((old, _)) = &family.previous {
                self.pause(1, 3);
                let input = AddressInput {
                    line: old.line.clone(),
                    town: Some("Elmsford".into()),
                    postcode: Some(old.postcode.clone()),
                    from: None,
                    to: moved.clone(),
                };
                let r = self.svc.add_address(by, person, &input).await;
                self.done(r, "previous address")?;
            }
            self.pause(1, 3);
            let input = AddressInput {
                line: family.address.line.clone(),
                town: Some("Elmsford".into()),
                postcode: Some(family.address.postcode.clone()),
                from: moved,
                to: None,
            };
            let r = self.svc.add_address(by, person, &input).await;
            self.done(r, "address")?;
        }
        for (a, id) in family.adults.iter().zip(&adults) {
            if let Some(elsewhere) = &a.elsewhere {
                self.pause(1, 3);
                let input = AddressInput {
                    line: elsewhere.line.clone(),
                    town: Some("Elmsford".into()),
                    postcode: Some(elsewhere.postcode.clone()),
                    from: None,
                    to: None,
                };
                let r = self.svc.add_address(by, *id, &input).await;
                self.done(r, "address elsewhere")?;
            }
            let kind = match a.role {
                AdultRole::Mother | AdultRole::Father => "parent",
                AdultRole::StepParent => "step_parent",
                AdultRole::PartnerOfParent => "partner_of_parent",
            };
            for child in &children {
                self.pause(1, 2);
                let r = self
                    .svc
                    .add_relationship(by, *id, &RelationshipInput { related: Some(child.0), kind: kind.into() })
                    .await;
                self.done(r, "relationship")?;
            }
        }
        for i in 0..children.len() {
            for j in i + 1..children.len() {
                self.pause(1, 2);
                let r = self
                    .svc
                    .add_relationship(
                        by,
                        children[i],
                        &RelationshipInput { related: Some(children[j].0), kind: "sibling".into() },
                    )
                    .await;
                self.done(r, "sibling")?;
            }
            if let Some((given, family_name)) = &family.children[i].alias {
                self.pause(1, 2);
                let r = self
                    .svc
                    .add_alias(
                        by,
                        children[i],
                        &AliasInput { given_name: given.clone(), family_name: family_name.clone() },
                    )
                    .await;
                self.done(r, "alias")?;
            }
        }
        self.families[f].registered = true;
        Ok(())
    }

    // ------------------------------------------------------------ the front door

    async fn referral(&mut self, i: usize) -> anyhow::Result<()> {
        let r = self.plan.referrals[i].clone();
        let f = r.family;
        let team = self.plan.families[f].team;
        let delay = if r.via_partner { 0 } else { self.rng.random_range(5..40) };
        self.tick(plus_mins(r.at, delay));
        let by = if r.via_partner { self.partner(r.source)? } else { self.duty_worker(team)? };
        let children = r
            .children
            .iter()
            .map(|c| match self.families[f].children[*c] {
                Some(id) => ReferralChildInput { person_id: Some(id.0), ..Default::default() },
                None => ReferralChildInput {
                    person_id: None,
                    details: person_input(&self.plan.families[f].children[*c], "child"),
                },
            })
            .collect();
        let input = ReferralInput {
            team: Some(self.teams[team].id.0),
            source: r.source.code().into(),
            referrer: r.referrer.clone(),
            received_at: Some(r.at.to_string()),
            concern: r.concern.clone(),
            categories: r.categories.iter().map(|c| c.to_string()).collect(),
            children,
        };
        let id = self.svc.create_referral(&by, &input).await;
        let id = self.done(id, "referral")?;
        self.referral_ids[i] = Some(id);
        let new: Vec<usize> = r.children.iter().copied().filter(|c| self.families[f].children[*c].is_none()).collect();
        if !new.is_empty() {
            // New children were registered by the referral, numbered in the order named.
            let view = query::referral(self.svc.store(), id).await?.context("the referral just recorded")?;
            let known: Vec<PersonId> = self.families[f].children.iter().flatten().copied().collect();
            let fresh: Vec<PersonId> = view.children.iter().map(|c| c.id).filter(|p| !known.contains(p)).collect();
            anyhow::ensure!(
                fresh.len() == new.len(),
                "referral {id} registered {} children, expected {}",
                fresh.len(),
                new.len()
            );
            for (c, p) in new.into_iter().zip(fresh) {
                self.families[f].children[c] = Some(p);
            }
        }
        if !self.families[f].registered {
            let recorder = if by.role.is_practitioner() { by } else { self.duty_worker(team)? };
            self.register_family(f, &recorder).await?;
        }
        if !r.hold_decision {
            let urgent = r.decision == Decision::StrategyDiscussion || r.hold_allocation;
            let at = self.decision_time(r.at, urgent);
            self.schedule(at, Happening::Decision(i));
        }
        Ok(())
    }

    /// When the manager gets to a referral: most the same day, some the next, a few late.
    fn decision_time(&mut self, received: Timestamp, urgent: bool) -> Timestamp {
        let base = self.cal.next_opening(received.max(self.now));
        if urgent {
            return plus_mins(base, self.rng.random_range(20..120));
        }
        match weighted(&mut self.rng, &[60, 30, 10]) {
            0 => plus_mins(base, self.rng.random_range(60..300)),
            1 => {
                let next = self.cal.add_working_days(base, 1);
                plus_mins(self.cal.next_opening(next), self.rng.random_range(0..420))
            }
            _ => {
                let later = self.cal.add_working_days(base, self.rng.random_range(2..5));
                plus_mins(self.cal.next_opening(later), self.rng.random_range(0..420))
            }
        }
    }

    async fn decision(&mut self, at: Timestamp, i: usize) -> anyhow::Result<()> {
        self.tick(at);
        let r = self.plan.referrals[i].clone();
        let f = r.family;
        let team = self.plan.families[f].team;
        let referral_id = self.referral_id(i)?;
        let open_children: Vec<usize> =
            r.children.iter().copied().filter(|c| self.open_episode_of(f, *c).is_some()).collect();
        let all_open = !open_children.is_empty() && open_children.len() == r.children.len();
        let decision = if all_open { Decision::Assessment } else { r.decision };
        let reason = if all_open {
            text::LINKED_REASON
        } else {
            pick(&mut self.rng, text::decision_reasons(decision, r.categories.first().copied().unwrap_or("neglect")))
        };
        let by =
            if self.rng.random_bool(0.1) { self.teams[team].service_manager.clone() } else { self.manager_of(team) };
        let input = DecisionInput { decision: decision.code().into(), reason: reason.into() };
        let outcome = self.svc.decide_referral(&by, referral_id, &input).await;
        let outcome = self.done(outcome, "decision")?;

        for case in &outcome.linked {
            let Some(e) = self.episodes.iter().position(|e| !e.closed && e.cases.iter().any(|(c, _)| c == case)) else {
                continue;
            };
            let extra = self.rng.random_range(21..70) as f64;
            self.episodes[e].planned_end = plus_days(self.episodes[e].planned_end, extra);
            self.episodes[e].latest_end = plus_days(self.episodes[e].latest_end, extra);
        }
        if let Some(first) = outcome.linked.first() {
            let e = self.episodes.iter().position(|e| !e.closed && e.cases.iter().any(|(c, _)| c == first));
            if let Some(w) = e.and_then(|e| self.episodes[e].worker) {
                let worker = self.workers[w].actor.clone().context("allocated worker")?;
                self.pause(20, 90);
                let summary: String = r.concern.split_inclusive(". ").next().unwrap_or(&r.concern).trim().to_string();
                let note = text::fill(
                    text::LINKED_NOTE,
                    &[("source", r.source.code()), ("summary", &summary), ("manager", &self.names_of(&by))],
                );
                let n = self.svc.add_case_note(&worker, *first, &NoteInput { text: note }).await;
                self.done(n, "linked note")?;
            }
        }
        if outcome.opened.is_empty() {
            return Ok(());
        }

        let mut cases = Vec::new();
        for case in &outcome.opened {
            let view = query::case(self.svc.store(), *case).await?.context("the case just opened")?;
            let child = self.families[f]
                .children
                .iter()
                .position(|p| *p == Some(view.child.id))
                .context("the case's child is in the family")?;
            cases.push((*case, child));
        }
        let work = Work::for_decision(&mut self.rng, team, decision);
        let days = work.planned_days(&mut self.rng);
        let planned_end = plus_days(self.now, days as f64);
        let latest_end = plus_days(planned_end, (days as f64).max(120.0));
        let e = self.episodes.len();
        let n = cases.len();
        self.episodes.push(Episode {
            family: f,
            team,
            cases,
            work,
            opened_at: self.now,
            planned_end,
            latest_end,
            worker: None,
            generation: 0,
            closed: false,
            urgent: decision == Decision::StrategyDiscussion,
            held: r.hold_allocation,
            queued_since: self.now,
            assessed: false,
        });
        self.teams[team].open += n;
        self.families[f].open.push(e);
        self.schedule(planned_end, Happening::PlannedEnd(e));
        // Most assessments are done well inside 45 working days (about 63 days); a
        // stretched team's run late. Plan work starts its plan the day it is done.
        let assess_days = match work {
            Work::Assessment => self.rng.random_range(14.0..75.0f64).min(days as f64 - 2.0),
            _ => self.rng.random_range(10.0..50.0),
        };
        self.schedule(plus_days(self.now, assess_days.max(3.0)), Happening::Assessed(e));
        if decision == Decision::StrategyDiscussion {
            self.strategy_note(e, &by).await?;
        }
        self.teams[team].queue.push(e);
        if self.episodes[e].urgent {
            // Strategy cases get a worker the same day, room or not.
            self.allocate_queue(team, Some(e)).await?;
        }
        Ok(())
    }

    fn referral_id(&self, i: usize) -> anyhow::Result<ReferralId> {
        self.referral_ids.get(i).copied().flatten().context("the referral was recorded before its decision")
    }

    fn names_of(&self, actor: &Actor) -> String {
        ROSTER
            .iter()
            .chain(std::iter::once(&ADMIN))
            .find(|m| m.login == actor.login)
            .map(|m| m.name.to_string())
            .unwrap_or_else(|| actor.login.clone())
    }

    async fn strategy_note(&mut self, e: usize, manager: &Actor) -> anyhow::Result<()> {
        let (case, child) = self.episodes[e].cases[0];
        let fam = &self.plan.families[self.episodes[e].family];
        let child_name = fam.children[child].given.clone();
        let female = fam.children[child].female;
        let parent = fam.carer_name().to_string();
        let officer = pick(&mut self.rng, &LISTS.family);
        let school = pick(&mut self.rng, &LISTS.schools);
        let health = pick(&mut self.rng, &LISTS.health);
        let template = pick(&mut self.rng, text::STRATEGY_NOTES);
        let note = text::fill_about(
            template,
            female,
            &[
                ("officer", officer),
                ("health", health),
                ("school", school),
                ("child", &child_name),
                ("parent", &parent),
                ("worker_or_duty", "The duty social worker"),
            ],
        );
        self.pause(60, 150);
        let r = self.svc.add_case_note(manager, case, &NoteInput { text: note }).await;
        self.done(r, "strategy note")?;
        Ok(())
    }

    fn open_episode_of(&self, f: usize, child: usize) -> Option<usize> {
        self.families[f].open.iter().copied().find(|e| self.episodes[*e].cases.iter().any(|(_, c)| *c == child))
    }

    // ------------------------------------------------------------ allocation

    /// The available worker in `team` with the most room for `k` more children, and how
    /// full that leaves them against their target (1.0 = at target).
    fn roomiest(&mut self, team: usize, k: usize, except: Option<usize>) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for w in 0..self.workers.len() {
            let worker = &self.workers[w];
            if worker.team != team || !worker.available || Some(w) == except {
                continue;
            }
            let fullness = (worker.load + k) as f64 / worker.target;
            let jittered = fullness * self.rng.random_range(0.93..1.07);
            if best.is_none_or(|(_, b)| jittered < b) {
                best = Some((w, jittered));
            }
        }
        best.map(|(w, _)| (w, (self.workers[w].load + k) as f64 / self.workers[w].target))
    }

    /// The worker already holding another open episode of this family in the team.
    fn family_worker(&self, e: usize) -> Option<usize> {
        let ep = &self.episodes[e];
        self.families[ep.family]
            .open
            .iter()
            .filter(|o| **o != e && self.episodes[**o].team == ep.team)
            .filter_map(|o| self.episodes[*o].worker)
            .find(|w| self.workers[*w].available)
    }

    /// Gives every case in episode `e` to worker `w`, with `reason` where it takes them over the cap.
    async fn allocate(&mut self, e: usize, w: usize, reason: &str) -> anyhow::Result<()> {
        let manager = self.manager_of(self.episodes[e].team);
        let worker = self.workers[w].actor.clone().context("allocating to a worker with an account")?;
        let previous = self.episodes[e].worker;
        for (case, _) in self.episodes[e].cases.clone() {
            let load_after = (self.workers[w].load + 1) as f64;
            // A newly qualified worker takes a child on a CP plan only with a reason.
            let cp_for_newly_qualified = self.workers[w].member.newly_qualified
                && self.episodes[e].assessed
                && self.episodes[e].work == Work::ChildProtection;
            let over = domain::caseload::is_over_cap(load_after, self.workers[w].cap) || cp_for_newly_qualified;
            self.pause(1, 4);
            let input =
                AllocationInput { worker: Some(worker.staff.0), override_reason: over.then(|| reason.to_string()) };
            let r = self.svc.allocate(&manager, case, &input).await;
            self.done(r, "allocation")?;
            self.workers[w].load += 1;
            if let Some(p) = previous {
                self.workers[p].load -= 1;
            }
        }
        let ep = &mut self.episodes[e];
        ep.worker = Some(w);
        ep.generation += 1;
        let generation = ep.generation;
        let first = match ep.work {
            _ if ep.urgent && previous.is_none() => 0.0,
            Work::ChildProtection => 2.0,
            Work::LookedAfter => 5.0,
            _ => self.rng.random_range(1.0..6.0),
        };
        let at = self.visit_slot(first);
        self.schedule(at, Happening::Visit { episode: e, generation });
        Ok(())
    }

    /// The manager works through the team's unallocated cases: a worker with room gets the
    /// next; a case that has waited three weeks (or is urgent) goes to the lightest load.
    /// With `only`, just that episode.
    async fn allocate_queue(&mut self, team: usize, only: Option<usize>) -> anyhow::Result<()> {
        let waiting: Vec<usize> =
            self.teams[team].queue.iter().copied().filter(|e| only.is_none_or(|o| o == *e)).collect();
        for e in waiting {
            if self.episodes[e].held || self.episodes[e].closed {
                continue;
            }
            let k = self.episodes[e].cases.len();
            let choice = if let Some(w) = self.family_worker(e) {
                Some((w, text::OVER_CAP_REASONS[1]))
            } else {
                let waited = self.cal.working_days_between(self.episodes[e].queued_since, self.now);
                match self.roomiest(team, k, None) {
                    Some((w, fullness)) if fullness <= 1.0 => Some((w, text::OVER_CAP_REASONS[3])),
                    Some((w, _)) if self.episodes[e].urgent => Some((w, text::OVER_CAP_REASONS[2])),
                    Some((w, _)) if waited >= MAX_WAIT_WORKING_DAYS => Some((w, text::OVER_CAP_REASONS[0])),
                    _ => None,
                }
            };
            if let Some((w, reason)) = choice {
                self.allocate(e, w, reason).await?;
                self.teams[team].queue.retain(|q| *q != e);
            }
        }
        Ok(())
    }

    async fn daily_review(&mut self, at: Timestamp, team: usize) -> anyhow::Result<()> {
        self.tick(at);
        self.allocate_queue(team, None).await?;
        if self.today().weekday() == Weekday::Monday {
            self.step_down_for_capacity(team).await?;
        }
        let next = self.cal.next_working_day(self.today());
        let at = world::local(&self.cal, next, 10 * 60 + 20 * team as i64);
        self.schedule(at, Happening::DailyReview(team));
        Ok(())
    }

    /// What the team's available workers can carry.
    fn capacity(&self, team: usize) -> f64 {
        self.workers.iter().filter(|w| w.team == team && w.available).map(|w| w.target).sum::<f64>() * TEAM_HEADROOM
    }

    /// The weekly caseload meeting: when the team holds more than it can carry, the cases
    /// nearest their planned end are stepped down (a few a week).
    async fn step_down_for_capacity(&mut self, team: usize) -> anyhow::Result<()> {
        for _ in 0..4 {
            if (self.teams[team].open as f64) <= self.capacity(team) {
                break;
            }
            let now = self.now;
            let candidate = (0..self.episodes.len())
                .filter(|e| {
                    let ep = &self.episodes[*e];
                    ep.team == team
                        && !ep.closed
                        && !ep.held
                        && ep.worker.is_some()
                        && plus_days(ep.opened_at, ep.work.minimum_days() as f64) <= now
                })
                .min_by_key(|e| self.episodes[*e].planned_end);
            let Some(e) = candidate else { break };
            self.close(e, text::STEP_DOWN_REASON).await?;
        }
        Ok(())
    }

    // ------------------------------------------------------------ the work

    async fn visit(&mut self, at: Timestamp, e: usize, generation: u32) -> anyhow::Result<()> {
        let ep = &self.episodes[e];
        let Some(w) = ep.worker else { return Ok(()) };
        if ep.closed || ep.generation != generation || !self.workers[w].available {
            return Ok(());
        }
        let worker = self.workers[w].actor.clone().context("allocated worker")?;
        let fam = self.plan.families[ep.family].clone();
        let cases = ep.cases.clone();
        let work = ep.work;
        // Visits are written up an hour or two later.
        let write_up = self.rng.random_range(60..180);
        self.tick(plus_mins(at, write_up));
        let no_access = self.rng.random_bool(fam.no_access);
        let school = pick(&mut self.rng, &LISTS.schools);
        let mut missed = no_access;
        for (case, child) in &cases {
            let person = &fam.children[*child];
            let outcome = if no_access {
                VisitOutcome::NoAccess
            } else if self.rng.random_bool(fam.not_seen) {
                missed = true;
                VisitOutcome::NotSeen
            } else if person.age_on(self.cal.local_date(at)) >= 4 && self.rng.random_bool(0.68) {
                VisitOutcome::SeenAlone
            } else {
                VisitOutcome::Seen
            };
            let templates = match outcome {
                VisitOutcome::SeenAlone => text::SEEN_ALONE_NOTES,
                VisitOutcome::Seen => text::SEEN_NOTES,
                VisitOutcome::NotSeen => text::NOT_SEEN_NOTES,
                VisitOutcome::NoAccess => text::NO_ACCESS_NOTES,
            };
            let note = text::fill_about(
                pick(&mut self.rng, templates),
                person.female,
                &[("child", &person.given), ("parent", fam.carer_name()), ("school", school)],
            );
            self.pause(1, 4);
            let input = VisitInput {
                visited_at: Some(at.min(self.now).to_string()),
                outcome: outcome.code().into(),
                note: Some(note),
            };
            let r = self.svc.record_visit(&worker, *case, &input).await;
            self.done(r, "visit")?;
        }
        if self.rng.random_bool(0.2) {
            let (case, child) = cases[0];
            let manager = self.names_of(&self.manager_of(self.episodes[e].team));
            let health = pick(&mut self.rng, &LISTS.health);
            let note = text::fill_about(
                pick(&mut self.rng, text::CASE_NOTES),
                fam.children[child].female,
                &[
                    ("child", &fam.children[child].given),
                    ("parent", fam.carer_name()),
                    ("school", school),
                    ("health", health),
                    ("manager", &manager),
                ],
            );
            self.pause(10, 90);
            let r = self.svc.add_case_note(&worker, case, &NoteInput { text: note }).await;
            self.done(r, "case note")?;
        }
        // An overloaded worker gets round less often.
        let strain = (self.workers[w].load as f64 / self.workers[w].cap).max(1.0).powf(1.3);
        let days = if missed {
            self.rng.random_range(2.0..7.0) * strain.sqrt()
        } else {
            work.visit_days() * strain * self.rng.random_range(0.75..1.3)
        };
        let next = self.visit_slot(days);
        self.schedule(next, Happening::Visit { episode: e, generation });
        Ok(())
    }

    /// The worker (or, with none yet, the manager) completes the assessment; for plan
    /// work the manager starts the plan the same day.
    async fn assessed(&mut self, at: Timestamp, e: usize) -> anyhow::Result<()> {
        if self.episodes[e].closed {
            return Ok(());
        }
        let day = self.cal.working_day_on_or_after(self.cal.local_date(at));
        let when = world::local(&self.cal, day, self.rng.random_range(10 * 60..16 * 60));
        self.tick(when);
        let (team, worker, work) = (self.episodes[e].team, self.episodes[e].worker, self.episodes[e].work);
        let manager = self.manager_of(team);
        let by = match worker.and_then(|w| self.workers[w].actor.clone()) {
            Some(a) => a,
            None => manager.clone(),
        };
        let plan = match work {
            Work::Assessment => None,
            Work::ChildInNeed => Some("cin"),
            Work::ChildProtection => Some("cp"),
            Work::LookedAfter => Some("lac"),
        };
        let category = plan
            .filter(|p| *p == "cp")
            .map(|_| ["neglect", "emotional", "physical", "sexual"][weighted(&mut self.rng, &[48, 35, 10, 7])]);
        for (case, _) in self.episodes[e].cases.clone() {
            self.pause(2, 10);
            let r = self.svc.complete_assessment(&by, case, &WhenInput::default()).await;
            self.done(r, "assessment")?;
            if let Some(plan) = plan {
                self.pause(5, 30);
                let input = PlanInput { plan: plan.into(), category: category.map(Into::into), at: None };
                let r = self.svc.start_plan(&manager, case, &input).await;
                self.done(r, "plan")?;
            }
        }
        self.episodes[e].assessed = true;
        Ok(())
    }

    async fn planned_end(&mut self, at: Timestamp, e: usize) -> anyhow::Result<()> {
        let ep = &self.episodes[e];
        if ep.closed || ep.held {
            return Ok(());
        }
        let team = ep.team;
        // A team with room keeps work open longer; one without closes on time.
        if at < ep.latest_end && (self.teams[team].open as f64) < self.capacity(team) {
            let later = plus_days(at, self.rng.random_range(21..56) as f64);
            self.episodes[e].planned_end = later;
            self.schedule(later, Happening::PlannedEnd(e));
            return Ok(());
        }
        let day = self.cal.working_day_on_or_after(self.cal.local_date(at));
        let when = world::local(&self.cal, day, self.rng.random_range(11 * 60..17 * 60));
        self.tick(when);
        let reason = pick(&mut self.rng, text::closure_reasons(self.episodes[e].work.closure_kind()));
        self.close(e, reason).await
    }

    /// The worker writes a closing summary (often) and the manager closes every case.
    async fn close(&mut self, e: usize, reason: &str) -> anyhow::Result<()> {
        let ep = &self.episodes[e];
        let (team, f, worker) = (ep.team, ep.family, ep.worker);
        let cases = ep.cases.clone();
        if let Some(w) = worker
            && self.rng.random_bool(0.5)
        {
            let fam = &self.plan.families[f];
            let note = text::fill_about(
                pick(&mut self.rng, text::CLOSING_NOTES),
                fam.children[cases[0].1].female,
                &[
                    ("child", &fam.children[cases[0].1].given),
                    ("parent", fam.carer_name()),
                    ("school", pick(&mut self.rng, &LISTS.schools)),
                ],
            );
            let actor = self.workers[w].actor.clone().context("allocated worker")?;
            self.pause(5, 60);
            let r = self.svc.add_case_note(&actor, cases[0].0, &NoteInput { text: note }).await;
            self.done(r, "closing note")?;
        }
        let manager = self.manager_of(team);
        for (case, _) in &cases {
            self.pause(1, 3);
            let r = self.svc.close_case(&manager, *case, &CloseInput { reason: reason.into() }).await;
            self.done(r, "closure")?;
        }
        if let Some(w) = worker {
            self.workers[w].load -= cases.len();
        }
        self.teams[team].open -= cases.len();
        self.teams[team].queue.retain(|q| *q != e);
        self.families[f].open.retain(|o| *o != e);
        self.episodes[e].closed = true;
        Ok(())
    }

    // ------------------------------------------------------------ staff changes

    /// A new starter: the administrator adds their account and the manager moves some cases
    /// from the fullest workers to them.
    async fn joins(&mut self, at: Timestamp, w: usize) -> anyhow::Result<()> {
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
    async fn leave_starts(&mut self, at: Timestamp, w: usize) -> anyhow::Result<()> {
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
