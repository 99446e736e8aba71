//! The documented trail: how audit entries are encoded and chained.
//!
//! Every accepted command appends exactly one entry. An entry's bytes are the canonical
//! JSON of its envelope ([`Envelope`]): UTF-8, no insignificant whitespace, envelope
//! fields in the order `seq, at, actor, action, subject, events`, and the objects inside
//! `events` with their keys sorted. Each entry's chain hash is
//! `SHA-256(previous chain hash ‖ entry bytes)`, starting from 32 zero bytes, so changing
//! or removing any entry breaks every later hash.

use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The chain hash before the first entry.
pub const GENESIS: Hash = [0u8; 32];

/// The envelope of one audit entry; its canonical JSON is what gets hashed.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope<'a> {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When, RFC 3339 in UTC.
    pub at: &'a str,
    /// Who: `staff:12`, or `system:<worker>` for background work.
    pub actor: &'a str,
    /// What was done, e.g. `referral.decide`.
    pub action: &'a str,
    /// What it was done to, e.g. `referral:7`.
    pub subject: &'a str,
    /// The events the command produced, already in canonical form ([`canonical`]).
    pub events: &'a RawValue,
}

/// The canonical bytes of a JSON value (objects with sorted keys), ready to embed in an
/// [`Envelope`]: a command's events are encoded once, before the entry takes its place
/// in the chain.
pub fn canonical(value: &serde_json::Value) -> Result<Box<RawValue>, serde_json::Error> {
    // serde_json::Value keeps object keys sorted (no `preserve_order`).
    serde_json::value::to_raw_value(value)
}

impl Envelope<'_> {
    /// The canonical bytes of this entry.
    pub fn encode(&self) -> Vec<u8> {
        // The envelope is a struct and its events are canonical already, so this
        // encoding is deterministic.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The chain hash of an entry given the previous entry's chain hash.
pub fn chain_hash(prev: &Hash, entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(entry);
    h.finalize().into()
}

/// Parses a hex-encoded hash.
pub fn parse_hash(hex_str: &str) -> Option<Hash> {
    let bytes = hex::decode(hex_str).ok()?;
    bytes.try_into().ok()
}

/// One stored entry as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Position in the log.
    pub seq: i64,
    /// The stored canonical bytes.
    pub entry: Vec<u8>,
    /// The stored previous hash (hex).
    pub prev_hash: String,
    /// The stored chain hash (hex).
    pub hash: String,
}

/// What is wrong with the chain, at the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {problem}")]
pub struct ChainError {
    /// The first bad entry's sequence number.
    pub seq: i64,
    /// What is wrong with it.
    pub problem: String,
}

/// Walks the chain from the start and checks every link. Returns the final hash.
pub fn verify_chain(entries: impl IntoIterator<Item = StoredEntry>) -> Result<(i64, Hash), ChainError> {
    let mut prev = GENESIS;
    let mut expected_seq = 1;
    for e in entries {
        if e.seq != expected_seq {
            return Err(ChainError {
                seq: e.seq,
                problem: format!("expected entry {expected_seq}; an entry is missing"),
            });
        }
        if parse_hash(&e.prev_hash) != Some(prev) {
            return Err(ChainError {
                seq: e.seq,
                problem: "its previous-hash does not match the entry before it".into(),
            });
        }
        let seq_in_entry = serde_json::from_slice::<serde_json::Value>(&e.entry)
            .ok()
            .and_then(|v| v.get("seq").and_then(serde_json::Value::as_i64));
        if seq_in_entry != Some(e.seq) {
            return Err(ChainError {
                seq: e.seq,
                problem: "its encoded sequence number does not match its position".into(),
            });
        }
        let h = chain_hash(&prev, &e.entry);
        if parse_hash(&e.hash) != Some(h) {
            return Err(ChainError { seq: e.seq, problem: "its hash does not match its contents (altered)".into() });
        }
        prev = h;
        expected_seq += 1;
    }
    Ok((expected_seq - 1, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS;
        let events = canonical(&serde_json::json!([{"type": "x", "b": 2, "a": 1}])).unwrap();
        (1..=n)
            .map(|seq| {
                let entry = Envelope {
                    seq,
                    at: "2026-03-02T09:00:00Z",
                    actor: "staff:1",
                    action: "test",
                    subject: "s:1",
                    events: &events,
                }
                .encode();
                let hash = chain_hash(&prev, &entry);
                let stored = StoredEntry { seq, entry, prev_hash: hex::encode(prev), hash: hex::encode(hash) };
                prev = hash;
                stored
            })
            .collect()
    }

    #[test]
    fn the_encoding_is_canonical() {
        let events = serde_json::json!([{"type": "x", "b": 2, "a": 1}]);
        let events = canonical(&events).unwrap();
        let bytes = Envelope { seq: 1, at: "t", actor: "a", action: "b", subject: "c", events: &events }.encode();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"seq":1,"at":"t","actor":"a","action":"b","subject":"c","events":[{"a":1,"b":2,"type":"x"}]}"#
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (n, _) = verify_chain(chain(5)).unwrap();
        assert_eq!(n, 5);
    }

    #[test]
    fn any_change_names_the_first_bad_entry() {
        let mut c = chain(5);
        c[2].entry[10] ^= 1;
        assert_eq!(verify_chain(c).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain(c).unwrap_err().seq, 3);

        let mut c = chain(5);
        c[3].hash = hex::encode([7u8; 32]);
        assert_eq!(verify_chain(c).unwrap_err().seq, 4);
    }
}
