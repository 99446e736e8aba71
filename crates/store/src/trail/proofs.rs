//! Inclusion and consistency proofs (RFC 6962) read from the stored nodes, and the
//! entries exported for an outside verifier.

use super::{corrupt, parse};
use crate::{Store, StoreError};
use audit::Hash;
use audit::merkle::{self, NodeKey};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    /// The entry's sequence number.
    pub seq: u64,
    /// Its leaf index (seq − 1).
    pub leaf_index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The entry's leaf hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub leaf_hash: String,
    /// The root of that tree, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub root: String,
    /// The proof's hashes, hex, in order.
    pub hashes: Vec<String>,
}

/// A consistency proof (RFC 6962 §2.1.2) between two sizes of the log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    /// The earlier size.
    pub old_size: u64,
    /// The later size.
    pub new_size: u64,
    /// The root at the earlier size, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub old_root: String,
    /// The root at the later size, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
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

/// One entry as exported for an outside verifier: its canonical bytes in base64.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportedEntry {
    /// Sequence number (leaf index + 1).
    pub seq: i64,
    /// The canonical entry bytes, standard base64.
    #[schema(content_encoding = "base64")]
    pub entry: String,
    /// The stored chain hash before it, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub prev_hash: String,
    /// The stored chain hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
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
