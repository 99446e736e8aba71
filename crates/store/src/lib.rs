//! Storage for safeguard on SQLite (the embedded default) or PostgreSQL (scale-out).
//!
//! One set of SQL serves both through sqlx's `Any` driver; the few places where the
//! dialects differ ask [`Backend`]. Every write goes through a [`Tx`]: the command's
//! events are applied to the tables and appended to the audit log in the same
//! transaction, so a change and its trail commit together or not at all.

pub mod access;
mod buffer;
pub mod duplicates;
mod escalation;
mod load;
mod memo;
mod migrate;
mod outbox;
mod projection;
pub mod query;
mod time;
pub mod trail;
mod tx;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use escalation::{CaseTimes, DueTimer, LatestThreshold, Preload};
pub use load::{StaffCredentials, session_actor, staff_credentials, token_actor};
pub use outbox::{Delivery, DeliveryContext, DeliveryKind, WebhookEndpoint, initials};
pub use time::{from_micros, to_micros};
pub use tx::{AuditActor, Reads, Tx};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database engine is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one file (WAL), one writer at a time.
    Sqlite,
    /// PostgreSQL: many processes, row locks.
    Postgres,
}

impl Backend {
    /// A short name for logs and test names.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database URL is not one safeguard can use.
    #[error("unsupported database URL {0:?}: use a file path, sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// Stored data could not be read back (a bug or a tampered row).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// Which table.
        table: &'static str,
        /// What could not be parsed.
        detail: String,
    },
    /// A migration failed.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// Its version.
        version: i64,
        /// Its name.
        name: &'static str,
        /// Why.
        source: sqlx::Error,
    },
    /// A transaction was committed with events applied to the tables that no audit entry
    /// records: refused, so a change can never reach the tables without the trail.
    #[error("{count} event(s) applied but not recorded on the trail (first: {event}); nothing was committed")]
    Unrecorded {
        /// The first such event's name.
        event: String,
        /// How many.
        count: usize,
    },
    /// The database holds migrations this binary does not know: it is older than the data.
    #[error("the database is at schema version {found}, newer than this program's {known}; upgrade safeguard")]
    SchemaTooNew {
        /// Version in the database.
        found: i64,
        /// Newest version this binary knows.
        known: i64,
    },
}

impl StoreError {
    /// Whether the database could not take the work for now, through no fault of the
    /// request: it is full, out of reach, shutting down or out of resources. Such a
    /// request may succeed if tried again later (HTTP 503), unlike a bug or a bad row.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else { return false };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let engine = if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    Backend::Sqlite
                } else {
                    Backend::Postgres
                };
                db.code().is_some_and(|code| unavailable_code(engine, &code))
            }
            _ => false,
        }
    }

    /// Whether the error is a unique-constraint violation (a race two requests both lost
    /// to the same row, e.g. two people registering the same login at once).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}

/// Whether a database error code says "not now" rather than "never": SQLite's primary
/// result codes (the low byte of its extended code) BUSY, LOCKED, NOMEM, READONLY, IOERR,
/// FULL and CANTOPEN; PostgreSQL's SQLSTATE classes 08 (connection), 53 (insufficient
/// resources: disk full, out of memory, too many connections) and 58 (system I/O), and
/// 57P01–57P03 (the server shutting down or starting up).
fn unavailable_code(engine: Backend, code: &str) -> bool {
    match engine {
        // SQLite reports its extended result code; the primary code is its low byte.
        Backend::Sqlite => code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 7 | 8 | 10 | 13 | 14)),
        Backend::Postgres => {
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("58")
                || matches!(code, "57P01" | "57P02" | "57P03")
        }
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; queueing writers here (rather than in SQLite's
    /// busy handler, which polls) keeps write latency flat under load.
    write_gate: Arc<tokio::sync::Mutex<()>>,
    /// Where the trail ended at this store's last commit, so an append need not read it.
    known_end: tx::KnownEnd,
    /// Whether the last write was refused for want of a database (`/ready` asks).
    health: Arc<tx::Health>,
    /// SQLite: a cap on the database's pages set on every connection, new ones too, so
    /// tests can fill a store without filling a disk (0: none).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    page_limit: Arc<std::sync::atomic::AtomicI64>,
    /// The PostgreSQL schema every connection is pinned to (tests), for a connection
    /// opened outside the pool.
    pg_schema: Option<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

/// Turns what a person typed (`safeguard.db`, `sqlite://x.db`, `postgres://…`) into a URL.
pub fn database_url(spec: &str) -> Result<(Backend, String), StoreError> {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        return Ok((Backend::Postgres, spec.to_string()));
    }
    if spec == "sqlite::memory:" || spec == ":memory:" {
        return Ok((Backend::Sqlite, "sqlite::memory:".to_string()));
    }
    if let Some(rest) = spec.strip_prefix("sqlite://").or_else(|| spec.strip_prefix("sqlite:")) {
        let sep = if rest.contains('?') { '&' } else { '?' };
        let url =
            if rest.contains("mode=") { format!("sqlite://{rest}") } else { format!("sqlite://{rest}{sep}mode=rwc") };
        return Ok((Backend::Sqlite, url));
    }
    if spec.contains("://") {
        return Err(StoreError::UnsupportedUrl(spec.to_string()));
    }
    Ok((Backend::Sqlite, format!("sqlite://{spec}?mode=rwc")))
}

impl Store {
    /// Connects to the database named by `spec` (see [`database_url`]) without migrating.
    pub async fn connect(spec: &str) -> Result<Store, StoreError> {
        let (backend, url) = database_url(spec)?;
        Self::connect_with(backend, &url, None).await
    }

    /// Connects, optionally pinning every connection to a PostgreSQL schema (tests).
    pub async fn connect_with(backend: Backend, url: &str, pg_schema: Option<String>) -> Result<Store, StoreError> {
        install_default_drivers();
        let memory = url.contains(":memory:");
        let schema_of_connections = pg_schema.clone();
        let page_limit = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let limit_of_connections = page_limit.clone();
        let options = AnyPoolOptions::new()
            // An in-memory SQLite database exists per connection: keep exactly one.
            .max_connections(if memory {
                1
            } else if backend == Backend::Sqlite {
                4
            } else {
                16
            })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if memory { None } else { Some(Duration::from_secs(1800)) })
            .acquire_timeout(Duration::from_secs(30))
            // sqlx pings every connection it hands out: a round trip before each command
            // and each read. A connection used within the last second is live; one idle
            // longer is pinged first and, if the server has gone, replaced, as before.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                let schema = pg_schema.clone();
                let page_limit = limit_of_connections.load(std::sync::atomic::Ordering::Relaxed);
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            // WAL lets pages read while a command writes; FULL makes every
                            // committed command survive a power cut, as promised.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            // 32 MiB of pages per connection (the default is 2 MiB): the
                            // working set of a busy authority stays in memory instead of
                            // being read back through the kernel on every command.
                            conn.execute("PRAGMA cache_size = -32768").await?;
                            if page_limit > 0 {
                                let sql = format!("PRAGMA max_page_count = {page_limit}");
                                conn.execute(sqlx::AssertSqlSafe(sql)).await?;
                            }
                        }
                        Backend::Postgres => {
                            if let Some(s) = schema {
                                conn.execute(sqlx::AssertSqlSafe(format!("SET search_path TO \"{s}\""))).await?;
                            }
                        }
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        Ok(Store {
            pool,
            backend,
            write_gate: Arc::new(tokio::sync::Mutex::new(())),
            known_end: Default::default(),
            health: Arc::default(),
            page_limit,
            pg_schema: schema_of_connections,
        })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(spec: &str) -> Result<Store, StoreError> {
        let store = Self::connect(spec).await?;
        store.migrate().await?;
        store.bring_trail_up_to_date().await?;
        Ok(store)
    }

    /// Applies any migrations not yet applied. Returns how many ran.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        migrate::run(self).await
    }

    /// Whether every migration this program knows has been applied.
    pub async fn schema_is_current(&self) -> Result<bool, StoreError> {
        migrate::is_current(self).await
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The PostgreSQL schema this store is pinned to, if any (tests).
    pub(crate) fn pg_schema(&self) -> Option<&str> {
        self.pg_schema.as_deref()
    }

    /// The connection pool, for read-only queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. Commit it with [`Tx::commit`]; dropping it rolls back.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let gate = match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        // IMMEDIATE takes SQLite's write lock up front, so a second process (say
        // `safeguard user add` beside `serve`) waits instead of failing mid-command.
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        let conn = match self.pool.acquire().await.map_err(StoreError::from) {
            Ok(c) => tx::begin_on(c, begin).await,
            Err(e) => Err(e),
        };
        match conn {
            Ok(conn) => Ok(Tx::new(conn, self.backend, gate, self.known_end.clone(), self.health.clone())),
            Err(e) => {
                self.health.note(Err(&e));
                Err(e)
            }
        }
    }

    /// Starts a read-only transaction (one consistent snapshot; takes no write lock). End
    /// it with [`Reads::finish`] (dropping it does too, a moment later).
    pub async fn begin_read(&self) -> Result<Reads, StoreError> {
        let conn = tx::begin_on(self.pool.acquire().await?, "BEGIN").await?;
        Ok(Reads::new(conn, self.backend))
    }

    /// Whether the store can take a write now. After a write was refused because the
    /// database was full or out of reach, this tries one (a row in `write_probe`, large
    /// enough to need a new page, written and removed again) until one succeeds; until
    /// then it answers from memory without touching the database.
    pub async fn writable(&self) -> Result<bool, StoreError> {
        if !self.health.unwritable() {
            return Ok(true);
        }
        let probe = async {
            let mut tx = self.begin().await?;
            let filler = "x".repeat(8192);
            let c = tx.db().await?;
            sqlx::query("INSERT INTO write_probe (id, filler) VALUES (1, $1)").bind(filler).execute(&mut *c).await?;
            sqlx::query("DELETE FROM write_probe WHERE id = 1").execute(&mut *c).await?;
            tx.commit().await
        };
        match probe.await {
            Ok(_) => Ok(true),
            Err(e) if e.is_unavailable() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Tunes SQLite for a bulk load (demo seeding): commits stop waiting for the disk.
    /// Call [`Store::end_bulk_load`] afterwards. No effect on PostgreSQL.
    pub async fn begin_bulk_load(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.on_every_connection("PRAGMA synchronous = OFF").await?;
        }
        Ok(())
    }

    /// Restores full durability after [`Store::begin_bulk_load`] and checkpoints the WAL.
    pub async fn end_bulk_load(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.on_every_connection("PRAGMA synchronous = FULL").await?;
            self.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    /// Tests only (SQLite): how many pages the database holds now.
    #[cfg(feature = "testing")]
    pub async fn page_count(&self) -> Result<i64, StoreError> {
        use sqlx::Row;
        Ok(sqlx::query("PRAGMA page_count").fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Tests only (SQLite): caps the database at `pages` pages on every connection, now
    /// and as new ones open, as a full disk would; `None` lifts the cap.
    #[cfg(feature = "testing")]
    pub async fn limit_pages(&self, pages: Option<i64>) -> Result<(), StoreError> {
        // SQLite's own largest page count: the cap lifted.
        let pages = pages.unwrap_or(4_294_967_294);
        self.page_limit.store(pages, std::sync::atomic::Ordering::Relaxed);
        let mut held = Vec::new();
        for _ in 0..self.pool.options().get_max_connections() {
            let mut conn = self.pool.acquire().await?;
            conn.execute(sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {pages}"))).await?;
            held.push(conn);
        }
        Ok(())
    }

    /// Runs a per-connection setting on every connection the pool can hand out. Holding
    /// them all at once is what reaches each one: executing on the pool repeatedly tends to
    /// get the same idle connection back every time.
    async fn on_every_connection(&self, sql: &'static str) -> Result<(), StoreError> {
        let mut held = Vec::new();
        for _ in 0..self.pool.options().get_max_connections() {
            let mut conn = self.pool.acquire().await?;
            conn.execute(sql).await?;
            held.push(conn);
        }
        Ok(())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" => Ok(Backend::Postgres),
            _ => Err(format!("unknown backend {s}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_or_unreachable_databases_are_unavailable_not_broken() {
        // SQLite: FULL (13), an extended IOERR (10 | 3 << 8), BUSY (5); not CONSTRAINT (19).
        let sqlite = |c| unavailable_code(Backend::Sqlite, c);
        assert!(sqlite("13") && sqlite("2826") && sqlite("5"));
        assert!(!sqlite("19") && !sqlite("2067") && !sqlite("1"));
        // PostgreSQL: disk full, connection failure, admin shutdown; not a unique violation
        // nor a cancelled statement.
        let pg = |c| unavailable_code(Backend::Postgres, c);
        assert!(pg("53100") && pg("08006") && pg("57P01"));
        assert!(!pg("23505") && !pg("42P01") && !pg("57014"));
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt { table: "t", detail: "x".into() }.is_unavailable());
    }

    #[test]
    fn urls_are_understood() {
        assert_eq!(database_url("safeguard.db").unwrap(), (Backend::Sqlite, "sqlite://safeguard.db?mode=rwc".into()));
        assert_eq!(database_url("sqlite://x.db").unwrap().1, "sqlite://x.db?mode=rwc");
        assert_eq!(database_url("postgres://u@h/db").unwrap().0, Backend::Postgres);
        assert!(database_url("mysql://h/db").is_err());
    }
}
