//! The trail as a Merkle tree (RFC 6962): its nodes, proofs, signed checkpoints and the
//! whole-log verification an auditor runs. The tree is kept by [`crate::Tx::commit`] as
//! entries are sealed; the encoding and the algorithms are the `audit` crate's.

use crate::buffer::{Riders, bind_all};
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError, Tx};
use audit::merkle::{self, Frontier, NodeKey};
use audit::{ChainError, Hash, SigningKey, VerifierKey};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt { table: "audit_log", detail: detail.into() }
}

/// The head moved although this transaction had read (and locked) it: another writer
/// broke the lock, which nothing should.
pub(crate) fn head_moved() -> StoreError {
    StoreError::Corrupt { table: "audit_head", detail: "the head moved while this transaction held it".into() }
}

/// Entries read and handed to the hashing thread at a time by a whole-log check.
const RUN: usize = 20_000;

fn parse(hex_text: &str) -> Result<Hash, StoreError> {
    audit::parse_hash(hex_text).ok_or_else(|| corrupt(format!("{hex_text:?} is not a 32-byte hex hash")))
}

/// The stored right edge of the tree (`audit_head.frontier`).
pub(crate) fn frontier_of(size: i64, text: &str) -> Result<Frontier, StoreError> {
    let size = u64::try_from(size).map_err(|_| corrupt("negative tree size"))?;
    let hashes = (0..text.len() / 64).map(|i| parse(&text[i * 64..(i + 1) * 64])).collect::<Result<Vec<_>, _>>()?;
    Frontier::from_nodes(size, hashes).map_err(|e| corrupt(format!("frontier: {e}")))
}

/// The text stored for a frontier: its hashes in hex, largest subtree first.
pub(crate) fn frontier_text(f: &Frontier) -> String {
    f.hashes().iter().map(hex::encode).collect()
}

/// The number of leaves in the tree, as a sequence number.
pub(crate) fn tree_size(f: &Frontier) -> i64 {
    i64::try_from(f.size()).unwrap_or(i64::MAX)
}

/// Appends a leaf; returns the hex of the parent nodes this completes (level 1 upward,
/// concatenated), as stored in the entry's row beside its leaf hash.
pub(crate) fn push_leaf(tree: &mut Frontier, leaf: Hash) -> String {
    let mut nodes = String::new();
    tree.push_each(leaf, |level, _, hash| {
        if level > 0 {
            nodes.push_str(&hex::encode(hash));
        }
    });
    nodes
}

/// Fills in the tree over the entries after `tree` up to `seq` (a log written before
/// the tree existed), inside the transaction that holds the head.
pub(crate) async fn catch_up(tx: &mut Tx, mut tree: Frontier, seq: i64) -> Result<Frontier, StoreError> {
    const BATCH: i64 = 5_000;
    while tree_size(&tree) < seq {
        let from = tree_size(&tree) + 1;
        let rows = sqlx::query("SELECT seq, entry FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
            .bind(from)
            .bind(BATCH)
            .fetch_all(tx.db().await?)
            .await?;
        if rows.is_empty() {
            return Err(corrupt(format!("audit entry {from} is missing")));
        }
        for r in rows {
            let at: i64 = r.try_get("seq")?;
            if at != tree_size(&tree) + 1 {
                return Err(corrupt(format!("audit entry {} is missing", tree_size(&tree) + 1)));
            }
            let entry: String = r.try_get("entry")?;
            let leaf = merkle::leaf_hash(entry.as_bytes());
            let nodes = push_leaf(&mut tree, leaf);
            sqlx::query("UPDATE audit_log SET leaf_hash = $2, nodes = $3 WHERE seq = $1")
                .bind(at)
                .bind(hex::encode(leaf))
                .bind(nodes)
                .execute(tx.db().await?)
                .await?;
        }
    }
    Ok(tree)
}

/// Where the trail ends: the last entry's sequence number and chain hash, and the tree's
/// right edge. The store remembers the end it last committed, so that the next append
/// need not read it first.
#[derive(Debug, Clone)]
pub(crate) struct TrailEnd {
    /// The last entry's sequence number (0 for an empty log).
    pub(crate) seq: i64,
    /// The last entry's chain hash.
    pub(crate) hash: Hash,
    /// The tree over every entry.
    pub(crate) tree: Frontier,
}

/// An audit entry recorded in a transaction, waiting for its place in the chain.
pub(crate) struct Unsealed {
    pub(crate) at: Timestamp,
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) subject: String,
    pub(crate) events: Box<serde_json::value::RawValue>,
}

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

/// The hashes of the stored nodes `keys`, in order, read in one query: node (L, i) is
/// completed by entry (i+1)·2^L and stored in its row.
async fn nodes(c: &mut AnyConnection, keys: &[NodeKey]) -> Result<Vec<Hash>, StoreError> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let row_of = |(level, idx): &NodeKey| -> Result<i64, StoreError> {
        idx.checked_add(1)
            .and_then(|n| n.checked_shl(*level))
            .and_then(|n| i64::try_from(n).ok())
            .ok_or_else(|| corrupt(format!("no node at level {level}, index {idx}")))
    };
    let seqs: Vec<i64> = keys.iter().map(row_of).collect::<Result<_, _>>()?;
    // The list is padded (repeating the last row) to a multiple of 32, so proofs of any
    // entry share a few statements the connection has prepared, instead of preparing
    // one for each length.
    let padded = seqs.len().next_multiple_of(32);
    let sql =
        format!("SELECT seq, leaf_hash, nodes FROM audit_log WHERE seq IN ({})", crate::load::placeholders(1, padded));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for k in 0..padded {
        q = q.bind(seqs[k.min(seqs.len() - 1)]);
    }
    let mut rows = std::collections::HashMap::with_capacity(keys.len());
    for r in q.fetch_all(c).await? {
        let leaf: Option<String> = r.try_get("leaf_hash")?;
        let nodes: Option<String> = r.try_get("nodes")?;
        rows.insert(r.try_get::<i64, _>("seq")?, (leaf.unwrap_or_default(), nodes.unwrap_or_default()));
    }
    keys.iter()
        .zip(&seqs)
        .map(|((level, idx), seq)| {
            let missing = || corrupt(format!("no node at level {level}, index {idx} (entry {seq})"));
            let (leaf, nodes) = rows.get(seq).ok_or_else(missing)?;
            let text = if *level == 0 {
                leaf.as_str()
            } else {
                let at = (*level as usize - 1) * 64;
                nodes.get(at..at + 64).ok_or_else(missing)?
            };
            parse(text)
        })
        .collect()
}

/// The number of entries in the log (the size of the tree) and its root now.
pub async fn tree_head(store: &Store) -> Result<(u64, Hash), StoreError> {
    let head = sqlx::query("SELECT tree_size, frontier FROM audit_head WHERE id = 1").fetch_one(store.pool()).await?;
    let tree = frontier_of(head.try_get("tree_size")?, &head.try_get::<String, _>("frontier")?)?;
    Ok((tree.size(), tree.root()))
}

/// Why a proof cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofRefused {
    /// The sizes or the entry asked for are not in the log.
    #[error("{0}")]
    OutOfRange(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An inclusion proof (RFC 6962 §2.1.1) for one entry, as `audit prove` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct InclusionProof {
    /// The entry's sequence number.
    pub seq: u64,
    /// Its leaf index (seq − 1).
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The entry's leaf hash, hex.
    pub leaf_hash: String,
    /// The root of that tree, hex.
    pub root: String,
    /// The proof's hashes, hex, in order.
    pub hashes: Vec<String>,
}

/// A consistency proof (RFC 6962 §2.1.2) between two sizes of the log.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyProof {
    /// The earlier size.
    pub old_size: u64,
    /// The later size.
    pub new_size: u64,
    /// The root at the earlier size, hex.
    pub old_root: String,
    /// The root at the later size, hex.
    pub new_root: String,
    /// The proof's hashes, hex, in order.
    pub hashes: Vec<String>,
}

async fn size_now(c: &mut AnyConnection) -> Result<u64, StoreError> {
    let n: i64 =
        sqlx::query("SELECT tree_size FROM audit_head WHERE id = 1").fetch_one(c).await?.try_get("tree_size")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The stored nodes for each list of keys, read in one query (a proof and the roots it
/// leads to, together), in the lists' order.
async fn nodes_of_each<const N: usize>(
    c: &mut AnyConnection,
    lists: [&[NodeKey]; N],
) -> Result<[Vec<Hash>; N], StoreError> {
    let all: Vec<NodeKey> = lists.iter().flat_map(|keys| keys.iter().copied()).collect();
    let mut hashes = nodes(c, &all).await?.into_iter();
    Ok(lists.map(|keys| hashes.by_ref().take(keys.len()).collect()))
}

fn root_of(size: u64, hashes: &[Hash]) -> Result<Hash, StoreError> {
    merkle::root_from(size, hashes).map_err(|e| corrupt(e.to_string()))
}

fn hexes(h: &[Hash]) -> Vec<String> {
    h.iter().map(hex::encode).collect()
}

/// The inclusion proof of entry `seq` in the tree of `size` entries (now, if `None`).
pub async fn inclusion_proof(store: &Store, seq: u64, size: Option<u64>) -> Result<InclusionProof, ProofRefused> {
    let mut c = store.pool().acquire().await.map_err(StoreError::from)?;
    let now = size_now(&mut c).await?;
    let size = size.unwrap_or(now);
    if size > now {
        return Err(ProofRefused::OutOfRange(format!("the log holds {now} entries, not {size}")));
    }
    if seq == 0 || seq > size {
        return Err(ProofRefused::OutOfRange(format!("entry {seq} is not in a log of {size} entries")));
    }
    let plan = merkle::inclusion_plan(seq - 1, size).map_err(|e| ProofRefused::OutOfRange(e.to_string()))?;
    let [hashes, leaf, root] =
        nodes_of_each(&mut c, [plan.keys(), &[(0, seq - 1)], &merkle::nodes_for_root(size)]).await?;
    let proof = plan.assemble(&hashes).map_err(|e| corrupt(e.to_string()))?;
    let leaf = leaf.first().ok_or_else(|| corrupt(format!("no leaf for entry {seq}")))?;
    Ok(InclusionProof {
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf_hash: hex::encode(leaf),
        root: hex::encode(root_of(size, &root)?),
        hashes: hexes(&proof),
    })
}

/// The consistency proof between the log at `old` entries and at `new` entries.
pub async fn consistency_proof(store: &Store, old: u64, new: u64) -> Result<ConsistencyProof, ProofRefused> {
    let mut c = store.pool().acquire().await.map_err(StoreError::from)?;
    let now = size_now(&mut c).await?;
    if new > now || old > new || old == 0 {
        return Err(ProofRefused::OutOfRange(format!(
            "need 0 < old ≤ new ≤ {now} (the log's size), not old {old} and new {new}"
        )));
    }
    let plan = merkle::consistency_plan(old, new).map_err(|e| ProofRefused::OutOfRange(e.to_string()))?;
    let [hashes, old_root, new_root] =
        nodes_of_each(&mut c, [plan.keys(), &merkle::nodes_for_root(old), &merkle::nodes_for_root(new)]).await?;
    let proof = plan.assemble(&hashes).map_err(|e| corrupt(e.to_string()))?;
    Ok(ConsistencyProof {
        old_size: old,
        new_size: new,
        old_root: hex::encode(root_of(old, &old_root)?),
        new_root: hex::encode(root_of(new, &new_root)?),
        hashes: hexes(&proof),
    })
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredCheckpoint {
    /// The tree size it signs.
    pub size: u64,
    /// The root it signs, hex.
    pub root: String,
    /// When it was signed.
    pub signed_at: Timestamp,
    /// The signing key's name.
    pub key_name: String,
    /// The whole signed text, as published.
    pub text: String,
}

fn checkpoint_from_row(r: &sqlx::any::AnyRow) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
        root: r.try_get("root")?,
        signed_at: from_micros(r.try_get("signed_at")?),
        key_name: r.try_get("key_name")?,
        text: r.try_get("body")?,
    })
}

/// The latest signed checkpoint, if any.
pub async fn latest_checkpoint(store: &Store) -> Result<Option<StoredCheckpoint>, StoreError> {
    sqlx::query("SELECT size, root, signed_at, key_name, body FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(checkpoint_from_row)
        .transpose()
}

/// Every stored checkpoint, smallest first.
pub async fn checkpoints(store: &Store) -> Result<Vec<StoredCheckpoint>, StoreError> {
    sqlx::query("SELECT size, root, signed_at, key_name, body FROM audit_checkpoints ORDER BY size")
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(checkpoint_from_row)
        .collect()
}

/// Signs the tree as it is now with `key` (named after the log's origin) and stores the
/// checkpoint, unless the latest already covers every entry. Returns the latest
/// checkpoint, and whether it was signed now.
pub async fn sign_checkpoint(
    store: &Store,
    key: &SigningKey,
    now: Timestamp,
) -> Result<(Option<StoredCheckpoint>, bool), StoreError> {
    let (size, root) = tree_head(store).await?;
    let latest = latest_checkpoint(store).await?;
    if size == 0 || latest.as_ref().is_some_and(|c| c.size >= size) {
        return Ok((latest, false));
    }
    let checkpoint = audit::Checkpoint { origin: key.name().to_string(), size, root, time: now };
    let signed =
        key.sign(&checkpoint).map_err(|e| StoreError::Corrupt { table: "audit_checkpoints", detail: e.to_string() })?;
    let text = signed.to_string();
    // Two servers signing the same size at once: the first stored is the one published.
    let inserted = sqlx::query(
        "INSERT INTO audit_checkpoints (size, root, signed_at, key_name, body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (size) DO NOTHING",
    )
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(hex::encode(root))
    .bind(to_micros(now))
    .bind(key.name().to_string())
    .bind(text)
    .execute(store.pool())
    .await?
    .rows_affected()
        > 0;
    Ok((latest_checkpoint(store).await?, inserted))
}

/// One entry as exported for an outside verifier: its canonical bytes in base64.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedEntry {
    /// Sequence number (leaf index + 1).
    pub seq: i64,
    /// The canonical entry bytes, standard base64.
    pub entry: String,
    /// The stored chain hash before it, hex.
    pub prev_hash: String,
    /// The stored chain hash, hex.
    pub hash: String,
}

/// Entries from `from` on (at most `limit`), in their canonical encoding.
pub async fn export(store: &Store, from: i64, limit: i64) -> Result<Vec<ExportedEntry>, StoreError> {
    use base64::Engine as _;
    let rows = sqlx::query("SELECT seq, entry, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
        .bind(from)
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ExportedEntry {
                seq: r.try_get("seq")?,
                entry: base64::engine::general_purpose::STANDARD.encode(r.try_get::<String, _>("entry")?.as_bytes()),
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}

/// A run of consecutive stored entries, in order: their canonical texts joined by
/// newlines (which canonical JSON never holds raw), and their stored previous and chain
/// hashes (hex, concatenated).
#[derive(Debug, Default)]
struct Run {
    entries: String,
    hashes: String,
    len: usize,
}

/// Stands for a stored hash of the wrong length, so that the hashes stay 64 characters
/// apart; it matches no hash.
const NOT_A_HASH: &str = "????????????????????????????????????????????????????????????????";

impl Run {
    /// Adds one stored entry and its stored hashes.
    fn push(&mut self, entry: &str, prev_hash: &str, hash: &str) {
        if self.len > 0 {
            self.entries.push('\n');
        }
        self.entries.push_str(entry);
        for hash in [prev_hash, hash] {
            // Anything but 64 characters cannot match a hash: kept in step as one.
            self.hashes.push_str(if hash.len() == 64 { hash } else { NOT_A_HASH });
        }
        self.len += 1;
    }
}

type Runs = tokio::sync::mpsc::Sender<Result<Run, StoreError>>;

/// Reads entries 1..=`upto` in runs of `run` entries with SQLite's own interface on a
/// thread of its own: through `sqlx`, each row costs more than hashing it does.
fn read_sqlite_file(path: std::path::PathBuf, upto: i64, run: usize, out: Runs) {
    let read = || -> Result<(), StoreError> {
        let failed = |e: rusqlite::Error| corrupt(format!("reading the trail from {}: {e}", path.display()));
        let db =
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(failed)?;
        let mut statement =
            db.prepare("SELECT entry, prev_hash, hash FROM audit_log WHERE seq <= ?1 ORDER BY seq").map_err(failed)?;
        let mut rows = statement.query([upto]).map_err(failed)?;
        let mut current = Run::default();
        while let Some(row) = rows.next().map_err(failed)? {
            let text = |i| row.get_ref(i).ok().and_then(|v| v.as_str().ok()).unwrap_or("");
            current.push(text(0), text(1), text(2));
            if current.len == run && out.blocking_send(Ok(std::mem::take(&mut current))).is_err() {
                return Ok(());
            }
        }
        if current.len > 0 {
            let _ = out.blocking_send(Ok(current));
        }
        Ok(())
    };
    if let Err(e) = read() {
        let _ = out.blocking_send(Err(e));
    }
}

/// Reads entries 1..=`upto` from PostgreSQL with `COPY … TO STDOUT (FORMAT binary)`: the
/// rows arrive as one stream of length-prefixed fields, with none of a query's per-row
/// decoding. A range of entries per `COPY` (an index range scan, not a sort of the whole
/// log), the ranges taken in turn by two connections so that one's server works while
/// the other's rows are parsed; they are passed on in order.
async fn read_postgres_copy(store: Store, upto: i64, run: usize, out: Runs) {
    use sqlx::ConnectOptions as _;
    let range = i64::try_from(run.saturating_mul(10)).unwrap_or(i64::MAX).clamp(1, 200_000);
    let ranges: Vec<(i64, i64)> = (0..)
        .map(|k| 1 + k * range)
        .take_while(|from| *from <= upto)
        .map(|from| (from, (from + range).min(upto + 1)))
        .collect();
    let options = match sqlx::postgres::PgConnectOptions::from_url(&store.pool().connect_options().database_url) {
        Ok(o) => match store.pg_schema() {
            Some(schema) => o.options([("search_path", schema)]),
            None => o,
        },
        Err(e) => {
            let _ = out.send(Err(e.into())).await;
            return;
        }
    };
    let mut streams = Vec::new();
    for turn in 0..2 {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let mine: Vec<(i64, i64)> = ranges.iter().skip(turn).step_by(2).copied().collect();
        tokio::spawn(copy_ranges(options.clone(), mine, run, tx));
        streams.push(rx);
    }
    for k in 0..ranges.len() {
        loop {
            let piece = streams[k % 2].recv().await;
            let run = match piece {
                Some(Ok(Some(run))) => Ok(run),
                Some(Ok(None)) => break,
                Some(Err(e)) => Err(e),
                None => Err(corrupt("reading the trail: a COPY stream stopped")),
            };
            let failed = run.is_err();
            if out.send(run).await.is_err() || failed {
                return;
            }
        }
    }
}

/// One connection's share of [`read_postgres_copy`]: each range as runs of `run` entries,
/// then `None`.
async fn copy_ranges(
    options: sqlx::postgres::PgConnectOptions,
    ranges: Vec<(i64, i64)>,
    run: usize,
    out: tokio::sync::mpsc::Sender<Result<Option<Run>, StoreError>>,
) {
    use futures_util::StreamExt as _;
    use sqlx::Connection as _;
    let read = async {
        let mut conn = sqlx::postgres::PgConnection::connect_with(&options).await?;
        for (from, to) in ranges {
            let sql = format!(
                "COPY (SELECT entry, prev_hash, hash FROM audit_log WHERE seq >= {from} AND seq < {to} ORDER BY seq) \
                 TO STDOUT (FORMAT binary)"
            );
            let mut current = Run::default();
            let mut fields = CopyFields::default();
            let mut stream = conn.copy_out_raw(&sql).await?;
            while let Some(chunk) = stream.next().await {
                fields.feed(&chunk?);
                while let Some([entry, prev_hash, hash]) = fields.next_row()? {
                    current.push(fields.text(&entry)?, fields.text(&prev_hash)?, fields.text(&hash)?);
                    if current.len == run && out.send(Ok(Some(std::mem::take(&mut current)))).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if (current.len > 0 && out.send(Ok(Some(current))).await.is_err()) || out.send(Ok(None)).await.is_err() {
                return Ok(());
            }
        }
        Ok::<(), StoreError>(())
    };
    if let Err(e) = read.await {
        let _ = out.send(Err(e)).await;
    }
}

/// Splits PostgreSQL's binary `COPY` format into rows of three text fields: after a
/// 19-byte header (and its extension), each row is a 16-bit field count, then per field a
/// 32-bit length and the bytes; a count of -1 ends the data.
#[derive(Default)]
struct CopyFields {
    buffer: Vec<u8>,
    at: usize,
    header_read: bool,
}

impl CopyFields {
    fn feed(&mut self, bytes: &[u8]) {
        if self.at > 0 && self.at == self.buffer.len() {
            self.buffer.clear();
            self.at = 0;
        } else if self.at > 1 << 20 {
            self.buffer.drain(..self.at);
            self.at = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let bytes = self.buffer.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    /// The next whole row, if the buffer holds one: where its three fields lie in it.
    fn next_row(&mut self) -> Result<Option<[std::ops::Range<usize>; 3]>, StoreError> {
        let bad = |what: &str| corrupt(format!("reading the trail with COPY: {what}"));
        let start = self.at;
        if !self.header_read {
            let Some(head) = self.take(19) else { return Ok(None) };
            if !head.starts_with(b"PGCOPY\n\xff\r\n\0") {
                return Err(bad("not binary COPY data"));
            }
            let extension = u32::from_be_bytes([head[15], head[16], head[17], head[18]]) as usize;
            if self.take(extension).is_none() {
                self.at = start;
                return Ok(None);
            }
            self.header_read = true;
            return self.next_row();
        }
        let Some(count) = self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]])) else { return Ok(None) };
        if count == -1 {
            return Ok(None);
        }
        if count != 3 {
            return Err(bad("a row without three fields"));
        }
        let mut row: [std::ops::Range<usize>; 3] = Default::default();
        for field in &mut row {
            let Some(len) = self.take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) else {
                self.at = start;
                return Ok(None);
            };
            // NULL (-1) reads as empty text, which no check accepts.
            let len = usize::try_from(len).unwrap_or(0);
            let from = self.at;
            if self.take(len).is_none() {
                self.at = start;
                return Ok(None);
            }
            *field = from..from + len;
        }
        Ok(Some(row))
    }

    /// A field of the last row read, as text.
    fn text(&self, field: &std::ops::Range<usize>) -> Result<&str, StoreError> {
        std::str::from_utf8(self.buffer.get(field.clone()).unwrap_or_default())
            .map_err(|_| corrupt("reading the trail with COPY: text that is not UTF-8"))
    }
}

/// Reads entries 1..=`upto` through the pool, a run per statement: for an in-memory
/// SQLite database, which no other connection can open.
async fn read_through_pool(store: Store, upto: i64, run: usize, out: Runs) {
    let step = i64::try_from(run).unwrap_or(i64::MAX);
    let mut from = 1;
    while from <= upto {
        let read = read_range(&store, from, (from + step).min(upto + 1)).await;
        let failed = read.is_err();
        if out.send(read).await.is_err() || failed {
            return;
        }
        from += step;
    }
}

/// Entries `from..to` as one run, read as one row (SQLite).
async fn read_range(store: &Store, from: i64, to: i64) -> Result<Run, StoreError> {
    let r = sqlx::query(
        "SELECT group_concat(entry, char(10) ORDER BY seq) AS e, group_concat(prev_hash || hash, '' ORDER BY seq) AS h,
                count(*) AS n
         FROM audit_log WHERE seq >= $1 AND seq < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(store.pool())
    .await?;
    Ok(Run {
        entries: r.try_get::<Option<String>, _>("e")?.unwrap_or_default(),
        hashes: r.try_get::<Option<String>, _>("h")?.unwrap_or_default(),
        len: usize::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
    })
}

/// The sequence number an entry's canonical bytes start with (`{"seq":N,`).
fn seq_of(entry: &str) -> Option<i64> {
    let rest = entry.strip_prefix("{\"seq\":")?;
    let end = rest.find(',')?;
    rest[..end].parse().ok()
}

/// What a whole-log verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The root of the tree over them, hex.
    pub root: String,
    /// Stored checkpoints whose signature and root were checked.
    pub checkpoints: usize,
    /// The size of the checkpoint the auditor brought, when they brought one.
    pub supplied: Option<u64>,
    /// The hash chain's last link, hex (the head's hash).
    pub chain: String,
}

/// Recomputes every leaf and the tree from the stored entries; checks the hash chain,
/// each stored checkpoint's signature (with `key`) and root, the stored tree head, and
/// the checkpoint an auditor brings (`supplied`, already read as text) against the log.
/// `Ok(Err(..))` names the first bad entry and what is wrong.
pub async fn verify(
    store: &Store,
    key: &VerifierKey,
    supplied: Option<&str>,
) -> Result<Result<Verified, ChainError>, StoreError> {
    verify_in_batches(store, key, supplied, RUN as i64).await
}

/// [`verify`], reading `batch` entries at a time (tests use small batches to cross
/// their boundaries).
pub async fn verify_in_batches(
    store: &Store,
    key: &VerifierKey,
    supplied: Option<&str>,
    batch: i64,
) -> Result<Result<Verified, ChainError>, StoreError> {
    let batch = usize::try_from(batch.max(1)).unwrap_or(1);
    let bad = |seq: i64, problem: String| Ok(Err(ChainError { seq, problem }));
    let supplied = match supplied.map(|text| audit::checkpoint::verify(text, key)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return bad(0, format!("the checkpoint supplied does not verify with {key}: {e}")),
    };
    // Checkpoints first, then the head: every checkpoint read is then within the head.
    let mut stored = Vec::new();
    for c in checkpoints(store).await? {
        match audit::checkpoint::verify(&c.text, key) {
            Ok(cp) if cp.size == c.size && hex::encode(cp.root) == c.root => stored.push(cp),
            Ok(_) => {
                return bad(
                    i64::try_from(c.size).unwrap_or(0),
                    "a stored checkpoint's text and columns disagree".into(),
                );
            }
            Err(e) => {
                return bad(
                    i64::try_from(c.size).unwrap_or(0),
                    format!("the stored checkpoint at size {} does not verify: {e}", c.size),
                );
            }
        }
    }
    let mut wanted: Vec<audit::Checkpoint> = stored.clone();
    wanted.extend(supplied.clone());
    wanted.sort_by_key(|c| c.size);
    Ok(check_entries(store, wanted, batch).await?.map(|v| Verified {
        checkpoints: stored.len(),
        supplied: supplied.map(|c| c.size),
        ..v
    }))
}

/// Recomputes every leaf, the tree and the hash chain from the stored entries and
/// checks them against the stored head, without the signed checkpoints (which need
/// their key): what tests ask after writing through the store.
pub async fn verify_entries(store: &Store) -> Result<Result<Verified, ChainError>, StoreError> {
    check_entries(store, Vec::new(), RUN).await
}

/// The entries against the stored head and against `wanted` (trusted checkpoints,
/// smallest first): the part of [`verify`] that reads the log.
async fn check_entries(
    store: &Store,
    wanted: Vec<audit::Checkpoint>,
    batch: usize,
) -> Result<Result<Verified, ChainError>, StoreError> {
    let bad = |seq: i64, problem: String| Ok(Err(ChainError { seq, problem }));
    // The head and the last stored entry in one statement, so one snapshot: entries
    // appended while this runs are left for the next check.
    let head = sqlx::query(
        "SELECT h.seq, h.hash, h.tree_size, h.frontier, (SELECT MAX(seq) FROM audit_log) AS last FROM audit_head h WHERE h.id = 1",
    )
    .fetch_one(store.pool())
    .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_chain: String = head.try_get("hash")?;
    let head_tree = frontier_of(head.try_get("tree_size")?, &head.try_get::<String, _>("frontier")?)?;
    let last: i64 = head.try_get::<Option<i64>, _>("last")?.unwrap_or(0);
    if last > head_seq {
        return bad(
            head_seq + 1,
            format!("the log holds entries up to {last} but its head says {head_seq}: the head was moved back"),
        );
    }

    // Reading, not hashing, is what limits a check of the whole log: the entries are read
    // on their own thread (or task) while this one hashes.
    let (out, runs) = tokio::sync::mpsc::channel(4);
    match sqlite_file(store) {
        Some(path) => {
            std::thread::spawn(move || read_sqlite_file(path, head_seq, batch, out));
        }
        None if store.backend() == crate::Backend::Postgres => {
            tokio::spawn(read_postgres_copy(store.clone(), head_seq, batch, out));
        }
        None => {
            tokio::spawn(read_through_pool(store.clone(), head_seq, batch, out));
        }
    }
    let hashed = tokio::task::spawn_blocking(move || hash_runs(runs, wanted))
        .await
        .map_err(|e| corrupt(format!("checking the trail: {e}")))??;
    let v = match hashed {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    if v.size() < u64::try_from(head_seq).unwrap_or(0) {
        let first = i64::try_from(v.size()).unwrap_or(0) + 1;
        return bad(first, format!("entry {first} is missing (the head says the log holds {head_seq})"));
    }
    if head_tree.size() != v.size() || head_tree.root() != v.root_at_current_size() {
        return bad(head_seq, "the stored tree head does not match the entries".into());
    }
    let chain = hex::encode(v.chain_head());
    if head_chain != chain {
        return bad(head_seq, "the stored head's chain hash does not match the entries".into());
    }
    Ok(Ok(Verified {
        entries: v.size(),
        root: hex::encode(v.root_at_current_size()),
        checkpoints: 0,
        supplied: None,
        chain,
    }))
}

/// The SQLite file behind `store`, when it is one another connection can open.
fn sqlite_file(store: &Store) -> Option<std::path::PathBuf> {
    if store.backend() != crate::Backend::Sqlite {
        return None;
    }
    let url = store.pool().connect_options().database_url.clone();
    let options = <sqlx::sqlite::SqliteConnectOptions as sqlx::ConnectOptions>::from_url(&url).ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty() && path.exists()).then(|| path.to_path_buf())
}

/// Hashes the runs in order: each entry must carry the next sequence number, chain onto
/// the one before, and every checkpoint in `wanted` (smallest first) must match the tree
/// at its size. `Ok(Err(..))` names the first bad entry; the checkpoints not reached
/// (beyond the entries) are reported too.
fn hash_runs(
    mut runs: tokio::sync::mpsc::Receiver<Result<Run, StoreError>>,
    wanted: Vec<audit::Checkpoint>,
) -> Result<Result<audit::LogVerifier, ChainError>, StoreError> {
    let bad = |seq: i64, problem: String| Ok(Err(ChainError { seq, problem }));
    let mut wanted = wanted.into_iter().peekable();
    let mut v = audit::LogVerifier::new();
    let mut expected: i64 = 1;
    while let Some(run) = runs.blocking_recv() {
        let run = run?;
        if run.len == 0 {
            continue;
        }
        for (k, entry) in run.entries.split('\n').enumerate() {
            let embedded = seq_of(entry);
            if embedded != Some(expected) {
                let problem = match embedded {
                    Some(n) if n > expected => format!("entry {expected} is missing (the next stored entry is {n})"),
                    _ => "its encoded sequence number does not match its position (moved or altered)".to_string(),
                };
                return bad(expected, problem);
            }
            let pair = run.hashes.get(k * 128..(k + 1) * 128).unwrap_or("");
            let (prev, hash) = pair.split_at(pair.len().min(64));
            if let Err(e) = v.push_entry(audit::EntryRef {
                seq: expected,
                entry: entry.as_bytes(),
                leaf_hash: None,
                prev_hash: prev,
                hash,
            }) {
                return Ok(Err(e));
            }
            while let Some(c) = wanted.next_if(|c| c.size == v.size()) {
                if let Err(e) = v.check_checkpoint(&c) {
                    return Ok(Err(e));
                }
            }
            expected += 1;
        }
    }
    if let Some(c) = wanted.next() {
        return bad(
            i64::try_from(v.size() + 1).unwrap_or(0),
            format!(
                "the log holds {} entries but a checkpoint signed at {} covers {}: entries were removed \
                 (the tail truncated, or an older backup restored)",
                v.size(),
                c.time,
                c.size
            ),
        );
    }
    Ok(Ok(v))
}

#[cfg(test)]
mod tests {
    use super::CopyFields;

    fn field(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&i32::try_from(text.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }

    /// Binary COPY data arriving in any pieces reads as the same rows.
    #[test]
    fn copy_rows_survive_any_split() {
        let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
        data.extend_from_slice(&0u32.to_be_bytes());
        data.extend_from_slice(&3u32.to_be_bytes());
        data.extend_from_slice(b"ext");
        let rows = [["{\"seq\":1}", "a", "b"], ["{\"seq\":2,\"x\":\"é\"}", "", "cc"]];
        for row in &rows {
            data.extend_from_slice(&3i16.to_be_bytes());
            for text in row {
                field(&mut data, text);
            }
        }
        data.extend_from_slice(&(-1i16).to_be_bytes());
        for piece in [1, 2, 5, 7, data.len()] {
            let mut fields = CopyFields::default();
            let mut got = Vec::new();
            for chunk in data.chunks(piece) {
                fields.feed(chunk);
                while let Some([a, b, c]) = fields.next_row().expect("valid data") {
                    got.push([a, b, c].map(|r| fields.text(&r).expect("text").to_string()));
                }
            }
            assert_eq!(got, rows.map(|r| r.map(String::from)), "pieces of {piece}");
        }
        let mut fields = CopyFields::default();
        fields.feed(b"PGCOPZ\n\xff\r\n\0\0\0\0\0\0\0\0\0");
        assert!(fields.next_row().is_err());
    }
}
