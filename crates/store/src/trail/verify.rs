//! The verifiers: every entry, the hash chain, the tree and the signed checkpoints
//! recomputed from the stored log and checked against the stored head.

use super::copy::read_postgres_copy;
use super::read::{Run, read_sqlite_file, read_through_pool, sqlite_file};
use super::{RUN, checkpoints, corrupt, frontier_of};
use crate::{Store, StoreError};
use audit::{ChainError, VerifierKey};
use serde::Serialize;
use sqlx::Row;

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
