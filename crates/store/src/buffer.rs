//! Rows a transaction writes later, many to a statement.
//!
//! The sweeper fires hundreds of timers in one transaction, and each adds an escalation,
//! its history, a notification and two timers. Written one statement
//! each, the round trips dominate (about 1 ms a timer on SQLite, 7 ms on PostgreSQL).
//! Rows that nothing in the transaction reads back before commit wait here and go in
//! multi-row statements. Every statement that reads, or updates a table, flushes first
//! (see `Reads::db`), so nothing in the transaction can tell the difference.
//! At commit, a command's few waiting rows ride with the statement that appends its
//! audit entry ([`Riders`]), so the entry costs no exchange with the database of its own.

use crate::Backend;
use sqlx::AnyConnection;
use std::collections::HashSet;

/// A value bound into a deferred row.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    /// An integer (or NULL).
    Int(Option<i64>),
    /// Text (or NULL).
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::Text(v)
    }
}

/// The tables whose rows may wait, in the order they are written: a row is always
/// written after the rows it refers to (history and notifications name an escalation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deferred {
    /// People registered.
    Person,
    /// New escalations.
    Escalation,
    /// Escalation history rows.
    History,
    /// Inbox notifications.
    Notification,
    /// Outbox rows (email and webhook deliveries).
    Delivery,
    /// Timer upserts (create, or move the outstanding timer).
    Timer,
}

const ORDER: [Deferred; 6] = [
    Deferred::Person,
    Deferred::Escalation,
    Deferred::History,
    Deferred::Notification,
    Deferred::Delivery,
    Deferred::Timer,
];

/// Values bound per statement, at most. PostgreSQL gains from large statements (fewer
/// round trips). SQLite has no round trips, and its driver looks up each parameter's
/// name by a walk along the list, so a statement's binding costs grow with the square
/// of its size: smaller statements are faster there.
pub(crate) fn values_per_statement(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 300,
        Backend::Postgres => 3000,
    }
}

impl Deferred {
    fn index(self) -> usize {
        self as usize
    }

    /// The statement's head (up to `VALUES`), its column count and its tail.
    fn shape(self) -> (&'static str, usize, &'static str) {
        match self {
            Deferred::Person => (
                "INSERT INTO people (id, kind, given_name, family_name, dob, dob_precision, sex, nhs_number, upn, created_at) VALUES ",
                10,
                "",
            ),
            Deferred::Escalation => (
                "INSERT INTO escalations (id, trigger, subject, team_id, level, assignee_id, state, detail, raised_at, level_reached_at) VALUES ",
                10,
                "",
            ),
            Deferred::History => (
                "INSERT INTO escalation_history (escalation_id, at, what, level, assignee_id, reason, routed_from, by_staff_id, note) VALUES ",
                9,
                "",
            ),
            Deferred::Notification => {
                ("INSERT INTO notifications (staff_id, escalation_id, channel, body, created_at) VALUES ", 5, "")
            }
            Deferred::Delivery => (
                "INSERT INTO deliveries (idempotency_key, channel, staff_id, recipient, kind, escalation_id, case_id, referral_id, payload, created_at, due_at) VALUES ",
                11,
                "",
            ),
            Deferred::Timer => (
                "INSERT INTO timers (kind, subject, due_at, token, state, created_at, updated_at) VALUES ",
                7,
                // The partial unique index makes "create or move the outstanding timer" one upsert.
                " ON CONFLICT (kind, subject) WHERE state <> 'done'
                  DO UPDATE SET due_at = excluded.due_at, token = excluded.token, state = 'scheduled', updated_at = excluded.updated_at",
            ),
        }
    }
}

/// Rows waiting to be written, per table.
#[derive(Debug, Default)]
pub(crate) struct WriteBuffer {
    rows: [Vec<Vec<Param>>; 6],
    /// The outstanding timers (kind, subject) with an upsert waiting: one multi-row
    /// upsert may not touch the same row twice, so a second change flushes first.
    timer_keys: HashSet<(String, String)>,
}

impl WriteBuffer {
    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.iter().all(Vec::is_empty)
    }

    /// Whether rows wait for `table`.
    pub(crate) fn has(&self, table: Deferred) -> bool {
        !self.rows[table.index()].is_empty()
    }

    /// Adds a row (its values in the table's column order).
    pub(crate) fn push(&mut self, table: Deferred, row: Vec<Param>) {
        debug_assert_eq!(row.len(), table.shape().1, "{table:?} row has the wrong number of values");
        self.rows[table.index()].push(row);
    }

    /// Whether an upsert for this timer already waits.
    pub(crate) fn has_timer(&self, kind: &str, subject: &str) -> bool {
        self.timer_keys.contains(&(kind.to_string(), subject.to_string()))
    }

    /// Adds a timer upsert.
    pub(crate) fn push_timer(&mut self, kind: &str, subject: &str, row: Vec<Param>) {
        self.timer_keys.insert((kind.to_string(), subject.to_string()));
        self.push(Deferred::Timer, row);
    }

    /// The number of values waiting, over every table.
    fn values(&self) -> usize {
        ORDER.iter().map(|t| self.rows[t.index()].len() * t.shape().1).sum()
    }

    /// Takes the waiting rows of `tables` (all of them when `None`) as statements, in
    /// dependency order: each statement's SQL numbers its values from `$first`, and
    /// `continue_numbering` carries the count on from one statement to the next (for
    /// statements sent together, sharing one list of values).
    fn take_statements(
        &mut self,
        backend: Backend,
        tables: Option<&[Deferred]>,
        continue_numbering: bool,
    ) -> Vec<(String, Vec<Param>)> {
        let mut statements = Vec::new();
        let mut first = 1;
        for table in ORDER {
            if tables.is_some_and(|t| !t.contains(&table)) || self.rows[table.index()].is_empty() {
                continue;
            }
            let mut rows = std::mem::take(&mut self.rows[table.index()]).into_iter();
            if table == Deferred::Timer {
                self.timer_keys.clear();
            }
            let (head, cols, tail) = table.shape();
            let per_statement = (values_per_statement(backend) / cols).max(1);
            loop {
                let chunk: Vec<Vec<Param>> = rows.by_ref().take(per_statement).collect();
                if chunk.is_empty() {
                    break;
                }
                let mut sql = String::with_capacity(head.len() + chunk.len() * cols * 6 + tail.len());
                sql.push_str(head);
                let mut n = first;
                for i in 0..chunk.len() {
                    sql.push_str(if i > 0 { ", (" } else { "(" });
                    for c in 0..cols {
                        if c > 0 {
                            sql.push_str(", ");
                        }
                        sql.push('$');
                        sql.push_str(&n.to_string());
                        n += 1;
                    }
                    sql.push(')');
                }
                sql.push_str(tail);
                if continue_numbering {
                    first = n;
                }
                statements.push((sql, chunk.into_iter().flatten().collect()));
            }
        }
        statements
    }

    /// Writes the waiting rows of `tables` (all of them when `None`), in dependency order.
    pub(crate) async fn flush(
        &mut self,
        conn: &mut AnyConnection,
        backend: Backend,
        tables: Option<&[Deferred]>,
    ) -> Result<(), sqlx::Error> {
        for (sql, values) in self.take_statements(backend, tables, false) {
            bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values).execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Takes every waiting row, to be written by the statement that appends the
    /// transaction's audit entries ([`Riders`]), if they are few: at most one
    /// statement's worth of values. A command's last writes then cost no statement of
    /// their own; a batch's are flushed first, one round trip being little of its time.
    pub(crate) fn take_riders(&mut self, backend: Backend) -> Option<Riders> {
        let values = self.values();
        if values == 0 || values > values_per_statement(backend) {
            return None;
        }
        let (statements, values): (Vec<String>, Vec<Vec<Param>>) =
            self.take_statements(backend, None, true).into_iter().unzip();
        Some(Riders { statements, values: values.into_iter().flatten().collect() })
    }
}

/// Waiting rows sent with another statement: inserts numbering their values `$1`, `$2`…
/// on from one to the next, and the values. On SQLite they are sent as statements
/// before it in one script, on PostgreSQL as clauses of its `WITH`; either way one
/// exchange with the database.
#[derive(Debug, Default)]
pub(crate) struct Riders {
    /// The inserts, in dependency order.
    pub(crate) statements: Vec<String>,
    /// Their values, in order.
    pub(crate) values: Vec<Param>,
}

/// Binds deferred values onto a query, in order.
pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: Vec<Param>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for p in values {
        q = match p {
            Param::Int(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
        };
    }
    q
}
