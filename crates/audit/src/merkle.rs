//! The Merkle tree over the log's entries: RFC 6962 §2.1 (as restated in RFC 9162 §2.1).
//!
//! Leaves are entries' canonical bytes, hashed as `SHA-256(0x00 ‖ entry)`; interior nodes
//! are `SHA-256(0x01 ‖ left ‖ right)`; a tree of `n > 1` leaves splits at the largest power
//! of two smaller than `n`. The distinct prefixes keep a leaf from ever passing for a node.
//!
//! Storage model: a database-backed log stores only *perfect* subtrees, addressed
//! `(level, index)`: the hash of the complete subtree over leaves
//! `[index·2^level, (index+1)·2^level)`; level 0 holds the leaf hashes. Such a node never
//! changes once its last leaf is appended, so it can be written once and read forever. Any
//! other subtree the RFC needs (only ever one on the right edge of a tree) is the fold of
//! at most log2(n) perfect ones. Proofs are therefore made in three steps: work out the
//! keys to read ([`inclusion_plan`], [`consistency_plan`], [`nodes_for_root`]), read them
//! all at once (one SQL query), then assemble ([`ProofPlan::assemble`], [`root_from`]).
//! [`inclusion_proof`] and [`consistency_proof`] do all three over a [`Nodes`] store; an
//! async store can use the plans directly.

use sha2::{Digest, Sha256};

use crate::Hash;

/// The address of a perfect subtree: `(level, index)` covers leaves
/// `[index·2^level, (index+1)·2^level)`.
pub type NodeKey = (u32, u64);

/// The leaf hash of an entry: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One 65-byte buffer is a single update: measurably cheaper than three.
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The largest power of two smaller than `n`; `n` must be at least 2.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The Merkle tree hash (MTH) of a list of leaf hashes, straight from the RFC's definition.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            // usize → u64 is lossless on every supported target.
            let k = split(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Appends the perfect subtrees that make up the MTH subtree over `[begin, end)`, left to
/// right. Every subtree the RFC recursion produces is either perfect or lies on the right
/// edge with `begin` aligned to a power of two at least `end - begin`, so the binary
/// decomposition of its length, taken from `begin`, lands on aligned (stored) nodes.
fn decompose(begin: u64, end: u64, out: &mut Vec<NodeKey>) {
    let mut pos = begin;
    let mut rest = end - begin;
    while rest > 0 {
        let level = 63 - rest.leading_zeros();
        debug_assert_eq!(pos % (1 << level), 0, "unaligned subtree [{begin}, {end})");
        out.push((level, pos >> level));
        pos += 1 << level;
        rest -= 1 << level;
    }
}

/// The perfect subtrees whose hashes make up the root of a tree of `size` leaves, left to
/// right (largest first): one for each bit set in `size`.
pub fn nodes_for_root(size: u64) -> Vec<NodeKey> {
    let mut out = Vec::with_capacity(size.count_ones() as usize);
    decompose(0, size, &mut out);
    out
}

/// Folds hashes of adjacent perfect subtrees, left to right, into the hash of the subtree
/// they cover: right to left, as the RFC's recursion combines them.
fn fold(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The number of node hashes given does not match the number of nodes asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} node hashes, got {got}")]
pub struct NodeCountError {
    /// How many were needed.
    pub expected: usize,
    /// How many were given.
    pub got: usize,
}

/// The root of a tree of `size` leaves from the hashes of [`nodes_for_root`]`(size)`.
pub fn root_from(size: u64, hashes: &[Hash]) -> Result<Hash, NodeCountError> {
    let expected = size.count_ones() as usize;
    if hashes.len() != expected {
        return Err(NodeCountError { expected, got: hashes.len() });
    }
    Ok(fold(hashes).unwrap_or_else(empty_root))
}

/// A proof asked for that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// Inclusion of a leaf the tree does not have.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// Consistency from a larger tree to a smaller one.
    #[error("tree size {old} is larger than tree size {new}")]
    SizesOutOfOrder {
        /// The older (supposedly smaller) size.
        old: u64,
        /// The newer size.
        new: u64,
    },
}

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E> {
    /// The proof asked for does not exist.
    #[error(transparent)]
    Range(#[from] RangeError),
    /// The node store answered with the wrong number of hashes.
    #[error("the node store answered wrongly: {0}")]
    NodeCount(#[from] NodeCountError),
    /// The node store failed.
    #[error("reading tree nodes: {0}")]
    Nodes(#[source] E),
}

/// Which stored nodes a proof needs and how to assemble it from them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProofPlan {
    /// Every node to read, in the order [`ProofPlan::assemble`] wants their hashes.
    keys: Vec<NodeKey>,
    /// For each proof hash in order, how many consecutive `keys` fold into it.
    parts: Vec<u8>,
}

impl ProofPlan {
    /// Builds the plan for a proof whose hashes are the MTH subtrees over `ranges`, in order.
    fn for_ranges(ranges: &[(u64, u64)]) -> ProofPlan {
        let mut plan =
            ProofPlan { keys: Vec::with_capacity(2 * ranges.len()), parts: Vec::with_capacity(ranges.len()) };
        for &(begin, end) in ranges {
            let before = plan.keys.len();
            decompose(begin, end, &mut plan.keys);
            // At most 64 perfect subtrees make up any range of a u64-sized tree.
            plan.parts.push((plan.keys.len() - before) as u8);
        }
        plan
    }

    /// The nodes to read, in the order their hashes must be given to [`ProofPlan::assemble`].
    pub fn keys(&self) -> &[NodeKey] {
        &self.keys
    }

    /// The number of hashes in the proof.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether the proof is empty (nothing to read).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The proof, from the hashes of [`ProofPlan::keys`] in the same order.
    pub fn assemble(&self, hashes: &[Hash]) -> Result<Vec<Hash>, NodeCountError> {
        if hashes.len() != self.keys.len() {
            return Err(NodeCountError { expected: self.keys.len(), got: hashes.len() });
        }
        let mut proof = Vec::with_capacity(self.parts.len());
        let mut at = 0;
        for &n in &self.parts {
            let n = usize::from(n);
            // Every range is non-empty, so each part folds at least one hash.
            if let Some(h) = fold(&hashes[at..at + n]) {
                proof.push(h);
            }
            at += n;
        }
        Ok(proof)
    }
}

/// The plan for the inclusion proof of leaf `index` in the tree of `size` leaves
/// (RFC 6962 §2.1.1 `PATH(index, D[size])`).
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, RangeError> {
    if index >= size {
        return Err(RangeError::IndexOutOfRange { index, size });
    }
    // PATH(m, D[lo:hi]) recurses into the half holding the leaf and appends the other
    // half's MTH: walk down from the root, then reverse to list the path bottom up.
    let mut ranges = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
        }
    }
    ranges.reverse();
    Ok(ProofPlan::for_ranges(&ranges))
}

/// The plan for the consistency proof from the tree of `old` leaves to the tree of `new`
/// leaves (RFC 6962 §2.1.2 `PROOF(old, D[new])`); empty when `old` is 0 or equals `new`.
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, RangeError> {
    if old > new {
        return Err(RangeError::SizesOutOfOrder { old, new });
    }
    if old == 0 || old == new {
        return Ok(ProofPlan::default());
    }
    // SUBPROOF(m, D[lo:hi], b), with m = old - lo, unrolled the same way as PATH.
    let mut ranges = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0, new);
    let mut whole_old_tree = true; // the RFC's `b`
    loop {
        let n = hi - lo;
        let m = old - lo;
        if m == n {
            if !whole_old_tree {
                ranges.push((lo, hi));
            }
            break;
        }
        let k = split(n);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
            whole_old_tree = false;
        }
    }
    ranges.reverse();
    Ok(ProofPlan::for_ranges(&ranges))
}

/// A store of perfect-subtree hashes (see the module docs).
pub trait Nodes {
    /// What can go wrong reading the store.
    type Error;

    /// The hashes of the `wanted` nodes, in the same order. Batched so that a database
    /// store answers a whole proof with one query.
    fn get(&self, wanted: &[NodeKey]) -> Result<Vec<Hash>, Self::Error>;
}

/// Reads a plan's nodes with a single `get`, skipping the store when nothing is needed.
fn read_plan<N: Nodes>(plan: &ProofPlan, nodes: &N) -> Result<Vec<Hash>, ProofError<N::Error>> {
    if plan.keys.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = nodes.get(&plan.keys).map_err(ProofError::Nodes)?;
    Ok(plan.assemble(&hashes)?)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, with one node read.
pub fn inclusion_proof<N: Nodes>(index: u64, size: u64, nodes: &N) -> Result<Vec<Hash>, ProofError<N::Error>> {
    read_plan(&inclusion_plan(index, size)?, nodes)
}

/// The consistency proof from the tree of `old` leaves to that of `new`, with one node read.
pub fn consistency_proof<N: Nodes>(old: u64, new: u64, nodes: &N) -> Result<Vec<Hash>, ProofError<N::Error>> {
    read_plan(&consistency_plan(old, new)?, nodes)
}

/// The root of the tree of `size` leaves, with one node read.
pub fn root_at<N: Nodes>(size: u64, nodes: &N) -> Result<Hash, ProofError<N::Error>> {
    let keys = nodes_for_root(size);
    if keys.is_empty() {
        return Ok(empty_root());
    }
    let hashes = nodes.get(&keys).map_err(ProofError::Nodes)?;
    Ok(root_from(size, &hashes)?)
}

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The leaf index is not in the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("tree size {old} is larger than tree size {new}")]
    SizesOutOfOrder {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// The proof has too many or too few hashes for the tree sizes.
    #[error("the proof has the wrong number of hashes ({len}) for these tree sizes")]
    WrongLength {
        /// How many hashes the proof has.
        len: usize,
    },
    /// The proof does not lead to the root.
    #[error("the proof does not lead to the tree's root")]
    RootMismatch,
    /// The consistency proof does not lead to the old root.
    #[error("the proof does not lead to the old tree's root")]
    OldRootMismatch,
    /// The consistency proof does not lead to the new root.
    #[error("the proof does not lead to the new tree's root")]
    NewRootMismatch,
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with `root`
/// (RFC 9162 §2.1.3.2, step by step).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), VerifyError> {
    let wrong_length = VerifyError::WrongLength { len: proof.len() };
    // 1. leaf_index must be smaller than tree_size.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // 2. fn = leaf_index, sn = tree_size - 1.
    let (mut fnode, mut snode) = (index, size - 1);
    // 3. r = hash.
    let mut r = *leaf;
    // 4. For each p in the inclusion path:
    for p in proof {
        // a. sn == 0 means the path is longer than the tree is high.
        if snode == 0 {
            return Err(wrong_length);
        }
        // b. A left sibling when fn is a right child, or when fn is the last node of its
        //    level (then it has no right sibling and climbs until it is a right child).
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // c.
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. sn must be 0 (the path reached the root) and r must be the root.
    if snode != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with `old_root` is a prefix of the tree of
/// `new_size` leaves with `new_root` (RFC 9162 §2.1.4.2, step by step).
///
/// The RFC's algorithm is for `0 < old_size < new_size`; the other cases are settled as
/// the proof generator defines them: equal sizes need equal roots and an empty proof, and
/// the empty tree (whose root must be `SHA-256("")`) is a prefix of every tree, with an
/// empty proof.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    let wrong_length = VerifyError::WrongLength { len: proof.len() };
    if old_size > new_size {
        return Err(VerifyError::SizesOutOfOrder { old: old_size, new: new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(wrong_length);
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(VerifyError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(VerifyError::NewRootMismatch);
        }
        return Ok(());
    }
    // 1. An empty path proves nothing.
    let Some((first, rest)) = proof.split_first() else {
        return Err(wrong_length);
    };
    // 2. When first is a power of two, the old tree is a node of the new one and the
    //    proof leaves it out: prepend first_hash. (Done without copying the proof.)
    let (start, path): (&Hash, &[Hash]) = if old_size.is_power_of_two() { (old_root, proof) } else { (first, rest) };
    // 3.
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    // 4. Climb past the levels where the old tree's last node is a right child.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (*start, *start);
    // 6. For each subsequent value c:
    for c in path {
        // a.
        if snode == 0 {
            return Err(wrong_length);
        }
        // b.
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // c.
        fnode >>= 1;
        snode >>= 1;
    }
    // 7.
    if snode != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

/// The right edge of a tree being appended to (a "compact range" over `[0, size)`): the
/// hashes of the perfect subtrees of [`nodes_for_root`]`(size)`, at most 64 of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Largest subtree first, one per bit set in `size`.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier { size: 0, hashes: Vec::with_capacity(64) }
    }

    /// Restores a frontier from the hashes of [`nodes_for_root`]`(size)`, as stored.
    pub fn from_nodes(size: u64, hashes: Vec<Hash>) -> Result<Frontier, NodeCountError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(NodeCountError { expected, got: hashes.len() });
        }
        let mut hashes = hashes;
        // Room for the largest possible frontier, so appends never reallocate.
        hashes.reserve(64usize.saturating_sub(hashes.len()));
        Ok(Frontier { size, hashes })
    }

    /// The number of leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hashes of [`nodes_for_root`]`(self.size())`, in that order.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The root of the tree so far.
    pub fn root(&self) -> Hash {
        fold(&self.hashes).unwrap_or_else(empty_root)
    }

    /// Appends a leaf hash and returns every perfect node this completes, the leaf first
    /// and then each parent up the tree, as `(level, index, hash)`, for a store to insert.
    pub fn push(&mut self, leaf: Hash) -> Vec<(u32, u64, Hash)> {
        let mut done = Vec::with_capacity(1 + self.size.trailing_ones() as usize);
        self.push_each(leaf, |level, index, hash| done.push((level, index, *hash)));
        done
    }

    /// Appends a leaf hash, calling `completed(level, index, hash)` for every perfect node
    /// this completes (as [`Frontier::push`] returns them), without allocating.
    pub fn push_each(&mut self, leaf: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        // The new leaf completes one node per trailing 1 bit of the old size: each of
        // those right-edge subtrees gains a right sibling of equal size and merges.
        let merges = self.size.trailing_ones() as usize;
        let keep = self.hashes.len().saturating_sub(merges);
        let (mut level, mut index, mut hash) = (0u32, self.size, leaf);
        completed(level, index, &hash);
        for left in self.hashes.drain(keep..).rev() {
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            completed(level, index, &hash);
        }
        self.hashes.push(hash);
        self.size += 1;
    }
}

/// A stored node that is not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no tree node at level {level}, index {index}")]
pub struct MissingNode {
    /// Its level.
    pub level: u32,
    /// Its index in the level.
    pub index: u64,
}

/// Every perfect node of a tree, in memory, by level: for tests, the verifier and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct MemoryNodes {
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryNodes {
    /// An empty tree.
    pub fn new() -> MemoryNodes {
        MemoryNodes { levels: Vec::new(), frontier: Frontier::new() }
    }

    /// An empty tree with room for `leaves` leaves (about `2·leaves` hashes in all).
    pub fn with_capacity(leaves: u64) -> MemoryNodes {
        let mut levels = Vec::new();
        let mut n = leaves;
        while n > 0 {
            levels.push(Vec::with_capacity(usize::try_from(n).unwrap_or(usize::MAX)));
            n >>= 1;
        }
        MemoryNodes { levels, frontier: Frontier::new() }
    }

    /// The tree over these leaf hashes.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> MemoryNodes {
        let mut nodes = MemoryNodes::new();
        for leaf in leaves {
            nodes.push(leaf);
        }
        nodes
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.frontier.push_each(leaf, |level, index, hash| {
            let level = level as usize;
            if levels.len() <= level {
                levels.push(Vec::new());
            }
            debug_assert_eq!(levels[level].len() as u64, index);
            levels[level].push(*hash);
        });
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The right edge of the whole tree.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// One stored node, if the tree has it.
    pub fn node(&self, level: u32, index: u64) -> Option<&Hash> {
        self.levels.get(level as usize)?.get(usize::try_from(index).ok()?)
    }
}

impl Nodes for MemoryNodes {
    type Error = MissingNode;

    fn get(&self, wanted: &[NodeKey]) -> Result<Vec<Hash>, MissingNode> {
        wanted
            .iter()
            .map(|&(level, index)| self.node(level, index).copied().ok_or(MissingNode { level, index }))
            .collect()
    }
}

#[cfg(test)]
mod tests;
