//! A write transaction: the only way anything changes.
//!
//! A transaction has two halves. [`Reads`] is what deciding needs: the loaders, and new
//! ids. [`Tx`] adds the writes (events applied, audit entries, commit) and derefs to its
//! `Reads`, so code handed only a `&mut Reads` can look but never change anything.
//!
//! Transactions are begun and ended by hand on a pooled connection, not through sqlx's
//! `Transaction`: when a statement or the commit fails, SQLite may already have rolled
//! the transaction back itself (a full disk does), and sqlx's bookkeeping then disagrees
//! with the connection and refuses every later transaction on it. Here every ending is
//! explicit, commit or roll back, and a connection whose rollback fails, or whose
//! transaction was abandoned, is closed instead of going back to the pool.

use crate::buffer::{Deferred, Param, WriteBuffer};
use crate::memo::Memo;
use crate::time::to_micros;
use crate::trail::{self, TrailEnd, Unsealed};
use crate::{Backend, StoreError, projection};
use domain::event::Event;
use domain::timer::TimerChange;
use jiff::Timestamp;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Executor, Row};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Who did something, as the trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditActor {
    /// A signed-in member of staff (or partner user).
    Staff(domain::ids::StaffId),
    /// Someone signing in (not yet a session): the login they gave.
    SigningIn(String),
    /// Background work: the worker's name (`sweeper`, `seed`, `cli`).
    System(&'static str),
}

impl AuditActor {
    /// The actor as written in the log: `staff:12`, `login:ana`, `system:sweeper`.
    pub fn as_text(&self) -> String {
        match self {
            AuditActor::Staff(id) => id.subject(),
            AuditActor::SigningIn(login) => format!("login:{login}"),
            AuditActor::System(name) => format!("system:{name}"),
        }
    }
}

/// Where the trail ended when this store last committed an entry, shared by its
/// transactions; `None` until it first appends.
pub(crate) type KnownEnd = std::sync::Arc<std::sync::Mutex<Option<TrailEnd>>>;

/// On PostgreSQL escalation ids come from this sequence (migration 0005), so concurrent
/// sweepers raising escalations in bulk do not queue on the counter row.
const ESCALATION_IDS: (&str, &str) = (domain::escalation::EscalationId::KIND, "escalation_ids");

/// Whether the store can take writes, as the last attempt found: set when a write was
/// refused because the database was full or out of reach, cleared by the next commit.
#[derive(Debug, Default)]
pub(crate) struct Health {
    unwritable: AtomicBool,
}

impl Health {
    /// Notes how a write ended.
    pub(crate) fn note(&self, outcome: Result<(), &StoreError>) {
        match outcome {
            Ok(()) => self.unwritable.store(false, Ordering::Relaxed),
            Err(e) if e.is_unavailable() => self.unwritable.store(true, Ordering::Relaxed),
            Err(_) => {}
        }
    }

    /// Whether the last write was refused for want of a database.
    pub(crate) fn unwritable(&self) -> bool {
        self.unwritable.load(Ordering::Relaxed)
    }
}

/// The reading half of a transaction: what a command may do while it decides. Every
/// loader reads inside the transaction (and sees what it has written); nothing here
/// changes a record.
pub struct Reads {
    /// The connection, inside its transaction; taken only when the transaction ends.
    conn: Option<PoolConnection<Any>>,
    backend: Backend,
    /// Reads that cannot change within one transaction except through it, remembered
    /// for a batch (the sweeper fires hundreds of timers per transaction).
    pub(crate) memo: Memo,
    /// Rows written later, many to a statement; flushed before any other statement.
    pub(crate) buffer: WriteBuffer,
}

/// An open write transaction. Dropping it without [`Tx::commit`] or [`Tx::rollback`]
/// rolls everything back.
pub struct Tx {
    reads: Reads,
    gate: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Events applied since the last audit entry; the next entry records them.
    pending: Vec<Event>,
    /// Audit entries recorded, chained onto the log at commit: the head is locked only
    /// for the last moments of a transaction, so concurrent transactions (several
    /// sweepers) overlap everything else.
    entries: Vec<Unsealed>,
    /// The end of the trail as this store last committed it (shared by its transactions).
    known_end: KnownEnd,
    /// The end of the trail once this transaction's entries are appended.
    sealed: Option<TrailEnd>,
    /// The store's view of whether it can write, told how this transaction ends.
    health: Arc<Health>,
}

impl std::ops::Deref for Tx {
    type Target = Reads;
    fn deref(&self) -> &Reads {
        &self.reads
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Reads {
        &mut self.reads
    }
}

/// The connection of a transaction that has not ended.
fn live(conn: &mut Option<PoolConnection<Any>>) -> &mut AnyConnection {
    // Only commit, rollback and drop take the connection, and each consumes the
    // transaction, so nothing can reach it afterwards.
    conn.as_mut().map(|c| &mut **c).expect("a transaction holds its connection until it ends")
}

/// Begins a transaction with `begin` (`BEGIN`, `BEGIN IMMEDIATE`) on a pooled connection.
pub(crate) async fn begin_on(
    mut conn: PoolConnection<Any>,
    begin: &'static str,
) -> Result<PoolConnection<Any>, StoreError> {
    if let Err(e) = conn.execute(begin).await {
        // Whatever state it is in, this connection is not one to hand out again.
        conn.close_on_drop();
        return Err(e.into());
    }
    Ok(conn)
}

/// Rolls back a transaction nobody ended, closing the connection if that fails (or if
/// there is no runtime to do it on). The SQLite write gate is held until it is done, so
/// the next writer starts after it.
fn end_abandoned(mut conn: PoolConnection<Any>, gate: Option<tokio::sync::OwnedMutexGuard<()>>) {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(async move {
                if conn.execute("ROLLBACK").await.is_err() {
                    conn.close_on_drop();
                }
                drop(conn);
                drop(gate);
            });
        }
        Err(_) => conn.close_on_drop(),
    }
}

/// Rolls back now; a connection that cannot roll back is closed, not pooled again.
async fn roll_back(mut conn: PoolConnection<Any>) {
    if conn.execute("ROLLBACK").await.is_err() {
        conn.close_on_drop();
    }
}

impl Drop for Reads {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            end_abandoned(conn, None);
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // Abandoned: an error returned early, or the request was cancelled.
        if let Some(conn) = self.reads.conn.take() {
            end_abandoned(conn, self.gate.take());
        }
    }
}

impl Reads {
    /// The reading half of a transaction begun on `conn`.
    pub(crate) fn new(conn: PoolConnection<Any>, backend: Backend) -> Self {
        Self { conn: Some(conn), backend, memo: Memo::default(), buffer: WriteBuffer::default() }
    }

    /// The connection, for a statement inside the transaction, once every row waiting in
    /// the write buffer is written: whatever the statement reads sees them.
    pub(crate) async fn db(&mut self) -> Result<&mut AnyConnection, StoreError> {
        if !self.buffer.is_empty() {
            self.buffer.flush(live(&mut self.conn), self.backend, None).await?;
        }
        Ok(live(&mut self.conn))
    }

    /// The connection, once the rows waiting for `tables` are written: for a statement
    /// that touches only those tables (an update of a new escalation, say).
    pub(crate) async fn db_after(&mut self, tables: &[Deferred]) -> Result<&mut AnyConnection, StoreError> {
        if tables.iter().any(|t| self.buffer.has(*t)) {
            self.buffer.flush(live(&mut self.conn), self.backend, Some(tables)).await?;
        }
        Ok(live(&mut self.conn))
    }

    /// Ends a read-only transaction: it changed nothing, so it is rolled back.
    pub async fn finish(mut self) {
        if let Some(conn) = self.conn.take() {
            roll_back(conn).await;
        }
    }

    /// Which engine this transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// ` FOR UPDATE` on PostgreSQL (row lock until commit); nothing on SQLite, where the
    /// transaction already holds the database's write lock.
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Allocates the next id of a kind of record (`ReferralId::KIND`…).
    ///
    /// The first id of a kind in a transaction takes (and, on PostgreSQL, locks) the
    /// counter row; later ones are counted here and written back at commit, so a batch
    /// allocating a thousand ids costs two statements and leaves no gaps.
    pub async fn next_id(&mut self, kind: &str) -> Result<i64, StoreError> {
        if self.backend == Backend::Postgres && kind == ESCALATION_IDS.0 {
            if let Some(id) = self.memo.reserved.pop_front() {
                return Ok(id);
            }
            // Reads no table, so nothing need be flushed first.
            let sql = format!("SELECT nextval('{}') AS id", ESCALATION_IDS.1);
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(live(&mut self.conn)).await?;
            return Ok(row.try_get::<i64, _>("id")?);
        }
        if let Some((last, dirty)) = self.memo.ids.get_mut(kind) {
            *last += 1;
            *dirty = true;
            return Ok(*last);
        }
        let row = sqlx::query(
            "INSERT INTO id_counters (kind, last_id) VALUES ($1, 1)
             ON CONFLICT (kind) DO UPDATE SET last_id = id_counters.last_id + 1
             RETURNING last_id",
        )
        .bind(kind.to_string())
        .fetch_one(self.db().await?)
        .await?;
        let id = row.try_get::<i64, _>("last_id")?;
        self.memo.ids.insert(kind.to_string(), (id, false));
        Ok(id)
    }

    /// Takes `n` escalation ids in one statement for a batch that may raise up to `n`
    /// escalations (PostgreSQL; on SQLite ids are counted in the transaction anyway).
    /// Ids not used are skipped for good: a batch that raises fewer leaves gaps.
    pub async fn reserve_escalation_ids(&mut self, n: usize) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres || n == 0 {
            return Ok(());
        }
        let sql = format!("SELECT nextval('{}') AS id FROM generate_series(1, $1) ORDER BY 1", ESCALATION_IDS.1);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .fetch_all(live(&mut self.conn))
            .await?;
        for r in rows {
            self.memo.reserved.push_back(r.try_get::<i64, _>("id")?);
        }
        Ok(())
    }
}

impl Tx {
    /// A write transaction begun on `conn`, holding the SQLite write gate if any.
    pub(crate) fn new(
        conn: PoolConnection<Any>,
        backend: Backend,
        gate: Option<tokio::sync::OwnedMutexGuard<()>>,
        known_end: KnownEnd,
        health: Arc<Health>,
    ) -> Self {
        Self {
            reads: Reads::new(conn, backend),
            gate,
            pending: Vec::new(),
            entries: Vec::new(),
            known_end,
            sealed: None,
            health,
        }
    }

    /// The reading half, for code that may look but not change anything.
    pub fn reads(&mut self) -> &mut Reads {
        &mut self.reads
    }

    /// Applies events to the tables. They go on the trail with the next [`Tx::record`];
    /// committing before that is an error.
    pub async fn apply(&mut self, events: &[Event], at: Timestamp) -> Result<(), StoreError> {
        for event in events {
            projection::apply(self, event, at).await?;
            self.reads.memo.on_event(event);
        }
        self.pending.extend_from_slice(events);
        Ok(())
    }

    /// Applies `events` and records one audit entry holding them and every event applied
    /// since the last entry. At commit the entries are chained to the log in order, each
    /// to the one before; [`Tx::commit`] returns the last one's sequence number.
    ///
    /// One command, one entry: a batch of commands in one transaction (the sweeper firing
    /// several timers) records once per command.
    pub async fn record(
        &mut self,
        actor: &AuditActor,
        action: &str,
        subject: &str,
        at: Timestamp,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.apply(events, at).await?;
        let all = std::mem::take(&mut self.pending);
        // Encoded now, so the chain's lock at commit covers only hashing and writing.
        let events = serde_json::to_value(&all)
            .and_then(|v| audit::canonical(&v))
            .map_err(|e| StoreError::Corrupt { table: "audit_log", detail: e.to_string() })?;
        self.entries.push(Unsealed {
            at,
            actor: actor.as_text(),
            action: action.to_string(),
            subject: subject.to_string(),
            events,
        });
        Ok(())
    }

    /// Benchmarks only: forgets the events applied since the last entry, so the trail
    /// bench can time a command's writes without its entry (committing them otherwise is
    /// refused).
    #[cfg(feature = "testing")]
    pub fn forget_unrecorded(&mut self) {
        self.pending.clear();
    }

    /// Benchmarks and tests only: the connection, for a statement of their own.
    #[cfg(feature = "testing")]
    pub async fn connection(&mut self) -> Result<&mut AnyConnection, StoreError> {
        self.db().await
    }

    /// Whether events have been applied that no audit entry records yet.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Creates, moves or completes timers, in this transaction.
    pub async fn change_timers(&mut self, changes: &[TimerChange], now: Timestamp) -> Result<(), StoreError> {
        let now = to_micros(now);
        for change in changes {
            match change {
                TimerChange::Schedule { kind, subject, due_at, token } => {
                    // One multi-row upsert may touch a row only once.
                    if self.buffer.has_timer(kind.code(), subject) {
                        self.db_after(&[Deferred::Timer]).await?;
                    }
                    let row: Vec<Param> = vec![
                        kind.code().into(),
                        subject.as_str().into(),
                        to_micros(*due_at).into(),
                        (*token).into(),
                        "scheduled".into(),
                        now.into(),
                        now.into(),
                    ];
                    self.buffer.push_timer(kind.code(), subject, row);
                }
                TimerChange::Done { kind, subject } => {
                    sqlx::query("UPDATE timers SET state = 'done', updated_at = $3 WHERE kind = $1 AND subject = $2 AND state <> 'done'")
                        .bind(kind.code())
                        .bind(subject.clone())
                        .bind(now)
                        .execute(self.db_after(&[Deferred::Timer]).await?)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Chains the recorded entries onto the log after the end this store last committed,
    /// in one statement that writes only if the trail still ends there; if another
    /// process appended since, reads the end (locking it) and appends again. Returns the
    /// last sequence number.
    ///
    /// Rows still waiting in the write buffer, if few, ride with that statement: a
    /// command's entry then costs no exchange with the database of its own.
    async fn seal_entries(&mut self) -> Result<Option<i64>, StoreError> {
        if self.entries.is_empty() {
            return Ok(None);
        }
        let remembered = self.known_end.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let (mut end, mut read) = match remembered {
            Some(end) => (end, false),
            None => (trail::read_end(self).await?, true),
        };
        // Too many to ride: written now, before the head is locked, not after.
        let mut riders = self.reads.buffer.take_riders(self.reads.backend);
        if riders.is_none() {
            self.db().await?;
        }
        loop {
            let appended =
                trail::append(live(&mut self.reads.conn), self.reads.backend, &end, &self.entries, riders.take())
                    .await?;
            if let Some(new_end) = appended {
                self.entries.clear();
                let seq = new_end.seq;
                self.sealed = Some(new_end);
                return Ok(Some(seq));
            }
            if read {
                return Err(trail::head_moved());
            }
            end = trail::read_end(self).await?;
            read = true;
        }
    }

    /// Everything a commit writes before `COMMIT` itself: the id counters, the trail's
    /// entries and the rows still waiting. Returns the last entry's sequence number.
    async fn write_out(&mut self) -> Result<Option<i64>, StoreError> {
        if let Some(event) = self.pending.first() {
            // A change must never reach the tables without reaching the trail.
            return Err(StoreError::Unrecorded { event: event.name().to_string(), count: self.pending.len() });
        }
        // No waiting row refers to an id counter, so the counters go first and the
        // waiting rows may ride with the trail's append.
        for (kind, (last, dirty)) in std::mem::take(&mut self.reads.memo.ids) {
            if dirty {
                sqlx::query("UPDATE id_counters SET last_id = $2 WHERE kind = $1")
                    .bind(kind)
                    .bind(last)
                    .execute(live(&mut self.reads.conn))
                    .await?;
            }
        }
        // Last, so the head is locked for as short a time as possible.
        let last = self.seal_entries().await?;
        self.db().await?;
        Ok(last)
    }

    /// Commits the transaction: the changes, and their trail, become durable together.
    /// Returns the sequence number of the last audit entry it wrote, if any.
    ///
    /// On any failure everything is rolled back (a connection that cannot roll back is
    /// closed), so the store stays usable; a failure for want of a database is noted for
    /// [`crate::Store::writable`].
    pub async fn commit(mut self) -> Result<Option<i64>, StoreError> {
        let written = self.write_out().await;
        let Some(mut conn) = self.reads.conn.take() else {
            return Err(StoreError::Corrupt { table: "transaction", detail: "committed twice".into() });
        };
        let outcome = match written {
            Ok(last) => match conn.execute("COMMIT").await {
                Ok(_) => Ok(last),
                Err(e) => {
                    // SQLite may have rolled back already; if it has not, make sure.
                    roll_back(conn).await;
                    Err(StoreError::from(e))
                }
            },
            Err(e) => {
                roll_back(conn).await;
                Err(e)
            }
        };
        self.health.note(outcome.as_ref().map(|_| ()));
        if outcome.is_ok()
            && let Some(end) = self.sealed.take()
        {
            *self.known_end.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(end);
        }
        outcome
    }

    /// Rolls the transaction back: nothing it did is kept. `cause`, the error that made
    /// the caller give up, is noted when it says the database is unavailable.
    pub async fn rollback(mut self, cause: Option<&StoreError>) {
        if let Some(e) = cause {
            self.health.note(Err(e));
        }
        if let Some(conn) = self.reads.conn.take() {
            roll_back(conn).await;
        }
    }
}
