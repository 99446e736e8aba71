//! Tests for the Merkle tree: the Certificate Transparency reference vectors, a naive
//! implementation of the RFC's recursive definitions to compare against, and properties.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;

use super::*;

fn h(hex_str: &str) -> Hash {
    crate::parse_hash(hex_str).unwrap()
}

// ---------------------------------------------------------------------------------------
// Reference vectors. The 8-leaf tree, its roots, and the inclusion and consistency proofs
// are those of the Certificate Transparency reference implementations (C++ `merkletree`,
// certificate-transparency-go `merkletree`), as kept today in transparency-dev/merkle
// `proof/verify_test.go` (`leaves`, `roots`, `inclusionProofs`, `consistencyProofs`; that
// file numbers leaves from 1, converted to 0-based indices here). The single-hash vectors
// are from transparency-dev/merkle `rfc6962/rfc6962_test.go`.
// ---------------------------------------------------------------------------------------

const LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, proof)
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, proof)
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn reference_leaves() -> Vec<Hash> {
    LEAVES.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())).collect()
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

#[test]
fn hashing_matches_rfc6962_vectors() {
    assert_eq!(empty_root(), h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_eq!(leaf_hash(b""), h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
    assert_eq!(leaf_hash(b"L123456"), h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"));
    // node_hash is SHA-256(0x01 ‖ left ‖ right): checked against a plain SHA-256.
    let (l, r) = (leaf_hash(b"a"), leaf_hash(b"b"));
    let mut input = vec![1u8];
    input.extend_from_slice(&l);
    input.extend_from_slice(&r);
    assert_eq!(node_hash(&l, &r), <[u8; 32]>::from(Sha256::digest(&input)));
}

#[test]
fn roots_match_the_reference_tree() {
    let leaves = reference_leaves();
    let nodes = MemoryNodes::from_leaves(leaves.iter().copied());
    let mut frontier = Frontier::new();
    assert_eq!(root(&[]), empty_root());
    assert_eq!(root_at(0, &nodes).unwrap(), empty_root());
    for (i, want) in ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        frontier.push(leaves[i]);
        assert_eq!(root(&leaves[..=i]), h(want), "root({size})");
        assert_eq!(frontier.root(), h(want), "frontier root({size})");
        // Smaller trees out of the bigger stored one.
        assert_eq!(root_at(size, &nodes).unwrap(), h(want), "root_at({size})");
    }
}

#[test]
fn inclusion_proofs_match_the_reference_vectors() {
    let leaves = reference_leaves();
    let nodes = MemoryNodes::from_leaves(leaves.iter().copied());
    for &(index, size, want) in INCLUSION {
        let want = hashes(want);
        let proof = inclusion_proof(index, size, &nodes).unwrap();
        assert_eq!(proof, want, "inclusion proof of {index} in {size}");
        let root = h(ROOTS[size as usize - 1]);
        verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
        for (desc, probe) in corrupt_inclusion(index, size, &proof, &root, &leaves[index as usize]) {
            assert!(
                verify_inclusion(&probe.leaf, probe.index, probe.size, &probe.proof, &probe.root).is_err(),
                "accepted {desc} for inclusion of {index} in {size}"
            );
        }
    }
}

#[test]
fn consistency_proofs_match_the_reference_vectors() {
    let leaves = reference_leaves();
    let nodes = MemoryNodes::from_leaves(leaves.iter().copied());
    for &(old, new, want) in CONSISTENCY {
        let want = hashes(want);
        let proof = consistency_proof(old, new, &nodes).unwrap();
        assert_eq!(proof, want, "consistency proof {old} → {new}");
        let (old_root, new_root) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
        if proof.is_empty() {
            continue;
        }
        for (desc, p) in corrupt_consistency(old, new, &old_root, &new_root, &proof) {
            assert!(
                verify_consistency(p.old, p.new, &p.old_root, &p.new_root, &p.proof).is_err(),
                "accepted {desc} for consistency {old} → {new}"
            );
        }
    }
}

struct InclusionProbe {
    index: u64,
    size: u64,
    leaf: Hash,
    proof: Vec<Hash>,
    root: Hash,
}

/// The corruptions transparency-dev/merkle's verifier tests apply (`corruptInclusionProof`).
fn corrupt_inclusion(index: u64, size: u64, proof: &[Hash], root: &Hash, leaf: &Hash) -> Vec<(String, InclusionProbe)> {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let p = |index, size, leaf, proof: Vec<Hash>, root| InclusionProbe { index, size, leaf, proof, root };
    let mut out = vec![
        ("index - 1".to_string(), p(index.wrapping_sub(1), size, *leaf, proof.to_vec(), *root)),
        ("index + 1".into(), p(index + 1, size, *leaf, proof.to_vec(), *root)),
        ("index ^ 2".into(), p(index ^ 2, size, *leaf, proof.to_vec(), *root)),
        ("size * 2".into(), p(index, size * 2, *leaf, proof.to_vec(), *root)),
        ("size / 2".into(), p(index, size / 2, *leaf, proof.to_vec(), *root)),
        ("wrong leaf".into(), p(index, size, leaf_hash(b"WrongLeaf"), proof.to_vec(), *root)),
        ("empty root".into(), p(index, size, *leaf, proof.to_vec(), empty_root())),
        ("random root".into(), p(index, size, *leaf, proof.to_vec(), some)),
        ("trailing root".into(), p(index, size, *leaf, [proof, &[*root]].concat(), *root)),
        ("preceding root".into(), p(index, size, *leaf, [&[*root], proof].concat(), *root)),
    ];
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        wrong[i][0] ^= 8;
        out.push((format!("modified proof[{i}]"), p(index, size, *leaf, wrong, *root)));
    }
    if !proof.is_empty() {
        out.push(("removed component".into(), p(index, size, *leaf, proof[..proof.len() - 1].to_vec(), *root)));
    }
    if proof.len() > 1 {
        let wrong = [&[proof[0], some], &proof[1..]].concat();
        out.push(("inserted component".into(), p(index, size, *leaf, wrong, *root)));
    }
    out
}

struct ConsistencyProbe {
    old: u64,
    new: u64,
    old_root: Hash,
    new_root: Hash,
    proof: Vec<Hash>,
}

/// The corruptions transparency-dev/merkle's verifier tests apply (`corruptConsistencyProof`).
fn corrupt_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Vec<(String, ConsistencyProbe)> {
    let wrong_root = leaf_hash(b"WrongRoot");
    let p = |old, new, old_root, new_root, proof: Vec<Hash>| ConsistencyProbe { old, new, old_root, new_root, proof };
    let mut out = vec![
        ("old - 1".to_string(), p(old - 1, new, *old_root, *new_root, proof.to_vec())),
        ("old + 1".into(), p(old + 1, new, *old_root, *new_root, proof.to_vec())),
        ("old ^ 2".into(), p(old ^ 2, new, *old_root, *new_root, proof.to_vec())),
        ("new * 2".into(), p(old, new * 2, *old_root, *new_root, proof.to_vec())),
        ("new / 2".into(), p(old, new / 2, *old_root, *new_root, proof.to_vec())),
        ("wrong old root".into(), p(old, new, wrong_root, *new_root, proof.to_vec())),
        ("wrong new root".into(), p(old, new, *old_root, wrong_root, proof.to_vec())),
        ("swapped roots".into(), p(old, new, *new_root, *old_root, proof.to_vec())),
        ("empty proof".into(), p(old, new, *old_root, *new_root, vec![])),
        ("trailing old root".into(), p(old, new, *old_root, *new_root, [proof, &[*old_root]].concat())),
        ("trailing new root".into(), p(old, new, *old_root, *new_root, [proof, &[*new_root]].concat())),
        ("preceding old root".into(), p(old, new, *old_root, *new_root, [&[*old_root], proof].concat())),
        ("preceding new root".into(), p(old, new, *old_root, *new_root, [&[*new_root], proof].concat())),
        ("preceding proof[0]".into(), p(old, new, *old_root, *new_root, [&[proof[0]], proof].concat())),
        ("truncated".into(), p(old, new, *old_root, *new_root, proof[..proof.len() - 1].to_vec())),
    ];
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        wrong[i][0] ^= 16;
        out.push((format!("modified proof[{i}]"), p(old, new, *old_root, *new_root, wrong)));
    }
    out
}

#[test]
fn verifier_edge_cases() {
    // From transparency-dev/merkle TestVerifyInclusion / TestVerifyConsistency.
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
        assert!(verify_inclusion(&some, index, size, &[], &empty_root()).is_err());
    }
    let data = leaf_hash(b"data");
    verify_inclusion(&data, 0, 1, &[], &data).unwrap();
    assert!(verify_inclusion(&data, 0, 1, &[], &some).is_err());

    let (r1, r2) = (leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2"));
    let e = empty_root();
    assert!(verify_consistency(0, 0, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(1, 1, &r1, &r2, &[]).is_err());
    verify_consistency(0, 0, &e, &e, &[]).unwrap();
    // Anything extends the empty tree, whose root is SHA-256("") (stricter than the Go
    // library, which ignores the old root when the old size is 0).
    verify_consistency(0, 1, &e, &r2, &[]).unwrap();
    assert_eq!(verify_consistency(0, 1, &r1, &r2, &[]), Err(VerifyError::OldRootMismatch));
    verify_consistency(1, 1, &r2, &r2, &[]).unwrap();
    assert!(verify_consistency(1, 0, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(2, 1, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(1, 2, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(0, 0, &e, &e, &[e]).is_err());
    assert!(verify_consistency(0, 1, &e, &e, &[e]).is_err());
    assert!(verify_consistency(1, 1, &e, &e, &[e]).is_err());
}

// ---------------------------------------------------------------------------------------
// Which nodes a proof reads: the node lists of transparency-dev/merkle `proof/proof_test.go`
// (TestInclusion, TestConsistency), compared as sets: that library lists the same perfect
// nodes, marking the ones it folds ("rehash") into the single right-edge subtree.
// ---------------------------------------------------------------------------------------

/// (size, index, nodes as (level, index))
const INCLUSION_NODES: &[(u64, u64, &[NodeKey])] = &[
    (1, 0, &[]),
    (2, 0, &[(0, 1)]),
    (2, 1, &[(0, 0)]),
    (3, 1, &[(0, 0), (0, 2)]),
    (7, 0, &[(0, 1), (1, 1), (0, 6), (1, 2)]),
    (7, 1, &[(0, 0), (1, 1), (0, 6), (1, 2)]),
    (7, 2, &[(0, 3), (1, 0), (0, 6), (1, 2)]),
    (7, 3, &[(0, 2), (1, 0), (0, 6), (1, 2)]),
    (7, 4, &[(0, 5), (0, 6), (2, 0)]),
    (7, 5, &[(0, 4), (0, 6), (2, 0)]),
    (7, 6, &[(1, 2), (2, 0)]),
    (4, 2, &[(0, 3), (1, 0)]),
    (5, 3, &[(0, 2), (1, 0), (0, 4)]),
    (6, 3, &[(0, 2), (1, 0), (1, 2)]),
    (6, 4, &[(0, 5), (2, 0)]),
    (15, 10, &[(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)]),
    (31, 24, &[(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)]),
    (95, 81, &[(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
];

/// (old size, new size, nodes as (level, index))
const CONSISTENCY_NODES: &[(u64, u64, &[NodeKey])] = &[
    (1, 2, &[(0, 1)]),
    (1, 4, &[(0, 1), (1, 1)]),
    (1, 6, &[(0, 1), (1, 1), (1, 2)]),
    (2, 3, &[(0, 2)]),
    (2, 8, &[(1, 1), (2, 1)]),
    (3, 7, &[(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)]),
    (4, 7, &[(0, 6), (1, 2)]),
    (5, 7, &[(0, 4), (0, 5), (0, 6), (2, 0)]),
    (6, 7, &[(1, 2), (0, 6), (2, 0)]),
    (7, 8, &[(0, 6), (0, 7), (1, 2), (2, 0)]),
    (1, 1, &[]),
    (2, 2, &[]),
    (3, 3, &[]),
    (4, 4, &[]),
    (5, 5, &[]),
    (7, 7, &[]),
    (8, 8, &[]),
    (2, 4, &[(1, 1)]),
    (3, 5, &[(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, &[(0, 2), (0, 3), (1, 0), (1, 2)]),
    (4, 6, &[(1, 2)]),
    (1, 7, &[(0, 1), (1, 1), (0, 6), (1, 2)]),
    (10, 15, &[(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)]),
    (24, 31, &[(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)]),
    (81, 95, &[(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
];

fn set(keys: &[NodeKey]) -> BTreeSet<NodeKey> {
    keys.iter().copied().collect()
}

#[test]
fn proofs_read_the_minimal_nodes() {
    for &(size, index, want) in INCLUSION_NODES {
        let plan = inclusion_plan(index, size).unwrap();
        assert_eq!(plan.keys().len(), want.len(), "inclusion {index} in {size}: duplicate reads");
        assert_eq!(set(plan.keys()), set(want), "inclusion {index} in {size}");
    }
    for &(old, new, want) in CONSISTENCY_NODES {
        let plan = consistency_plan(old, new).unwrap();
        assert_eq!(plan.keys().len(), want.len(), "consistency {old} → {new}: duplicate reads");
        assert_eq!(set(plan.keys()), set(want), "consistency {old} → {new}");
    }
    for (index, size) in [(0, 0), (1, 0), (2, 1), (3, 0), (8, 7)] {
        assert_eq!(inclusion_plan(index, size), Err(RangeError::IndexOutOfRange { index, size }));
    }
    assert_eq!(consistency_plan(5, 0), Err(RangeError::SizesOutOfOrder { old: 5, new: 0 }));
    assert_eq!(consistency_plan(9, 8), Err(RangeError::SizesOutOfOrder { old: 9, new: 8 }));
}

fn ceil_log2(n: u64) -> usize {
    (64 - (n.max(1) - 1).leading_zeros()) as usize
}

#[test]
fn proofs_read_at_most_two_log_n_nodes() {
    // Plans are pure, so the bound can be checked at any size without building a tree.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sizes: Vec<u64> = vec![10_000_000, (1 << 23) - 1, (1 << 23) + 1, (1 << 24) - 1, u64::MAX >> 1];
    sizes.extend((0..200).map(|_| next() % 20_000_000 + 1));
    for size in sizes {
        let bound = 2 * ceil_log2(size);
        for index in [0, size / 3, size - 1, size.saturating_sub(2), next() % size] {
            let plan = inclusion_plan(index, size).unwrap();
            assert!(plan.keys().len() <= bound, "inclusion {index} in {size}: {} reads", plan.keys().len());
            assert!(plan.len() <= ceil_log2(size));
        }
        for old in [1, size / 2, size - 1, next() % size + 1] {
            let plan = consistency_plan(old, size).unwrap();
            assert!(plan.keys().len() <= bound, "consistency {old} → {size}: {} reads", plan.keys().len());
            assert!(plan.len() <= ceil_log2(size) + 1);
        }
        assert_eq!(nodes_for_root(size).len(), size.count_ones() as usize);
    }
}

// ---------------------------------------------------------------------------------------
// A naive implementation of RFC 6962 §2.1 (MTH, PATH, PROOF/SUBPROOF), recursion and all,
// with MTH memoised so that whole trees can be compared quickly.
// ---------------------------------------------------------------------------------------

struct Naive {
    leaves: Vec<Hash>,
    memo: HashMap<(usize, usize), Hash>,
}

/// The largest power of two smaller than n, counted up the slow way.
fn naive_k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Where a consistency-proof hash sits, as the RFC's SUBPROOF produces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The old tree is a complete subtree and its root is not sent (`b` still true).
    OldRootImplied,
    /// A subtree holding the old tree's last leaves (`SUBPROOF(m, D[m], false)`).
    Start,
    /// A subtree to the right, in the new tree only.
    Right,
    /// A subtree to the left, in both trees.
    Left,
}

impl Naive {
    fn new(leaves: Vec<Hash>) -> Naive {
        Naive { leaves, memo: HashMap::new() }
    }

    /// MTH(D[lo:hi]).
    fn mth(&mut self, lo: usize, hi: usize) -> Hash {
        let n = hi - lo;
        if n == 0 {
            return Sha256::digest(b"").into();
        }
        if n == 1 {
            return self.leaves[lo];
        }
        if let Some(h) = self.memo.get(&(lo, hi)) {
            return *h;
        }
        let k = naive_k(n);
        let (l, r) = (self.mth(lo, lo + k), self.mth(lo + k, hi));
        let mut input = vec![1u8];
        input.extend_from_slice(&l);
        input.extend_from_slice(&r);
        let h: Hash = Sha256::digest(&input).into();
        self.memo.insert((lo, hi), h);
        h
    }

    /// PATH(m, D[lo:hi]).
    fn path(&mut self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
        let n = hi - lo;
        if n == 1 {
            return vec![];
        }
        let k = naive_k(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// SUBPROOF(m, D[lo:hi], b).
    fn subproof(&mut self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
        let n = hi - lo;
        if m == n {
            return if b { vec![] } else { vec![self.mth(lo, hi)] };
        }
        let k = naive_k(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, b);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// PROOF(m, D[n]).
    fn proof(&mut self, m: usize, n: usize) -> Vec<Hash> {
        if m == 0 || m == n {
            return vec![];
        }
        self.subproof(m, 0, n, true)
    }
}

/// The sides of the siblings along PATH(index, D[size]), bottom up (true: on the right).
/// Two (index, size) pairs with the same shape take the same proof to the same root.
fn inclusion_shape(index: u64, size: u64) -> Option<Vec<bool>> {
    fn walk(m: u64, n: u64, out: &mut Vec<bool>) {
        if n == 1 {
            return;
        }
        let k = naive_k(n as usize) as u64;
        if m < k {
            walk(m, k, out);
            out.push(true);
        } else {
            walk(m - k, n - k, out);
            out.push(false);
        }
    }
    (index < size).then(|| {
        let mut out = vec![];
        walk(index, size, &mut out);
        out
    })
}

/// How each hash of PROOF(old, D[new]) is used, in order (see [`Part`]).
fn consistency_shape(old: u64, new: u64) -> Option<Vec<Part>> {
    fn walk(m: u64, n: u64, b: bool, out: &mut Vec<Part>) {
        if m == n {
            out.push(if b { Part::OldRootImplied } else { Part::Start });
            return;
        }
        let k = naive_k(n as usize) as u64;
        if m <= k {
            walk(m, k, b, out);
            out.push(Part::Right);
        } else {
            walk(m - k, n - k, false, out);
            out.push(Part::Left);
        }
    }
    if old > new {
        return None;
    }
    let mut out = vec![];
    if old > 0 {
        walk(old, new, true, &mut out);
    }
    Some(out)
}

fn test_leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
}

#[test]
fn frontier_matches_the_tree_and_emits_exactly_the_perfect_nodes() {
    let leaves = test_leaves(600);
    let mut naive = Naive::new(leaves.clone());
    let mut frontier = Frontier::new();
    let mut emitted: HashMap<NodeKey, Hash> = HashMap::new();
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(frontier.root(), naive.mth(0, i));
        let size = i as u64;
        assert_eq!(Frontier::from_nodes(size, frontier.hashes().to_vec()).unwrap(), frontier);
        for (level, index, hash) in frontier.push(*leaf) {
            // Each node completed by this leaf ends exactly at it.
            let (lo, hi) = ((index << level) as usize, ((index + 1) << level) as usize);
            assert_eq!(hi, i + 1, "node ({level}, {index}) completed by leaf {i}");
            assert_eq!(hash, naive.mth(lo, hi));
            assert!(emitted.insert((level, index), hash).is_none(), "({level}, {index}) emitted twice");
        }
        // Every perfect subtree of the tree so far, and nothing else.
        let n = i as u64 + 1;
        let all: usize = (0..64).map(|level| (n >> level) as usize).sum();
        assert_eq!(emitted.len(), all);
        assert_eq!(frontier.hashes().len(), nodes_for_root(n).len());
        let from_store: Vec<Hash> = nodes_for_root(n).iter().map(|k| emitted[k]).collect();
        assert_eq!(frontier.hashes(), &from_store[..]);
        assert_eq!(root_from(n, &from_store).unwrap(), root(&leaves[..=i]));
    }
}

#[test]
fn a_restored_frontier_carries_on() {
    let leaves = test_leaves(300);
    let nodes = MemoryNodes::from_leaves(leaves[..123].iter().copied());
    let stored = nodes.get(&nodes_for_root(123)).unwrap();
    let mut restored = Frontier::from_nodes(123, stored).unwrap();
    let mut whole = Frontier::new();
    for leaf in &leaves[..123] {
        whole.push(*leaf);
    }
    for leaf in &leaves[123..] {
        assert_eq!(restored.push(*leaf), whole.push(*leaf));
    }
    assert_eq!(restored.root(), root(&leaves));
    assert_eq!(Frontier::from_nodes(5, vec![[0; 32]]), Err(NodeCountError { expected: 2, got: 1 }));
    assert_eq!(root_from(3, &[[0; 32]]), Err(NodeCountError { expected: 2, got: 1 }));
    assert_eq!(root_from(0, &[]), Ok(empty_root()));
}

#[test]
fn a_store_that_answers_wrongly_is_an_error() {
    struct Short;
    impl Nodes for Short {
        type Error = std::convert::Infallible;
        fn get(&self, wanted: &[NodeKey]) -> Result<Vec<Hash>, Self::Error> {
            Ok(vec![[0; 32]; wanted.len() - 1])
        }
    }
    assert!(matches!(inclusion_proof(0, 8, &Short), Err(ProofError::NodeCount(_))));
    let empty = MemoryNodes::new();
    assert!(matches!(inclusion_proof(0, 8, &empty), Err(ProofError::Nodes(MissingNode { level: 0, index: 1 }))));
    assert!(matches!(consistency_proof(9, 8, &empty), Err(ProofError::Range(_))));
    // Nothing to read: the store is not asked.
    assert_eq!(inclusion_proof(0, 1, &Short).unwrap(), Vec::<Hash>::new());
    assert_eq!(consistency_proof(3, 3, &Short).unwrap(), Vec::<Hash>::new());
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8] ^= 1 << (bit % 8);
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Every proof of a tree (inside a bigger stored tree) equals the RFC's definition and
    /// verifies.
    #[test]
    fn proofs_equal_the_rfc_definitions_and_verify(size in 1u64..=2000, extra in 0u64..300) {
        let leaves = test_leaves(size + extra);
        let nodes = MemoryNodes::from_leaves(leaves.iter().copied());
        let mut naive = Naive::new(leaves.clone());
        let n = size as usize;
        let root = naive.mth(0, n);
        prop_assert_eq!(root_at(size, &nodes).unwrap(), root);
        for index in 0..size {
            let proof = inclusion_proof(index, size, &nodes).unwrap();
            prop_assert_eq!(&proof, &naive.path(index as usize, 0, n));
            prop_assert_eq!(verify_inclusion(&leaves[index as usize], index, size, &proof, &root), Ok(()));
        }
        for old in 0..=size {
            let proof = consistency_proof(old, size, &nodes).unwrap();
            prop_assert_eq!(&proof, &naive.proof(old as usize, n));
            let old_root = naive.mth(0, old as usize);
            prop_assert_eq!(verify_consistency(old, size, &old_root, &root, &proof), Ok(()));
        }
    }

    /// Any change to a valid inclusion proof's inputs is rejected. A different tree size is
    /// rejected unless its path has exactly the same shape (then the same hashes really do
    /// prove it: inclusion proofs bind the size only through the signed root).
    #[test]
    fn tampered_inclusion_is_rejected(
        size in 1u64..=2000, index_seed: u64, bit in 0usize..256, at: usize, other: u64, other_size in 1u64..=4000,
    ) {
        let leaves = test_leaves(size);
        let nodes = MemoryNodes::from_leaves(leaves.iter().copied());
        let index = index_seed % size;
        let leaf = leaves[index as usize];
        let root = nodes.root();
        let proof = inclusion_proof(index, size, &nodes).unwrap();
        let ok = |leaf: &Hash, index, size, proof: &[Hash], root: &Hash| verify_inclusion(leaf, index, size, proof, root).is_ok();
        prop_assert!(ok(&leaf, index, size, &proof, &root));

        prop_assert!(!ok(&flip(&leaf, bit), index, size, &proof, &root));
        prop_assert!(!ok(&leaf, index, size, &proof, &flip(&root, bit)));
        if !proof.is_empty() {
            let mut wrong = proof.clone();
            let i = at % proof.len();
            wrong[i] = flip(&wrong[i], bit);
            prop_assert!(!ok(&leaf, index, size, &wrong, &root));
        }
        for i in 0..proof.len() {
            let mut dropped = proof.clone();
            dropped.remove(i);
            prop_assert!(!ok(&leaf, index, size, &dropped, &root), "dropped {}", i);
        }
        for i in 1..proof.len() {
            let mut swapped = proof.clone();
            swapped.swap(i - 1, i);
            prop_assert!(!ok(&leaf, index, size, &swapped, &root), "swapped {}", i);
        }
        prop_assert!(!ok(&leaf, index, size, &[&proof[..], &[root]].concat(), &root));
        prop_assert!(!ok(&leaf, index, size, &[&[root], &proof[..]].concat(), &root));

        let other = other % size;
        for wrong in [other, index ^ 1, index ^ 2, index + 1, index.wrapping_sub(1)] {
            if wrong != index {
                prop_assert!(!ok(&leaf, wrong, size, &proof, &root), "index {} instead of {}", wrong, index);
            }
        }
        let shape = inclusion_shape(index, size);
        for wrong in [other_size, size + 1, size - 1, size * 2, size / 2] {
            if wrong != size {
                let same = inclusion_shape(index, wrong) == shape;
                prop_assert_eq!(ok(&leaf, index, wrong, &proof, &root), same, "size {} instead of {}", wrong, size);
            }
        }
    }

    /// Any change to a valid consistency proof's inputs is rejected; as above, other sizes
    /// only where the proof has exactly the same shape.
    #[test]
    fn tampered_consistency_is_rejected(
        new in 2u64..=2000, old_seed: u64, bit in 0usize..256, at: usize, other_old in 0u64..=4000, other_new in 0u64..=4000,
    ) {
        let leaves = test_leaves(new);
        let nodes = MemoryNodes::from_leaves(leaves.iter().copied());
        let old = old_seed % (new - 1) + 1; // 0 < old < new: the proof is not empty
        let old_root = root(&leaves[..old as usize]);
        let new_root = nodes.root();
        let proof = consistency_proof(old, new, &nodes).unwrap();
        let ok = |old, new, old_root: &Hash, new_root: &Hash, proof: &[Hash]| {
            verify_consistency(old, new, old_root, new_root, proof).is_ok()
        };
        prop_assert!(ok(old, new, &old_root, &new_root, &proof));
        prop_assert!(!proof.is_empty());

        prop_assert!(!ok(old, new, &flip(&old_root, bit), &new_root, &proof));
        prop_assert!(!ok(old, new, &old_root, &flip(&new_root, bit), &proof));
        prop_assert!(!ok(old, new, &new_root, &old_root, &proof));
        let mut wrong = proof.clone();
        let i = at % proof.len();
        wrong[i] = flip(&wrong[i], bit);
        prop_assert!(!ok(old, new, &old_root, &new_root, &wrong));
        for i in 0..proof.len() {
            let mut dropped = proof.clone();
            dropped.remove(i);
            prop_assert!(!ok(old, new, &old_root, &new_root, &dropped), "dropped {}", i);
        }
        for i in 1..proof.len() {
            let mut swapped = proof.clone();
            swapped.swap(i - 1, i);
            prop_assert!(!ok(old, new, &old_root, &new_root, &swapped), "swapped {}", i);
        }
        prop_assert!(!ok(old, new, &old_root, &new_root, &[&proof[..], &[new_root]].concat()));
        prop_assert!(!ok(old, new, &old_root, &new_root, &[&[old_root], &proof[..]].concat()));

        let shape = consistency_shape(old, new);
        for wrong in [other_old, old + 1, old - 1, old ^ 2] {
            if wrong != old {
                let same = consistency_shape(wrong, new) == shape;
                prop_assert_eq!(ok(wrong, new, &old_root, &new_root, &proof), same, "old size {} instead of {}", wrong, old);
            }
        }
        for wrong in [other_new, new + 1, new - 1, new * 2, new / 2] {
            if wrong != new {
                let same = consistency_shape(old, wrong) == shape;
                prop_assert_eq!(ok(old, wrong, &old_root, &new_root, &proof), same, "new size {} instead of {}", wrong, new);
            }
        }
    }
}
