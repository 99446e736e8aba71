//! The application layer: every request becomes a command or a query here.
//!
//! A command authorises the actor, loads the state it needs inside one transaction,
//! lets the pure domain decide, and commits the events, the tables they change and one
//! audit entry together. A rejected command (bad field, wrong role, wrong state) returns
//! before anything is written. Queries authorise too, and read through the store's views.

pub mod auth;
pub mod caseloads;
pub mod cases;
pub mod delivery;
pub mod duplicates;
pub mod escalations;
mod executor;
pub mod housekeeping;
pub mod input;
pub mod matching;
pub mod notifications;
pub mod people;
pub mod practice;
pub mod read_models;
mod readback;
pub mod reads;
pub mod referrals;
pub mod staff;
pub mod sweeper;
pub mod trail;
pub mod views;

use domain::Rejection;
use domain::authz::Actor;
use domain::clock::Clock;
use domain::escalation::Policy;
use domain::working_time::Calendar;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use store::{Store, StoreError};

/// Why a command or query did not go through.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// No valid session or token.
    #[error("sign in to continue")]
    Unauthenticated,
    /// The rules refused it; nothing was written.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The database cannot take the work for now (full, out of reach, shutting down);
    /// nothing was written, and the same request may succeed later.
    #[error("the service cannot record this just now; nothing was changed, try again shortly")]
    Unavailable(StoreError),
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(StoreError),
}

impl CommandError {
    /// How long a caller should wait before trying a request refused as
    /// [`CommandError::Unavailable`] again.
    pub const RETRY_AFTER_SECS: u64 = 30;
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        // Two requests racing for the same unique value: the loser hears it plainly.
        if e.is_unique_violation() {
            CommandError::Rejected(Rejection::Conflict {
                field: None,
                message: "someone else just made the same change; reload and try again".into(),
            })
        } else if e.is_unavailable() {
            CommandError::Unavailable(e)
        } else {
            CommandError::Store(e)
        }
    }
}

/// Whether the service can take requests, as `/ready` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Yes.
    Ready,
    /// The database's schema is older than this program: run `safeguard migrate`.
    SchemaBehind,
    /// The database refuses writes (full, or out of reach) and a trial write still fails.
    CannotWrite,
}

/// Shorthand for results of commands and queries.
pub type Result<T, E = CommandError> = std::result::Result<T, E>;

/// Settings that shape the service's behaviour.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a sign-in lasts.
    pub session_lifetime: SignedDuration,
    /// Days the authority is closed beyond weekends and bank holidays.
    pub closures: Vec<jiff::civil::Date>,
    /// Timers the sweeper fires per transaction.
    pub sweep_batch: i64,
    /// Deliveries the notifier sends per transaction.
    pub delivery_batch: i64,
    /// When failed deliveries are tried again, and how often.
    pub retry: domain::delivery::RetryPolicy,
    /// The address people reach the service at, for links in emails.
    pub public_url: String,
    /// The key that signs checkpoints of the trail (kept outside the database); without
    /// one, the trail is still chained and hashed into its tree but nothing is signed.
    pub audit_key: Option<Arc<audit::SigningKey>>,
    /// How often a running server signs the trail when it has new entries.
    pub checkpoint_every: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            session_lifetime: SignedDuration::from_hours(10),
            closures: vec![],
            sweep_batch: sweeper::BATCH,
            delivery_batch: delivery::BATCH,
            retry: domain::delivery::RetryPolicy::default(),
            public_url: "http://127.0.0.1:8080".into(),
            audit_key: None,
            checkpoint_every: std::time::Duration::from_secs(60),
        }
    }
}

/// The service: the store, the clock and the settings. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    store: Store,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    calendar: Calendar,
    /// The policy last read from the store, by version, so a busy sweeper does not parse
    /// it for every timer.
    policy: Arc<std::sync::Mutex<(i64, Arc<Policy>)>>,
    /// Statutory timeliness over 12 months, by team, as last worked out: it reads a year
    /// of referrals and changes slowly, so the caseload dashboard reuses it for a while.
    timeliness: Arc<std::sync::Mutex<caseloads::TimelinessCache>>,
    /// Everyone recorded, indexed for "who might this be?", built on first use and kept
    /// current from the store before each look-up.
    people_index: Arc<std::sync::RwLock<Option<matching::PeopleIndex>>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("store", &self.store).field("config", &self.config).finish()
    }
}

impl Service {
    /// A service over `store` reading time from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: Config) -> Self {
        let calendar = Calendar::england_and_wales().and_closures(config.closures.iter().copied());
        Self {
            store,
            clock,
            config: Arc::new(config),
            calendar,
            policy: Arc::new(std::sync::Mutex::new((0, Arc::new(Policy::default())))),
            timeliness: Arc::default(),
            people_index: Arc::default(),
        }
    }

    /// Working time, with the authority's closures.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The escalation policy in force, read inside a transaction.
    pub(crate) async fn policy_in(&self, tx: &mut store::Reads) -> Result<Arc<Policy>> {
        let stored = tx.current_policy().await?;
        // Version 0 is the built-in default, which the cache starts with.
        let version = stored.as_ref().map_or(0, |(v, _)| *v);
        {
            let cached = self.policy.lock().unwrap_or_else(|p| p.into_inner());
            if cached.0 == version {
                return Ok(cached.1.clone());
            }
        }
        let Some((_, body)) = stored else { return Ok(Arc::new(Policy::default())) };
        let policy = Arc::new(
            Policy::from_json(&body)
                .map_err(|e| CommandError::Store(StoreError::Corrupt { table: "policies", detail: e.to_string() }))?,
        );
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = (version, policy.clone());
        Ok(policy)
    }

    /// The figures an operator watches: the sweeper's backlog, failed timers, open
    /// escalations by level, the length of the trail. Administrators only.
    pub async fn operational_figures(&self, actor: &Actor) -> Result<store::query::OperationalFigures> {
        domain::authz::require(actor, domain::authz::Action::ViewOperations)?;
        Ok(store::query::operational_figures(&self.store, self.now()).await?)
    }

    /// Whether the service can take requests (`/ready`): the store answers, its schema is
    /// current, and it takes writes (after a write was refused for want of a database,
    /// until a trial write succeeds).
    pub async fn ready(&self) -> Result<Readiness> {
        if !self.store.schema_is_current().await? {
            return Ok(Readiness::SchemaBehind);
        }
        Ok(if self.store.writable().await? { Readiness::Ready } else { Readiness::CannotWrite })
    }

    /// The escalation policy in force and its version (0: the built-in default).
    pub async fn current_policy(&self) -> Result<(i64, Arc<Policy>)> {
        let mut tx = self.store.begin_read().await?;
        let version = tx.current_policy().await?.map(|(v, _)| v).unwrap_or(0);
        let p = self.policy_in(&mut tx).await?;
        Ok((version, p))
    }

    /// The store, for reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, for the executor's transactions.
    fn store_handle(&self) -> &Store {
        &self.store
    }

    /// The current moment by the service's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Today's date in England.
    pub fn today(&self) -> jiff::civil::Date {
        self.calendar.local_date(self.now())
    }
}

/// Shorthand for "not found" rejections.
pub(crate) fn not_found(what: impl Into<String>) -> CommandError {
    CommandError::Rejected(Rejection::NotFound(what.into()))
}

/// Who is asking: a signed-in person, or the system itself (the CLI run by an operator
/// with access to the database, or the demo seeder).
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// A signed-in person: their role is checked.
    Staff(&'a Actor),
    /// The operator or a background job: trusted, and named on the trail.
    System(&'static str),
}

impl Caller<'_> {
    /// Checks the caller may do `action`.
    pub fn require(&self, action: domain::authz::Action) -> Result<()> {
        match self {
            Caller::Staff(a) => Ok(domain::authz::require(a, action)?),
            Caller::System(_) => Ok(()),
        }
    }
}
