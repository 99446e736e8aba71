//! Streaming verification of the whole log: the hash chain, the Merkle tree and the signed
//! checkpoints, one entry at a time, in constant memory.
//!
//! ```text
//! let mut v = LogVerifier::new();
//! for each stored entry, in order:        v.push_entry(entry)?;
//!     for each checkpoint of size v.size(): v.check_checkpoint(&checkpoint)?;
//! after the last entry, any checkpoint larger than the log: v.check_checkpoint(..) reports
//!                                                            the missing entries
//! ```

use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::merkle::{Frontier, leaf_hash};
use crate::{ChainError, GENESIS, Hash, StoredEntry, parse_hash};

/// One stored entry, borrowed, as the verifier reads it.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    /// Its stored position in the log, from 1.
    pub seq: i64,
    /// Its stored canonical bytes.
    pub entry: &'a [u8],
    /// Its stored leaf hash (hex), if the store keeps one.
    pub leaf_hash: Option<&'a str>,
    /// Its stored previous chain hash (hex).
    pub prev_hash: &'a str,
    /// Its stored chain hash (hex).
    pub hash: &'a str,
}

impl<'a> From<&'a StoredEntry> for EntryRef<'a> {
    fn from(e: &'a StoredEntry) -> EntryRef<'a> {
        EntryRef { seq: e.seq, entry: &e.entry, leaf_hash: None, prev_hash: &e.prev_hash, hash: &e.hash }
    }
}

/// Recomputes the chain and the Merkle tree over entries fed in order, and checks them
/// and the signed checkpoints against what is stored. Stops at the first problem: after
/// an error every call returns that same error.
#[derive(Debug, Clone)]
pub struct LogVerifier {
    frontier: Frontier,
    chain: Hash,
    /// The size of the last checkpoint that matched.
    checked: u64,
    failed: Option<ChainError>,
}

impl Default for LogVerifier {
    fn default() -> LogVerifier {
        LogVerifier::new()
    }
}

/// Whether the canonical bytes start `{"seq":<seq>,`. The encoding is canonical (the
/// envelope's first field, a plain decimal integer), so this prefix is where `seq` must
/// be; a full JSON parse per entry would cost more than the hashing.
fn starts_with_seq(entry: &[u8], seq: u64) -> bool {
    const PREFIX: &[u8] = br#"{"seq":"#;
    let Some(rest) = entry.strip_prefix(PREFIX) else {
        return false;
    };
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = seq;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = &digits[at..];
    rest.starts_with(digits) && rest.get(digits.len()) == Some(&b',')
}

impl LogVerifier {
    /// A verifier at the start of the log.
    pub fn new() -> LogVerifier {
        LogVerifier { frontier: Frontier::new(), chain: GENESIS, checked: 0, failed: None }
    }

    /// The number of entries verified so far.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The chain hash of the last entry verified ([`GENESIS`] before the first).
    pub fn chain_head(&self) -> Hash {
        self.chain
    }

    /// The Merkle root of the entries verified so far.
    pub fn root_at_current_size(&self) -> Hash {
        self.frontier.root()
    }

    /// The right edge of the tree so far (for resuming, or for a store to compare).
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The size of the last checkpoint that matched (0 if none).
    pub fn last_checked_size(&self) -> u64 {
        self.checked
    }

    /// The first problem found, if any.
    pub fn error(&self) -> Option<&ChainError> {
        self.failed.as_ref()
    }

    fn fail(&mut self, seq: i64, problem: String) -> Result<(), ChainError> {
        let error = ChainError { seq, problem };
        self.failed = Some(error.clone());
        Err(error)
    }

    /// Verifies the next entry: its position, its link to the entry before, its encoded
    /// sequence number, its chain hash and (if stored) its leaf hash; then adds it to the tree.
    pub fn push_entry(&mut self, e: EntryRef<'_>) -> Result<(), ChainError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        // The log has far fewer than 2^63 entries; saturate rather than wrap regardless.
        let expected = i64::try_from(self.size()).unwrap_or(i64::MAX).saturating_add(1);
        if e.seq != expected {
            let problem = if e.seq > expected {
                format!("expected entry {expected}; an entry is missing")
            } else {
                format!("expected entry {expected}; this one is repeated or out of order")
            };
            return self.fail(e.seq, problem);
        }
        if parse_hash(e.prev_hash) != Some(self.chain) {
            return self.fail(e.seq, "its previous-hash does not match the entry before it".into());
        }
        // `expected` is at least 1 here, so the conversion is exact.
        if !starts_with_seq(e.entry, expected.unsigned_abs()) {
            return self.fail(e.seq, "its encoded sequence number does not match its position".into());
        }
        let mut h = Sha256::new();
        h.update(self.chain);
        h.update(e.entry);
        let chain: Hash = h.finalize().into();
        if parse_hash(e.hash) != Some(chain) {
            return self.fail(e.seq, "its hash does not match its contents (altered)".into());
        }
        let leaf = leaf_hash(e.entry);
        if let Some(stored) = e.leaf_hash
            && parse_hash(stored) != Some(leaf)
        {
            return self.fail(e.seq, "its stored leaf hash does not match its contents (altered)".into());
        }
        self.chain = chain;
        self.frontier.push_each(leaf, |_, _, _| {});
        Ok(())
    }

    /// Checks a signed tree head's root against the entries. Call it when [`size`] equals
    /// `size`; after the last entry, a larger `size` reports the entries that are missing.
    ///
    /// A mismatch cannot say which entry changed (the chain hashes were rewritten to match),
    /// only that one after the last matching checkpoint did: the error names the first entry
    /// that could be the altered one.
    ///
    /// [`size`]: LogVerifier::size
    pub fn check_root(&mut self, size: u64, root: &Hash) -> Result<(), ChainError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let have = self.size();
        let seq = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        if size > have {
            return self.fail(
                seq(have + 1),
                format!("a signed checkpoint covers {size} entries but the log has only {have}: entries are missing"),
            );
        }
        if size < have {
            return self.fail(
                seq(size),
                format!("the checkpoint at size {size} was checked only after {have} entries (check it at its size)"),
            );
        }
        let computed = self.frontier.root();
        if computed != *root {
            return self.fail(
                seq(self.checked + 1),
                format!(
                    "the signed checkpoint at size {size} does not match entries {}..={size} \
                     (root {} signed, {} computed): one of them was altered and the chain rewritten",
                    self.checked + 1,
                    hex::encode(root),
                    hex::encode(computed),
                ),
            );
        }
        self.checked = size;
        Ok(())
    }

    /// [`LogVerifier::check_root`] for a checkpoint whose signature has been verified.
    pub fn check_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), ChainError> {
        self.check_root(checkpoint.size, &checkpoint.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MemoryNodes, Nodes, inclusion_proof, root, root_at, verify_inclusion};
    use crate::{Envelope, canonical, chain_hash, verify_chain};

    /// A log of `n` entries as the store keeps it, with leaf hashes.
    fn log(n: i64) -> Vec<(StoredEntry, String)> {
        let events = canonical(&serde_json::json!([{"type": "x", "b": 2, "a": 1}])).unwrap();
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let entry = Envelope {
                    seq,
                    at: "2026-03-02T09:00:00Z",
                    actor: "staff:1",
                    action: "test",
                    subject: &format!("s:{seq}"),
                    events: &events,
                }
                .encode()
                .unwrap();
                let hash = chain_hash(&prev, &entry);
                let leaf = hex::encode(leaf_hash(&entry));
                let stored = StoredEntry { seq, entry, prev_hash: hex::encode(prev), hash: hex::encode(hash) };
                prev = hash;
                (stored, leaf)
            })
            .collect()
    }

    fn entry<'a>(e: &'a (StoredEntry, String)) -> EntryRef<'a> {
        EntryRef { leaf_hash: Some(&e.1), ..EntryRef::from(&e.0) }
    }

    /// Runs the verifier over a log with checkpoints (size → root); the first error.
    fn run(entries: &[(StoredEntry, String)], checkpoints: &[(u64, Hash)]) -> Result<LogVerifier, ChainError> {
        let mut v = LogVerifier::new();
        let mut cps = checkpoints.iter().peekable();
        while let Some((size, root)) = cps.next_if(|(size, _)| *size == 0) {
            v.check_root(*size, root)?;
        }
        for e in entries {
            v.push_entry(entry(e))?;
            while let Some((size, root)) = cps.next_if(|(size, _)| *size == v.size()) {
                v.check_root(*size, root)?;
            }
        }
        for (size, root) in cps {
            v.check_root(*size, root)?;
        }
        Ok(v)
    }

    fn leaves(entries: &[(StoredEntry, String)]) -> Vec<Hash> {
        entries.iter().map(|(e, _)| leaf_hash(&e.entry)).collect()
    }

    #[test]
    fn an_intact_log_verifies() {
        let entries = log(100);
        let all = leaves(&entries);
        let checkpoints: Vec<(u64, Hash)> =
            [0u64, 1, 7, 8, 64, 100].iter().map(|&n| (n, root(&all[..n as usize]))).collect();
        let v = run(&entries, &checkpoints).unwrap();
        assert_eq!(v.size(), 100);
        assert_eq!(v.last_checked_size(), 100);
        assert_eq!(v.root_at_current_size(), root(&all));
        // Same chain as verify_chain.
        let (n, head) = verify_chain(entries.iter().map(|(e, _)| e.clone())).unwrap();
        assert_eq!((n, head), (100, v.chain_head()));
        // Proofs from a tree of the same leaves check against the verifier's root.
        let nodes = MemoryNodes::from_leaves(all.iter().copied());
        let proof = inclusion_proof(41, 100, &nodes).unwrap();
        verify_inclusion(&all[41], 41, 100, &proof, &v.root_at_current_size()).unwrap();
        assert_eq!(root_at(64, &nodes).unwrap(), checkpoints[4].1);
        assert!(nodes.get(&[(0, 0)]).is_ok());
    }

    #[test]
    fn every_kind_of_damage_names_the_first_bad_entry() {
        let fresh = || log(20);
        let err = |entries: &[(StoredEntry, String)]| run(entries, &[]).unwrap_err();

        let mut c = fresh();
        c[4].0.entry[12] ^= 1;
        assert_eq!(err(&c).seq, 5);
        assert!(err(&c).problem.contains("altered"));

        let mut c = fresh();
        c.remove(6);
        assert_eq!(err(&c), ChainError { seq: 8, problem: "expected entry 7; an entry is missing".into() });

        let mut c = fresh();
        c.swap(3, 4);
        assert_eq!(err(&c).seq, 5);

        let mut c = fresh();
        let again = c[2].clone();
        c.insert(3, again);
        assert_eq!(err(&c).seq, 3);
        assert!(err(&c).problem.contains("repeated"));

        let mut c = fresh();
        c[9].0.prev_hash = hex::encode([7u8; 32]);
        assert_eq!(err(&c).seq, 10);
        assert!(err(&c).problem.contains("previous-hash"));

        let mut c = fresh();
        c[9].0.hash = "not hex".into();
        assert_eq!(err(&c).seq, 10);

        let mut c = fresh();
        c[11].1 = hex::encode([0u8; 32]);
        assert_eq!(err(&c).seq, 12);
        assert!(err(&c).problem.contains("leaf hash"));

        // An entry whose encoded seq differs from its position, chain rewritten to match.
        let mut c = fresh();
        c[5].0.entry = replace_once(&c[5].0.entry, b"{\"seq\":6,", b"{\"seq\":60,");
        rewrite_chain(&mut c, 5);
        assert_eq!(err(&c).seq, 6);
        assert!(err(&c).problem.contains("sequence number"));
    }

    fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        [&bytes[..at], to, &bytes[at + from.len()..]].concat()
    }

    /// Rewrites the chain hashes (and leaf hashes) from entry `from` on, as someone who
    /// altered an entry and covered their tracks would.
    fn rewrite_chain(entries: &mut [(StoredEntry, String)], from: usize) {
        let mut prev = if from == 0 { GENESIS } else { crate::parse_hash(&entries[from - 1].0.hash).unwrap() };
        for (e, leaf) in &mut entries[from..] {
            e.prev_hash = hex::encode(prev);
            let h = chain_hash(&prev, &e.entry);
            e.hash = hex::encode(h);
            *leaf = hex::encode(leaf_hash(&e.entry));
            prev = h;
        }
    }

    #[test]
    fn a_rewritten_chain_is_caught_by_the_checkpoints() {
        let entries = log(50);
        let all = leaves(&entries);
        let checkpoints: Vec<(u64, Hash)> = [10u64, 30, 50].iter().map(|&n| (n, root(&all[..n as usize]))).collect();

        let mut forged = entries.clone();
        forged[19].0.entry = replace_once(&forged[19].0.entry, b"test", b"tset");
        rewrite_chain(&mut forged, 19);
        // The chain alone no longer shows it...
        run(&forged, &[]).unwrap();
        // ...the first checkpoint after the change does, naming the range it is in.
        let e = run(&forged, &checkpoints).unwrap_err();
        assert_eq!(e.seq, 11);
        assert!(e.problem.contains("size 30") && e.problem.contains("11..=30"), "{}", e.problem);

        // A log cut short of a signed checkpoint.
        let e = run(&entries[..45], &checkpoints).unwrap_err();
        assert_eq!(e.seq, 46);
        assert!(e.problem.contains("missing"));

        // Errors are sticky.
        let mut v = LogVerifier::new();
        assert!(v.push_entry(entry(&entries[1])).is_err());
        assert_eq!(v.push_entry(entry(&entries[0])).unwrap_err().seq, 2);
        assert_eq!(v.error().map(|e| e.seq), Some(2));
        assert_eq!(v.check_root(0, &crate::merkle::empty_root()).unwrap_err().seq, 2);
    }

    #[test]
    fn the_seq_prefix_check_is_exact() {
        assert!(starts_with_seq(br#"{"seq":1,"at":"t"}"#, 1));
        assert!(starts_with_seq(br#"{"seq":1234567890,"#, 1234567890));
        assert!(starts_with_seq(format!(r#"{{"seq":{},"#, u64::MAX).as_bytes(), u64::MAX));
        assert!(!starts_with_seq(br#"{"seq":12,"#, 1));
        assert!(!starts_with_seq(br#"{"seq":1"#, 1));
        assert!(!starts_with_seq(br#"{"seq":01,"#, 1));
        assert!(!starts_with_seq(br#"{ "seq":1,"#, 1));
        assert!(!starts_with_seq(b"", 1));
    }
}
