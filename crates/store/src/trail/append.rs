//! Sealing entries onto the chain and appending them: reading the end of the trail
//! (the head), and the one statement per engine that appends only after it.

use super::{
    TrailEnd, Unsealed, catch_up, corrupt, frontier_of, frontier_text, head_moved, parse, push_leaf, tree_size,
};
use crate::buffer::{Riders, bind_all};
use crate::time::to_micros;
use crate::{Store, StoreError, Tx};
use audit::merkle;
use sqlx::{AnyConnection, Row};

/// What SQLite's append trigger says when an entry does not follow the head (migration 0011).
const NOT_AFTER_HEAD: &str = "audit entry does not follow the head";

/// Reads the end of the trail inside `tx`, locking it on PostgreSQL until the transaction
/// ends (on SQLite the transaction already holds the write lock). A log from before the
/// tree has its tree built first.
pub(crate) async fn read_end(tx: &mut Tx) -> Result<TrailEnd, StoreError> {
    let sql = format!("SELECT seq, hash, tree_size, frontier FROM audit_head WHERE id = 1{}", tx.for_update());
    let head = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(tx.db().await?).await?;
    let hash = parse(&head.try_get::<String, _>("hash")?)?;
    let seq: i64 = head.try_get("seq")?;
    let mut tree = frontier_of(head.try_get("tree_size")?, &head.try_get::<String, _>("frontier")?)?;
    if tree_size(&tree) < seq {
        tree = catch_up(tx, tree, seq).await?;
        sqlx::query("UPDATE audit_head SET tree_size = $1, frontier = $2 WHERE id = 1")
            .bind(tree_size(&tree))
            .bind(frontier_text(&tree))
            .execute(tx.db().await?)
            .await?;
    }
    Ok(TrailEnd { seq, hash, tree })
}

/// One entry sealed onto the chain: the values of its `audit_log` row.
struct Sealed {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    entry: String,
    prev_hash: String,
    hash: String,
    leaf_hash: String,
    nodes: String,
    /// The tree's right edge after it, for the last entry of a statement.
    frontier: Option<String>,
}

/// Appends `entries` after `end` in one statement (or one per few hundred entries), each
/// hashed onto the one before, and moves the head. The statement writes only if the
/// trail still ends at `end`; otherwise (another process appended since `end` was
/// remembered) nothing is written and the answer is `None`.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    end: &TrailEnd,
    entries: &[Unsealed],
    mut riders: Option<Riders>,
) -> Result<Option<TrailEnd>, StoreError> {
    let per_statement = (crate::buffer::values_per_statement(backend) / SEALED_COLUMNS).max(1);
    let (mut seq, mut prev, mut tree) = (end.seq, end.hash, end.tree.clone());
    let mut rows = Vec::with_capacity(entries.len());
    for (k, e) in entries.iter().enumerate() {
        seq += 1;
        let at_text = e.at.to_string();
        let entry = audit::Envelope {
            seq,
            at: &at_text,
            actor: &e.actor,
            action: &e.action,
            subject: &e.subject,
            events: &e.events,
        }
        .encode()
        .map_err(|err| corrupt(err.to_string()))?;
        let hash = audit::chain_hash(&prev, &entry);
        let leaf = merkle::leaf_hash(&entry);
        let nodes = push_leaf(&mut tree, leaf);
        let last_of_statement = (k + 1) % per_statement == 0 || k + 1 == entries.len();
        rows.push(Sealed {
            seq,
            at: to_micros(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            entry: String::from_utf8(entry).map_err(|err| corrupt(err.to_string()))?,
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
            leaf_hash: hex::encode(leaf),
            nodes,
            frontier: last_of_statement.then(|| frontier_text(&tree)),
        });
        prev = hash;
    }
    let mut rows = rows.into_iter();
    for n in 0.. {
        let chunk: Vec<Sealed> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            break;
        }
        let riders = riders.take();
        let written = match backend {
            crate::Backend::Sqlite => append_sqlite(conn, chunk, riders).await?,
            crate::Backend::Postgres => append_postgres(conn, chunk, riders).await?,
        };
        if !written {
            if n == 0 {
                return Ok(None);
            }
            // The first statement moved the head under this transaction's lock.
            return Err(head_moved());
        }
    }
    Ok(Some(TrailEnd { seq, hash: prev, tree }))
}

/// The values of a sealed entry's `audit_log` row, and the tree's right edge after it.
const SEALED_COLUMNS: usize = 11;

/// `($first, …), ($first + SEALED_COLUMNS, …), …`: a row of placeholders per entry.
fn rows_of_placeholders(first: usize, rows: usize) -> String {
    (0..rows)
        .map(|k| format!("({})", crate::load::placeholders(first + k * SEALED_COLUMNS, SEALED_COLUMNS)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds each entry's row values and the tree's edge after it, in `SEALED_COLUMNS` order.
fn bind_rows<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    rows: Vec<Sealed>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for r in rows {
        q = q
            .bind(r.seq)
            .bind(r.at)
            .bind(r.actor)
            .bind(r.action)
            .bind(r.subject)
            .bind(r.entry)
            .bind(r.prev_hash)
            .bind(r.hash)
            .bind(r.leaf_hash)
            .bind(r.nodes)
            .bind(r.frontier);
    }
    q
}

/// Appends `rows`, after the `riders`' inserts in the same script (one exchange with
/// SQLite's thread). A refusal leaves the riders written: only the append is refused.
async fn append_sqlite(
    conn: &mut AnyConnection,
    rows: Vec<Sealed>,
    riders: Option<Riders>,
) -> Result<bool, StoreError> {
    let Riders { statements, values } = riders.unwrap_or_default();
    let mut sql = String::new();
    for s in &statements {
        sql.push_str(s);
        sql.push_str(";\n");
    }
    sql.push_str(&format!(
        "INSERT INTO audit_append (seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes, frontier)
         VALUES {}",
        rows_of_placeholders(values.len() + 1, rows.len())
    ));
    let q = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values);
    match bind_rows(q, rows).execute(conn).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.message().contains(NOT_AFTER_HEAD) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Appends `rows` in one statement that also writes the `riders` (as clauses of its
/// `WITH`, which run whether or not the head moves). Returns whether the head moved.
async fn append_postgres(
    conn: &mut AnyConnection,
    rows: Vec<Sealed>,
    riders: Option<Riders>,
) -> Result<bool, StoreError> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(true);
    };
    let Riders { statements, values } = riders.unwrap_or_default();
    let mut with = String::new();
    for (k, s) in statements.iter().enumerate() {
        with.push_str(&format!("rider{k} AS ({s}), "));
    }
    // The head's five values follow the riders', then each entry's row.
    let at = values.len();
    let (seq, hash, frontier, was_seq, was_hash) = (at + 1, at + 2, at + 3, at + 4, at + 5);
    // The head moves only if it is where this transaction believes (with the tree up to
    // date), and the update's row lock holds it until commit; the entries are inserted
    // only if it moved. Each entry's edge (`frontier`) is bound but only the last's used.
    let sql = format!(
        "WITH {with}head AS (
             UPDATE audit_head SET seq = ${seq}, hash = ${hash}, tree_size = ${seq}, frontier = ${frontier}
             WHERE id = 1 AND seq = ${was_seq} AND hash = ${was_hash} AND tree_size = ${was_seq} RETURNING id)
         INSERT INTO audit_log (seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes)
         SELECT e.seq, e.at, e.actor, e.action, e.subject, e.entry, e.prev_hash, e.hash, e.leaf_hash, e.nodes
         FROM head, (VALUES {}) AS e (seq, at, actor, action, subject, entry, prev_hash, hash, leaf_hash, nodes, frontier)",
        rows_of_placeholders(at + 6, rows.len())
    );
    let n = rows.len() as u64;
    let q = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values)
        .bind(last.seq)
        .bind(last.hash.clone())
        .bind(last.frontier.clone().unwrap_or_default())
        .bind(first.seq - 1)
        .bind(first.prev_hash.clone());
    Ok(bind_rows(q, rows).execute(conn).await?.rows_affected() == n)
}

impl Store {
    /// Builds the Merkle tree over a log written before it existed; nothing to do for a
    /// log already up to date. Run as the store opens.
    pub async fn bring_trail_up_to_date(&self) -> Result<(), StoreError> {
        let head = sqlx::query("SELECT seq, tree_size FROM audit_head WHERE id = 1").fetch_one(self.pool()).await?;
        if head.try_get::<i64, _>("seq")? == head.try_get::<i64, _>("tree_size")? {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        read_end(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
