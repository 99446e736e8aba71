//! The trail as a Merkle tree (RFC 6962): its nodes, proofs, signed checkpoints and the
//! whole-log verification an auditor runs. The tree is kept by [`crate::Tx::commit`] as
//! entries are sealed; the encoding and the algorithms are the `audit` crate's.
//!
//! This file holds the types and helpers the others share. `append` seals and appends entries;
//! `proofs` gives inclusion and consistency proofs and exports entries; `checkpoints`
//! signs and keeps tree heads; `verify` checks the whole log, reading it in runs (`read`,
//! or `copy` on PostgreSQL).

mod append;
mod checkpoints;
mod copy;
mod proofs;
mod read;
mod verify;

pub(crate) use append::{append, read_end};
pub use checkpoints::{StoredCheckpoint, checkpoints, latest_checkpoint, sign_checkpoint, tree_head};
pub use proofs::{
    ConsistencyProof, ExportedEntry, InclusionProof, ProofRefused, consistency_proof, export, inclusion_proof,
};
pub use verify::{Verified, verify, verify_entries, verify_in_batches};

use crate::{StoreError, Tx};
use audit::Hash;
use audit::merkle::{self, Frontier};
use jiff::Timestamp;
use sqlx::Row;

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
