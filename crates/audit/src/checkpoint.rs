//! Signed checkpoints: the log's size and Merkle root at a moment, signed with Ed25519,
//! written as a C2SP checkpoint (<https://c2sp.org/tlog-checkpoint>) inside a signed note
//! (<https://c2sp.org/signed-note>). The exact text format is in the crate docs.
//!
//! Anyone holding the verifier key can check a checkpoint offline, and two checkpoints
//! together with a consistency proof ([`crate::merkle::verify_consistency`]) show the log
//! only ever grew between them.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

use crate::Hash;

/// The signed-note signature type byte for Ed25519.
pub const ED25519_TYPE: u8 = 0x01;

/// What starts every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The signed-note limit on signatures per note; more is an attack, not a use.
const MAX_SIGNATURES: usize = 100;

/// A tree head: the log had `size` entries with Merkle `root` at `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Which log: a schema-less URL such as `safeguard.example/audit`.
    pub origin: String,
    /// The number of entries.
    pub size: u64,
    /// The Merkle root of those entries ([`crate::merkle`]).
    pub root: Hash,
    /// When it was signed; written to whole seconds (any fraction is dropped).
    pub time: jiff::Timestamp,
}

/// What is wrong with a checkpoint, a signature or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A line of the note is not as the format says.
    #[error("line {line}: {reason}")]
    Malformed {
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Something that should be base64 is not (or not in its one canonical form).
    #[error("line {line}: bad base64 in the {what}")]
    BadBase64 {
        /// The line, from 1.
        line: usize,
        /// The root hash or the signature.
        what: &'static str,
    },
    /// No signature line names the key.
    #[error("no signature by key {name:?} (signed by: {found})")]
    NoSignature {
        /// The key looked for.
        name: String,
        /// The key names that did sign, comma-separated.
        found: String,
    },
    /// A signature names the key but carries another key's id.
    #[error("line {line}: the signature by {name:?} has key id {found}, but that key's id is {expected}")]
    WrongKeyId {
        /// The signature line, from 1.
        line: usize,
        /// The key name.
        name: String,
        /// The key's id (hex).
        expected: String,
        /// The id on the signature (hex).
        found: String,
    },
    /// The signature does not verify: the text or the signature was altered, or another key signed.
    #[error("line {line}: the signature by {name:?} does not verify (the checkpoint or the signature was altered)")]
    BadSignature {
        /// The signature line, from 1.
        line: usize,
        /// The key name.
        name: String,
    },
    /// A key (name, verifier key string or PKCS#8 document) is unusable.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A checkpoint that cannot be written in the format (checked before signing).
    #[error("cannot sign this checkpoint: {0}")]
    Unsignable(String),
}

fn malformed(line: usize, reason: impl Into<String>) -> CheckpointError {
    CheckpointError::Malformed { line, reason: reason.into() }
}

/// RFC 3339 in UTC to the second, e.g. `2026-03-02T09:00:00Z`.
fn format_time(time: &jiff::Timestamp) -> String {
    format!("{time:.0}")
}

/// The length of every time written by [`format_time`] for years 0000–9999.
const TIME_LEN: usize = "2026-03-02T09:00:00Z".len();

impl Checkpoint {
    /// The checkpoint body, the signed text: four lines, each ending in `\n`.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\ntime {}\n", self.origin, self.size, BASE64.encode(self.root), format_time(&self.time))
    }

    /// Reads a body written by [`Checkpoint::body`]; anything else, even an equivalent
    /// spelling, is rejected, so a body has exactly one reading.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let Some(text) = body.strip_suffix('\n') else {
            return Err(malformed(body.lines().count().max(1), "the checkpoint must end with a newline"));
        };
        let lines: Vec<&str> = text.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            if line.chars().any(char::is_control) {
                return Err(malformed(i + 1, "control characters are not allowed"));
            }
        }
        let [origin, size, root, time] = lines[..] else {
            let line = lines.len().min(4) + 1;
            let reason = if lines.len() < 4 {
                "the checkpoint ends early: it needs origin, size, root and time lines"
            } else {
                "unexpected line after the time line"
            };
            return Err(malformed(line, reason));
        };
        if origin.is_empty() {
            return Err(malformed(1, "the origin is empty"));
        }
        if origin.trim() != origin {
            return Err(malformed(1, "the origin has leading or trailing spaces"));
        }
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(malformed(2, "the tree size must be a decimal number without leading zeros"));
        }
        let size: u64 = size.parse().map_err(|_| malformed(2, "the tree size is too large"))?;
        let root_bytes = BASE64.decode(root).map_err(|_| CheckpointError::BadBase64 { line: 3, what: "root hash" })?;
        let root: Hash = root_bytes.try_into().map_err(|_| malformed(3, "the root hash is not 32 bytes"))?;
        let Some(time_text) = time.strip_prefix("time ") else {
            return Err(malformed(4, "expected `time <RFC 3339 UTC time>`"));
        };
        let time: jiff::Timestamp =
            time_text.parse().map_err(|e| malformed(4, format!("the time is not an RFC 3339 time: {e}")))?;
        if time_text.len() != TIME_LEN || format_time(&time) != time_text {
            return Err(malformed(4, "the time must be written YYYY-MM-DDTHH:MM:SSZ"));
        }
        let checkpoint = Checkpoint { origin: origin.to_string(), size, root, time };
        // Belt and braces: the one reading must write back to the very same bytes.
        if checkpoint.body() != body {
            return Err(malformed(1, "the checkpoint is not in canonical form"));
        }
        Ok(checkpoint)
    }
}

/// Checks a key name as signed-note requires: not empty, no spaces, no `+`.
fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+') {
        return Err(CheckpointError::InvalidKey(format!(
            "key name {name:?} must be non-empty, without spaces, control characters or `+`"
        )));
    }
    Ok(())
}

/// The signed-note key id: the first four bytes of
/// `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_TYPE]);
    h.update(public_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// An Ed25519 signing key with its signed-note name.
pub struct SigningKey {
    name: String,
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
    public_key: [u8; 32],
    key_id: [u8; 4],
}

impl fmt::Debug for SigningKey {
    // Never print the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("name", &self.name).field("key_id", &hex::encode(self.key_id)).finish()
    }
}

/// The PKCS#8 v2 (RFC 5958 `OneAsymmetricKey`) layout for Ed25519, as ring writes it:
/// this prefix, the 32-byte seed, [`PKCS8_MIDDLE`], the 32-byte public key.
const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// See [`PKCS8_PREFIX`]: `[1] IMPLICIT BIT STRING` of 33 bytes, no unused bits.
const PKCS8_MIDDLE: [u8; 3] = [0x81, 0x21, 0x00];

impl SigningKey {
    /// A new random key called `name` (use the log's origin).
    pub fn generate(name: &str) -> Result<SigningKey, CheckpointError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| CheckpointError::InvalidKey("the system random number generator failed".into()))?;
        SigningKey::from_pkcs8(name, document.as_ref())
    }

    /// The key called `name` in a PKCS#8 v2 document (DER, with the public key, as
    /// [`SigningKey::pkcs8`] writes).
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<SigningKey, CheckpointError> {
        check_key_name(name)?;
        // from_pkcs8 also checks that the public key belongs to the private one.
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|e| CheckpointError::InvalidKey(format!("not an Ed25519 PKCS#8 v2 document: {e}")))?;
        let public_key = public_key_of(&pair)?;
        Ok(SigningKey {
            name: name.to_string(),
            key_id: key_id(name, &public_key),
            public_key,
            pair,
            pkcs8: pkcs8.to_vec(),
        })
    }

    /// The key called `name` with this 32-byte Ed25519 seed (RFC 8032 private key), for
    /// known-answer tests and keys kept as raw seeds.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<SigningKey, CheckpointError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| CheckpointError::InvalidKey(format!("bad Ed25519 seed: {e}")))?;
        let public = public_key_of(&pair)?;
        let mut pkcs8 = Vec::with_capacity(83);
        pkcs8.extend_from_slice(&PKCS8_PREFIX);
        pkcs8.extend_from_slice(seed);
        pkcs8.extend_from_slice(&PKCS8_MIDDLE);
        pkcs8.extend_from_slice(&public);
        SigningKey::from_pkcs8(name, &pkcs8)
    }

    /// The private key as a PKCS#8 v2 DER document, to keep secret (and load with
    /// [`SigningKey::from_pkcs8`]).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key's name, which signature lines carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// The signed-note key id ([`key_id`]).
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The verifier for this key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey { name: self.name.clone(), key_id: self.key_id, public_key: self.public_key() }
    }

    /// The verifier key string `name+keyid+base64(0x01 ‖ public key)` to publish.
    pub fn vkey(&self) -> String {
        self.verifier().to_string()
    }

    /// Signs a checkpoint. Fails only for a checkpoint the format cannot carry (an empty
    /// origin, one with a newline, a year outside 0000–9999).
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        let body = checkpoint.body();
        // Sign only what verifies: the body must read back as itself.
        let parsed = Checkpoint::parse_body(&body).map_err(|e| CheckpointError::Unsignable(e.to_string()))?;
        let (text, signature) = sign_note(&body, self);
        // The body's four lines, the blank line, then the signature.
        let signature = NoteSignature { name: self.name.clone(), key_id: self.key_id, signature, line: 6 };
        Ok(SignedCheckpoint { body_len: body.len(), text, checkpoint: parsed, signatures: vec![signature] })
    }
}

fn public_key_of(pair: &Ed25519KeyPair) -> Result<[u8; 32], CheckpointError> {
    pair.public_key().as_ref().try_into().map_err(|_| CheckpointError::InvalidKey("public key is not 32 bytes".into()))
}

/// Signs `body` as a signed note (the body, a blank line, one signature line); also
/// returns the raw signature.
fn sign_note(body: &str, key: &SigningKey) -> (String, Vec<u8>) {
    let signature = key.pair.sign(body.as_bytes());
    let mut blob = Vec::with_capacity(4 + 64);
    blob.extend_from_slice(&key.key_id);
    blob.extend_from_slice(signature.as_ref());
    let text = format!("{body}\n{SIGNATURE_PREFIX}{} {}\n", key.name, BASE64.encode(&blob));
    (text, signature.as_ref().to_vec())
}

/// An Ed25519 public key with its signed-note name, as a verifier holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: [u8; 4],
    public_key: [u8; 32],
}

impl VerifierKey {
    /// The verifier for the raw 32-byte Ed25519 public key called `name`.
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<VerifierKey, CheckpointError> {
        check_key_name(name)?;
        Ok(VerifierKey { name: name.to_string(), key_id: key_id(name, &public_key), public_key })
    }

    /// Reads a verifier key string `name+keyid+base64(0x01 ‖ public key)` (as Go's
    /// `golang.org/x/mod/sumdb/note` writes them).
    pub fn parse(vkey: &str) -> Result<VerifierKey, CheckpointError> {
        let bad = |why: &str| CheckpointError::InvalidKey(format!("verifier key {vkey:?}: {why}"));
        // Names cannot hold `+` but base64 can: only the first two `+` separate.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+keyid+key"));
        };
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad("the key id must be 8 lowercase hex digits"));
        }
        let key = BASE64.decode(key).map_err(|_| bad("the key is not base64"))?;
        let Some((&ED25519_TYPE, public_key)) = key.split_first() else {
            return Err(bad("not an Ed25519 key (type byte 0x01)"));
        };
        let public_key: [u8; 32] = public_key.try_into().map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let verifier = VerifierKey::new(name, public_key)?;
        if hex::encode(verifier.key_id) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signed-note key id ([`key_id`]).
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }
}

impl fmt::Display for VerifierKey {
    /// `name+keyid+base64(0x01 ‖ public key)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = [0u8; 33];
        key[0] = ED25519_TYPE;
        key[1..].copy_from_slice(&self.public_key);
        write!(f, "{}+{}+{}", self.name, hex::encode(self.key_id), BASE64.encode(key))
    }
}

impl FromStr for VerifierKey {
    type Err = CheckpointError;

    fn from_str(vkey: &str) -> Result<VerifierKey, CheckpointError> {
        VerifierKey::parse(vkey)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signing key's name.
    pub name: String,
    /// The signing key's id.
    pub key_id: [u8; 4],
    /// The signature (64 bytes for Ed25519; other types may differ).
    pub signature: Vec<u8>,
    /// Its line in the note, from 1.
    line: usize,
}

/// A note split into its signed text and its signatures; no signature checked yet.
struct Note<'a> {
    body: &'a str,
    signatures: Vec<NoteSignature>,
}

/// Splits a signed note (signed-note's rules): the text up to the last blank line, then
/// one or more signature lines `— <name> <base64(key id ‖ signature)>`, each ending `\n`.
fn parse_note(text: &str) -> Result<Note<'_>, CheckpointError> {
    let lines = text.split_inclusive('\n').count();
    if !text.ends_with('\n') {
        return Err(malformed(lines, "the note must end with a newline"));
    }
    for (i, line) in text.split('\n').enumerate() {
        if line.chars().any(char::is_control) {
            return Err(malformed(i + 1, "control characters are not allowed"));
        }
    }
    let Some(split) = text.rfind("\n\n") else {
        return Err(malformed(lines, "no blank line before the signatures"));
    };
    let body = &text[..split + 1];
    let first_signature_line = body.split_inclusive('\n').count() + 2;
    let mut signatures: Vec<NoteSignature> = Vec::new();
    for (i, line) in text[split + 2..].split_terminator('\n').enumerate() {
        let line_no = first_signature_line + i;
        let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
            return Err(malformed(line_no, "a signature line must start with an em dash (U+2014) and a space"));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(malformed(line_no, "a signature line is `— <key name> <signature>`"));
        };
        if check_key_name(name).is_err() || b64.contains(' ') {
            return Err(malformed(line_no, "a signature line is `— <key name> <signature>`"));
        }
        let blob = BASE64.decode(b64).map_err(|_| CheckpointError::BadBase64 { line: line_no, what: "signature" })?;
        if blob.len() < 5 {
            return Err(malformed(line_no, "the signature is too short"));
        }
        let key_id = [blob[0], blob[1], blob[2], blob[3]];
        if signatures.iter().any(|s| s.name == name && s.key_id == key_id) {
            return Err(malformed(line_no, "the same key signed twice"));
        }
        signatures.push(NoteSignature { name: name.to_string(), key_id, signature: blob[4..].to_vec(), line: line_no });
        if signatures.len() > MAX_SIGNATURES {
            return Err(malformed(line_no, "too many signatures"));
        }
    }
    if signatures.is_empty() {
        return Err(malformed(lines + 1, "no signature lines after the blank line"));
    }
    Ok(Note { body, signatures })
}

/// Checks `key`'s signature on a note; other keys' signatures (say, witnesses') are ignored.
fn verify_note(body: &str, signatures: &[NoteSignature], key: &VerifierKey) -> Result<(), CheckpointError> {
    let mut named = signatures.iter().filter(|s| s.name == key.name).peekable();
    if named.peek().is_none() {
        let found: Vec<&str> = signatures.iter().map(|s| s.name.as_str()).collect();
        return Err(CheckpointError::NoSignature { name: key.name.clone(), found: found.join(", ") });
    }
    let mut wrong_id = None;
    for s in named {
        if s.key_id != key.key_id {
            wrong_id.get_or_insert(s);
            continue;
        }
        let bad = CheckpointError::BadSignature { line: s.line, name: s.name.clone() };
        if s.signature.len() != 64 {
            return Err(bad);
        }
        return UnparsedPublicKey::new(&ED25519, &key.public_key)
            .verify(body.as_bytes(), &s.signature)
            .map_err(|_| bad);
    }
    match wrong_id {
        Some(s) => Err(CheckpointError::WrongKeyId {
            line: s.line,
            name: s.name.clone(),
            expected: hex::encode(key.key_id),
            found: hex::encode(s.key_id),
        }),
        None => Err(CheckpointError::NoSignature { name: key.name.clone(), found: String::new() }),
    }
}

/// A checkpoint in its signed text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    text: String,
    body_len: usize,
    checkpoint: Checkpoint,
    signatures: Vec<NoteSignature>,
}

impl SignedCheckpoint {
    /// Reads a signed checkpoint's text, checking its form but not its signatures.
    pub fn parse(text: &str) -> Result<SignedCheckpoint, CheckpointError> {
        let note = parse_note(text)?;
        let checkpoint = Checkpoint::parse_body(note.body)?;
        Ok(SignedCheckpoint {
            text: text.to_string(),
            body_len: note.body.len(),
            checkpoint,
            signatures: note.signatures,
        })
    }

    /// The whole text: body, blank line, signature lines.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signed body.
    pub fn body(&self) -> &str {
        &self.text[..self.body_len]
    }

    /// The checkpoint, as read from the body (unverified until [`SignedCheckpoint::verify`]).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The checkpoint, if `key` signed it.
    pub fn verify(&self, key: &VerifierKey) -> Result<&Checkpoint, CheckpointError> {
        verify_note(self.body(), &self.signatures, key)?;
        Ok(&self.checkpoint)
    }
}

impl fmt::Display for SignedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads a signed checkpoint and returns it if `key` signed it.
pub fn verify(text: &str, key: &VerifierKey) -> Result<Checkpoint, CheckpointError> {
    let note = parse_note(text)?;
    // Check the signature before trusting anything the body says.
    verify_note(note.body, &note.signatures, key)?;
    Checkpoint::parse_body(note.body)
}

#[cfg(test)]
mod tests;
