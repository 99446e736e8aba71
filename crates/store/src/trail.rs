//! The trail as a Merkle tree (RFC 6962): its nodes, proofs, signed checkpoints and the
//! whole-log verification an auditor runs. The tree is kept by [`crate::Tx::commit`] as
//! entries are sealed; the encoding and the algorithms are the `audit` crate's.

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

impl Store {
    /// Builds the Merkle tree over a log written before it existed; nothing to do for a
    /// log already up to date. Run as the store opens.
    pub async fn bring_trail_up_to_date(&self) -> Result<(), StoreError> {
        let head = sqlx::query("SELECT seq, tree_size FROM audit_head WHERE id = 1").fetch_one(self.pool()).await?;
        if head.try_get::<i64, _>("seq")? == head.try_get::<i64, _>("tree_size")? {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        let sql = format!("SELECT seq, tree_size, frontier FROM audit_head WHERE id = 1{}", tx.for_update());
        let head = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(tx.db().await?).await?;
        let seq: i64 = head.try_get("seq")?;
        let tree = frontier_of(head.try_get("tree_size")?, &head.try_get::<String, _>("frontier")?)?;
        let tree = catch_up(&mut tx, tree, seq).await?;
        tx.db().await?;
        sqlx::query("UPDATE audit_head SET tree_size = $1, frontier = $2 WHERE id = 1")
            .bind(tree_size(&tree))
            .bind(frontier_text(&tree))
            .execute(tx.db().await?)
            .await?;
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
    let list: Vec<String> = (1..=seqs.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT seq, leaf_hash, nodes FROM audit_log WHERE seq IN ({})", list.join(", "));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for s in &seqs {
        q = q.bind(*s);
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

async fn root_in(c: &mut AnyConnection, size: u64) -> Result<Hash, StoreError> {
    let keys = merkle::nodes_for_root(size);
    let hashes = nodes(c, &keys).await?;
    merkle::root_from(size, &hashes).map_err(|e| corrupt(e.to_string()))
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
    let hashes = nodes(&mut c, plan.keys()).await?;
    let proof = plan.assemble(&hashes).map_err(|e| corrupt(e.to_string()))?;
    let leaf = nodes(&mut c, &[(0, seq - 1)]).await?;
    let root = root_in(&mut c, size).await?;
    Ok(InclusionProof {
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf_hash: hex::encode(leaf[0]),
        root: hex::encode(root),
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
    let hashes = nodes(&mut c, plan.keys()).await?;
    let proof = plan.assemble(&hashes).map_err(|e| corrupt(e.to_string()))?;
    Ok(ConsistencyProof {
        old_size: old,
        new_size: new,
        old_root: hex::encode(root_in(&mut c, old).await?),
        new_root: hex::encode(root_in(&mut c, new).await?),
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

/// Entries `from..from + n` as one text (joined by newlines) and their stored previous
/// and chain hashes (hex, concatenated), in order.
async fn read_batch(store: &Store, from: i64, n: i64) -> Result<(String, String), StoreError> {
    let sql = match store.backend() {
        crate::Backend::Sqlite => {
            "SELECT group_concat(entry, char(10) ORDER BY seq) AS e, group_concat(prev_hash || hash, '' ORDER BY seq) AS h
             FROM audit_log WHERE seq >= $1 AND seq < $2"
        }
        crate::Backend::Postgres => {
            "SELECT string_agg(entry, E'\\n' ORDER BY seq) AS e, string_agg(prev_hash || hash, '' ORDER BY seq) AS h
             FROM audit_log WHERE seq >= $1 AND seq < $2"
        }
    };
    let r = sqlx::query(sql).bind(from).bind(from + n).fetch_one(store.pool()).await?;
    Ok((
        r.try_get::<Option<String>, _>("e")?.unwrap_or_default(),
        r.try_get::<Option<String>, _>("h")?.unwrap_or_default(),
    ))
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
    verify_in_batches(store, key, supplied, 20_000).await
}

/// [`verify`], reading `batch` entries per query (tests use small batches to cross
/// their boundaries).
pub async fn verify_in_batches(
    store: &Store,
    key: &VerifierKey,
    supplied: Option<&str>,
    batch: i64,
) -> Result<Result<Verified, ChainError>, StoreError> {
    const READ_AHEAD: usize = 2;
    let batch = batch.max(1);
    let bad = |seq: i64, problem: String| Ok(Err(ChainError { seq, problem }));
    let supplied = match supplied.map(|text| audit::checkpoint::verify(text, key)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return bad(0, format!("the checkpoint supplied does not verify with {key}: {e}")),
    };
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
    let mut wanted = wanted.into_iter().peekable();
    let mut v = audit::LogVerifier::new();
    let last: Option<i64> =
        sqlx::query("SELECT MAX(seq) AS m FROM audit_log").fetch_one(store.pool()).await?.try_get("m")?;
    let last = last.unwrap_or(0);
    // Batches are read as one row each (the entries joined by newlines, which canonical
    // JSON never holds raw), two ahead of the one being hashed and on their own
    // connections: reading, not hashing, is what limits a check of the whole log.
    let fetch = |from: i64| {
        let store = store.clone();
        (from, tokio::spawn(async move { read_batch(&store, from, batch).await }))
    };
    let mut ahead = std::collections::VecDeque::new();
    let mut next_from = 1;
    while ahead.len() < READ_AHEAD && next_from <= last {
        ahead.push_back(fetch(next_from));
        next_from += batch;
    }
    while let Some((from, pending)) = ahead.pop_front() {
        let (entries, hashes) = pending.await.map_err(|e| corrupt(format!("reading the trail: {e}")))??;
        if next_from <= last {
            ahead.push_back(fetch(next_from));
            next_from += batch;
        }
        let mut expected = from;
        for (k, entry) in entries.split('\n').enumerate().filter(|(_, e)| !e.is_empty()) {
            let embedded = seq_of(entry);
            if embedded != Some(expected) {
                let problem = match embedded {
                    Some(n) if n > expected => format!("entry {expected} is missing (the next stored entry is {n})"),
                    _ => "its encoded sequence number does not match its position (moved or altered)".to_string(),
                };
                return bad(expected, problem);
            }
            let pair = hashes.get(k * 128..(k + 1) * 128).unwrap_or("");
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
        if expected < (from + batch).min(last + 1) {
            return bad(expected, format!("entry {expected} is missing"));
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
    let (size, root) = tree_head(store).await?;
    if size != v.size() || root != v.root_at_current_size() {
        return bad(
            i64::try_from(size.min(v.size()) + 1).unwrap_or(0),
            "the stored tree head does not match the entries".into(),
        );
    }
    Ok(Ok(Verified {
        entries: v.size(),
        root: hex::encode(v.root_at_current_size()),
        checkpoints: stored.len(),
        supplied: supplied.map(|c| c.size),
    }))
}
