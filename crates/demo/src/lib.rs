//! `safeguard demo`: a realistic synthetic local authority to explore the service with.
//!
//! Four teams and about thirty staff, about 1,500 children and their families, and three
//! years of referrals, decisions, allocations, visits, notes and closures ending today.
//! Everything is written through the service's commands as the person who would do it,
//! on a simulated clock, so the audit trail holds every change just as in real use.
//! The same seed (and day) gives the same authority.

mod sim;
mod staff;
mod text;
mod world;

pub use staff::DEMO_PASSWORD;

use anyhow::{Context, bail};
use commands::{Config, Service};
use domain::clock::SimulatedClock;
use domain::staff::Role;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::query::{self, CaseFilter, ReferralFilter};
use store::{Backend, Store};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 1989;
/// How many children the demo holds by default.
pub const DEFAULT_CHILDREN: usize = 1500;

/// What to seed.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many children (families are added until there are this many).
    pub children: usize,
    /// The random seed: the same seed and day give the same authority.
    pub seed: u64,
    /// Where the three years of history end ("today").
    pub now: Timestamp,
}

impl Default for Options {
    fn default() -> Self {
        Self { children: DEFAULT_CHILDREN, seed: DEFAULT_SEED, now: Timestamp::now() }
    }
}

/// What seeding did.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Commands issued; each wrote one audit entry.
    pub commands: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// What a database holds, as far as the demo is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// No teams and no staff: free to seed.
    Empty,
    /// The demo authority.
    Demo,
    /// Someone's real (or other) data: never touched.
    Other,
}

/// Looks at what `store` holds.
pub async fn contents(store: &Store) -> anyhow::Result<Contents> {
    let teams = query::teams(store).await?;
    let staff = query::staff_list(store, None).await?;
    if teams.is_empty() && staff.is_empty() {
        return Ok(Contents::Empty);
    }
    let demo_teams = staff::TEAMS.iter().all(|t| teams.iter().any(|x| x.name == *t));
    let demo_admin = staff.iter().any(|s| s.login == staff::ADMIN.login && s.role == Role::Administrator);
    Ok(if demo_teams && demo_admin && teams.len() == staff::TEAMS.len() { Contents::Demo } else { Contents::Other })
}

/// Seeds the demo authority into an empty store.
pub async fn seed(store: &Store, options: &Options) -> anyhow::Result<Seeded> {
    if contents(store).await? != Contents::Empty {
        bail!("the database already holds data; the demo seeds only an empty one");
    }
    if options.children < 10 {
        bail!("the demo needs at least 10 children");
    }
    let started = Instant::now();
    let clock = Arc::new(SimulatedClock::new(options.now));
    let svc = Service::new(store.clone(), clock.clone(), Config::default());
    store.begin_bulk_load().await?;
    let run = sim::run(svc, clock, options.children, options.seed, options.now).await;
    // Full durability again, whether or not seeding finished.
    store.end_bulk_load().await?;
    let run = run?;
    Ok(Seeded { commands: run.commands, elapsed: started.elapsed() })
}

/// Whether `db` names a SQLite file by its plain path.
fn plain_sqlite_path(db: &str) -> bool {
    matches!(store::database_url(db), Ok((Backend::Sqlite, _))) && !db.contains(':')
}

/// Opens the demo database named by `db` (a SQLite path or `postgres://…`), seeding it
/// first when it is new or empty. Returns the store and, when it seeded, what that did.
///
/// A new SQLite file is seeded under a temporary name and renamed when complete, so an
/// interrupted seeding never leaves a half-seeded file to be reused.
pub async fn open(db: &str, options: &Options) -> anyhow::Result<(Store, Option<Seeded>)> {
    if plain_sqlite_path(db) && !Path::new(db).exists() {
        let partial = format!("{db}.partial");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{partial}{suffix}"));
        }
        let store = Store::open(&partial).await.with_context(|| format!("creating {partial}"))?;
        let seeded = seed(&store, options).await?;
        store.close().await;
        for suffix in ["-wal", "-shm", ""] {
            let from = format!("{partial}{suffix}");
            if Path::new(&from).exists() {
                std::fs::rename(&from, format!("{db}{suffix}")).with_context(|| format!("renaming {from}"))?;
            }
        }
        let store = Store::open(db).await.with_context(|| format!("opening {db}"))?;
        return Ok((store, Some(seeded)));
    }
    let store = Store::open(db).await.with_context(|| format!("opening {db}"))?;
    match contents(&store).await? {
        Contents::Empty => {
            let seeded = seed(&store, options).await?;
            Ok((store, Some(seeded)))
        }
        Contents::Demo => Ok((store, None)),
        Contents::Other => {
            bail!("{db} already holds data that is not the safeguard demo; choose another file with --db")
        }
    }
}

/// One account to sign in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// The role, in words ("social worker", "partner (police)").
    pub role: String,
    /// The login.
    pub login: String,
    /// What they will find ("Riverside Child Protection, 27 children").
    pub detail: String,
}

/// One login per role, chosen to show the most: the social worker with the heaviest
/// caseload, and the senior practitioner and managers above them.
pub async fn logins(store: &Store) -> anyhow::Result<Vec<DemoLogin>> {
    let teams = query::teams(store).await?;
    let staff = query::staff_list(store, None).await?;
    let mut loads = BTreeMap::new();
    let mut unallocated = BTreeMap::new();
    let mut team_open = BTreeMap::new();
    for t in &teams {
        for w in query::team_workers(store, t.id, &Default::default()).await? {
            loads.insert(w.id, w.open_cases);
        }
        let open = query::cases(
            store,
            &CaseFilter { team: Some(t.id), open_only: true, limit: 1_000_000, ..Default::default() },
        )
        .await?;
        unallocated.insert(t.id, open.iter().filter(|c| c.worker.is_none()).count());
        team_open.insert(t.id, open.len());
    }
    let load = |id| loads.get(&id).copied().unwrap_or(0);
    let team_name = |s: &query::StaffView| s.team.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    let login_of = |id| staff.iter().find(|s| s.id == id).map(|s| s.login.clone());
    let mut out = Vec::new();
    let mut push = |role: &str, login: String, detail: String| out.push(DemoLogin { role: role.into(), login, detail });

    let heaviest = |role: Role, team: Option<domain::ids::TeamId>| {
        staff
            .iter()
            .filter(|s| s.role == role && s.active && (team.is_none() || s.team.as_ref().map(|t| t.id) == team))
            .max_by_key(|s| (load(s.id), std::cmp::Reverse(s.login.clone())))
    };
    let worker = heaviest(Role::SocialWorker, None).context("the demo has social workers")?;
    let team_id = worker.team.as_ref().map(|t| t.id);
    push("social worker", worker.login.clone(), format!("{}, {} children", team_name(worker), load(worker.id)));
    if let Some(sp) = heaviest(Role::SeniorPractitioner, team_id).or_else(|| heaviest(Role::SeniorPractitioner, None)) {
        push("senior practitioner", sp.login.clone(), format!("{}, {} children", team_name(sp), load(sp.id)));
    }
    let team = teams.iter().find(|t| Some(t.id) == team_id).context("the worker's team")?;
    if let Some(tm) = team.team_manager.as_ref().and_then(|m| login_of(m.id)) {
        let open = team_open.get(&team.id).copied().unwrap_or(0);
        let waiting = unallocated.get(&team.id).copied().unwrap_or(0);
        push("team manager", tm, format!("{}: {open} children open, {waiting} unallocated", team.name));
    }
    if let Some(sm) = team.service_manager.as_ref() {
        let theirs: Vec<&str> = teams
            .iter()
            .filter(|t| t.service_manager.as_ref().map(|m| m.id) == Some(sm.id))
            .map(|t| t.name.as_str())
            .collect();
        if let Some(login) = login_of(sm.id) {
            push("service manager", login, theirs.join(" and "));
        }
    }
    if let Some(hos) = team.head_of_service.as_ref().and_then(|m| login_of(m.id)) {
        let open: usize = team_open.values().sum();
        let waiting: usize = unallocated.values().sum();
        push("head of service", hos, format!("all {} teams: {open} children open, {waiting} unallocated", teams.len()));
    }
    if let Some(d) = staff.iter().find(|s| s.role == Role::Director) {
        push("director", d.login.clone(), "the whole service".into());
    }
    if let Some(a) = staff.iter().find(|s| s.role == Role::Administrator) {
        push("administrator", a.login.clone(), "accounts and teams; sees no child's record".into());
    }
    for p in staff.iter().filter(|s| s.role == Role::Partner) {
        let agency = p.agency.map(|a| a.code()).unwrap_or("other");
        let made = query::referrals(
            store,
            &ReferralFilter { recorded_by: Some(p.id), limit: 1_000_000, ..Default::default() },
        )
        .await?
        .len();
        let organisation =
            staff::ROSTER.iter().find(|m| m.login == p.login).map(|m| m.organisation).unwrap_or("partner agency");
        push(&format!("partner ({agency})"), p.login.clone(), format!("{organisation}, {made} referrals made"));
    }
    if let Some(a) = staff.iter().find(|s| s.role == Role::Auditor) {
        push("auditor", a.login.clone(), "internal audit: who has seen each record; sees no child's record".into());
    }
    Ok(out)
}

/// A database spec fit to print: any password in a URL is masked.
fn shown(db: &str) -> String {
    if let Some((scheme, rest)) = db.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    db.to_string()
}

/// The text printed before serving: what happened, where, and who to sign in as.
pub fn banner(db: &str, seeded: Option<&Seeded>, url: Option<&str>, logins: &[DemoLogin]) -> String {
    let db = &shown(db);
    let mut out = String::new();
    match seeded {
        Some(s) => {
            let _ = writeln!(
                out,
                "safeguard demo: seeded {db} in {:.1} s ({} commands, each on the audit trail)",
                s.elapsed.as_secs_f64(),
                s.commands
            );
        }
        None => {
            let _ =
                writeln!(out, "safeguard demo: {db} already holds the demo; reusing it (delete it to start afresh)");
        }
    }
    match url {
        Some(url) => {
            let _ = writeln!(out, "safeguard demo: {url}");
        }
        None => {
            let _ = writeln!(out, "serve it with: safeguard serve --db {db}");
        }
    }
    let _ = writeln!(out, "Sign in with any of these (password: {DEMO_PASSWORD}):");
    let width = logins.iter().map(|l| l.login.len()).max().unwrap_or(0);
    for l in logins {
        let _ = writeln!(out, "  {:<21} {:<width$}  ({})", l.role, l.login, l.detail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_urls_hide_passwords() {
        assert_eq!(
            shown("postgres://app:s3cret@db.example:5432/safeguard"),
            "postgres://app:***@db.example:5432/safeguard"
        );
        assert_eq!(shown("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(shown("safeguard-demo.db"), "safeguard-demo.db");
    }

    #[test]
    fn only_plain_paths_are_seeded_under_a_temporary_name() {
        assert!(plain_sqlite_path("safeguard-demo.db"));
        assert!(plain_sqlite_path("/tmp/x/demo.db"));
        assert!(!plain_sqlite_path("sqlite://demo.db"));
        assert!(!plain_sqlite_path(":memory:"));
        assert!(!plain_sqlite_path("postgres://postgres@127.0.0.1/test"));
    }
}
