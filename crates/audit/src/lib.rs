//! The documented trail: how audit entries are encoded, chained, put in a Merkle tree and
//! signed, precisely enough for an outside tool that knows only RFC 6962 (or RFC 9162 §2.1)
//! and this text to verify the log.
//!
//! Every accepted command appends exactly one entry. Each entry is covered twice: by a
//! hash chain (section 2), which finds the first altered, missing or reordered entry,
//! and by a Merkle tree (section 3) whose root is signed now and then in a checkpoint
//! (section 4), which lets anyone holding only the public key check that an entry is in
//! the log, that the log only ever grew, and that nobody rewrote the chain to hide a
//! change.
//!
//! # 1. Entries
//!
//! An entry's bytes are the canonical JSON of its envelope ([`Envelope`]), in UTF-8:
//!
//! ```text
//! {"seq":7,"at":"2026-03-02T09:00:00Z","actor":"staff:12","action":"referral.decide","subject":"referral:7","events":[...]}
//! ```
//!
//! - one object with exactly the members `seq, at, actor, action, subject, events`, in
//!   that order, and no whitespace outside strings;
//! - `seq`: the entry's position in the log, from 1, in plain decimal (so every entry
//!   starts with the bytes `{"seq":` followed by its position and a comma);
//! - `at`: when, RFC 3339 in UTC with a `Z`, fractional seconds only when not zero;
//! - `actor`, `action`, `subject`: strings (`staff:12` or `system:<worker>`;
//!   e.g. `referral.decide`; e.g. `referral:7`);
//! - `events`: the JSON array of the command's events, with every object's keys sorted
//!   by their UTF-8 bytes;
//! - strings escape only `"` as `\"`, `\` as `\\`, and control characters U+0000–U+001F
//!   (`\b \t \n \f \r` where they exist, else `\u00XX` with lowercase hex); everything else,
//!   `/` and non-ASCII included, is written as is; integers are plain decimal, other
//!   numbers the shortest form that reads back exactly (e.g. `0.1`, `1e21`).
//!
//! A verifier never re-encodes anything: it hashes the stored bytes as they are, and
//! needs the encoding only to find `seq` at the start.
//!
//! # 2. The hash chain
//!
//! Entry `seq`'s chain hash is `SHA-256(chain hash of entry seq−1 ‖ entry bytes)`, starting
//! from 32 zero bytes ([`GENESIS`]) before entry 1; hashes are stored as 64 lowercase hex
//! digits, with each entry's previous hash stored beside it. Changing, removing or
//! reordering any entry breaks every later hash: [`verify_chain`] and
//! [`verify::LogVerifier`] report the first bad entry.
//!
//! # 3. The Merkle tree (RFC 6962 §2.1)
//!
//! The log of `n` entries is the Merkle tree over its entries in order: entry `seq` is
//! leaf index `seq − 1`, and the tree size is `n`. With SHA-256 ([`merkle`]):
//!
//! - leaf hash: `SHA-256(0x00 ‖ entry bytes)`;
//! - node hash: `SHA-256(0x01 ‖ left child hash ‖ right child hash)`;
//! - the root of the empty tree: `SHA-256("")` (e3b0c442…b855);
//! - the root of one leaf is its leaf hash; a tree of `n > 1` leaves is split at `k`, the
//!   largest power of two smaller than `n`: its root is the node hash of the root over
//!   leaves `[0, k)` and the root over leaves `[k, n)`.
//!
//! Inclusion proofs are RFC 6962 §2.1.1 `PATH(m, D[n])` and consistency proofs §2.1.2
//! `PROOF(m, D[n])`; each is a list of 32-byte hashes, checked with the algorithms of
//! RFC 9162 §2.1.3.2 and §2.1.4.2 ([`merkle::verify_inclusion`],
//! [`merkle::verify_consistency`]).
//!
//! # 4. Checkpoints
//!
//! A checkpoint signs the tree size and root, in the C2SP formats
//! <https://c2sp.org/tlog-checkpoint> and <https://c2sp.org/signed-note> ([`checkpoint`]).
//! The text is UTF-8 without control characters other than the newline `\n` (0x0A), and
//! every line ends with `\n`:
//!
//! ```text
//! safeguard.example/audit
//! 8
//! XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
//! time 2026-03-02T09:00:00Z
//!
//! — safeguard.example/audit p9rKswU9dE1qnXJvx+sb2bvnbbVdEdX+TRRBKSMrSfnyx5xF0iqg26E02YOUOK6+Zpz3rOBQIMAYueTWLJh+7fRJMgw=
//! ```
//!
//! The **body** is the first four lines, exactly:
//!
//! 1. the origin, naming the log (e.g. `safeguard.example/audit`);
//! 2. the tree size, in decimal without leading zeros;
//! 3. the root hash of the tree of that size, in standard base64 with padding (RFC 4648 §4);
//! 4. `time ` and the time of signing, `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC, whole seconds).
//!
//! Then comes a blank line, then one **signature line** per signer:
//! `— <key name> <signature>`, that is the em dash U+2014 (bytes E2 80 94), a space, the
//! key name, a space, and the standard base64 (with padding) of the 4-byte key id followed
//! by the 64-byte Ed25519 signature (RFC 8032) of the body's bytes: everything before the
//! blank line, including the newline that ends the time line. The log's own key is named
//! after the origin. Signature lines from other keys (say, witnesses') may follow and are
//! ignored by a verifier that does not know them.
//!
//! The **key id** is the first 4 bytes of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte
//! Ed25519 public key)`. A **verifier key** is published as
//! `<key name>+<key id as 8 lowercase hex digits>+<base64(0x01 ‖ public key)>`, the form
//! of Go's `golang.org/x/mod/sumdb/note`; a key name is non-empty and has no spaces and no `+`.
//!
//! To verify a checkpoint: split the text at its last blank line; find the signature line
//! with the expected key name and key id; check the Ed25519 signature over the body; then
//! read the body, which must be exactly in the form above. The example above is signed by
//! the key with the Ed25519 seed `00 01 02 … 1f` (32 bytes), verifier key
//! `safeguard.example/audit+a7dacab3+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4`, over
//! the 8-entry tree of the Certificate Transparency reference test data.
//!
//! # 5. Verifying the whole log
//!
//! Read the entries in order and recompute both the chain and the tree; wherever a
//! checkpoint's size is reached, its root must equal the recomputed root. A checkpoint
//! that does not match while the chain does shows that an entry after the previous matching
//! checkpoint was altered and the chain rewritten after it. [`verify::LogVerifier`] does
//! this in constant memory.

pub mod checkpoint;
pub mod merkle;
pub mod verify;

pub use checkpoint::{Checkpoint, SignedCheckpoint, SigningKey, VerifierKey};
pub use verify::{EntryRef, LogVerifier};

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
    ///
    /// The envelope is a struct and its events are canonical already, so the encoding is
    /// deterministic. It cannot fail for the types here, but if it ever did the entry
    /// must be refused, never appended empty.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// The chain hash of an entry given the previous entry's chain hash.
pub fn chain_hash(prev: &Hash, entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(entry);
    h.finalize().into()
}

/// Parses a hex-encoded hash (64 hex digits, either case).
pub fn parse_hash(hex_str: &str) -> Option<Hash> {
    // A lookup table instead of the `hex` crate: verification decodes two or three
    // stored hashes per entry, and this is several times faster (and allocates nothing).
    let digits = hex_str.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (HEX_DIGIT[usize::from(pair[0])], HEX_DIGIT[usize::from(pair[1])]);
        invalid |= hi | lo;
        *byte = (hi << 4) | lo;
    }
    // Valid digits are 0..=15; anything else was marked 0xff.
    (invalid & 0xf0 == 0).then_some(out)
}

/// The value of each ASCII hex digit, 0xff for every other byte.
static HEX_DIGIT: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

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
                .encode()
                .unwrap();
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
        let bytes =
            Envelope { seq: 1, at: "t", actor: "a", action: "b", subject: "c", events: &events }.encode().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"seq":1,"at":"t","actor":"a","action":"b","subject":"c","events":[{"a":1,"b":2,"type":"x"}]}"#
        );
    }

    #[test]
    fn parse_hash_accepts_exactly_64_hex_digits() {
        let lower = "00ff10a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8";
        let want: Hash = hex::decode(lower).unwrap().try_into().unwrap();
        assert_eq!(parse_hash(lower), Some(want));
        assert_eq!(parse_hash(&lower.to_uppercase()), Some(want));
        assert_eq!(parse_hash(&lower[..62]), None);
        assert_eq!(parse_hash(&format!("{lower}00")), None);
        assert_eq!(parse_hash(""), None);
        for bad in ["g", "G", " ", "/", ":", "@", "`", "é"] {
            let s = format!("{bad}{}", &lower[bad.len()..]);
            assert_eq!(parse_hash(&s), None, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_hash_agrees_with_the_hex_crate(s in "[0-9a-fA-Fg-z ]{60,66}") {
            let want = hex::decode(&s).ok().and_then(|b| <Hash>::try_from(b).ok());
            proptest::prop_assert_eq!(parse_hash(&s), want);
        }
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
