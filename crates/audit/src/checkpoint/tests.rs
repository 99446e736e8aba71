//! Tests for signed checkpoints.

use super::*;

const ORIGIN: &str = "safeguard.example/audit";

fn time(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size: 8,
        // The 8-leaf Certificate Transparency reference tree (see merkle::tests).
        root: crate::parse_hash("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328").unwrap(),
        time: time("2026-03-02T09:00:00Z"),
    }
}

fn seed() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

/// Known answer, computed independently with Python's `cryptography` package (Ed25519
/// with seed 00 01 02 … 1f; key id and body exactly as the crate docs describe them).
const KAT_VKEY: &str = "safeguard.example/audit+a7dacab3+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const KAT_TEXT: &str = "safeguard.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\ntime 2026-03-02T09:00:00Z\n\n\u{2014} safeguard.example/audit p9rKswU9dE1qnXJvx+sb2bvnbbVdEdX+TRRBKSMrSfnyx5xF0iqg26E02YOUOK6+Zpz3rOBQIMAYueTWLJh+7fRJMgw=\n";

#[test]
fn known_answer() {
    let key = SigningKey::from_seed(ORIGIN, &seed()).unwrap();
    assert_eq!(hex::encode(key.public_key()), "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    assert_eq!(key.vkey(), KAT_VKEY);
    let signed = key.sign(&checkpoint()).unwrap();
    assert_eq!(signed.text(), KAT_TEXT);
    assert_eq!(signed.body(), checkpoint().body());
    let verifier = VerifierKey::parse(KAT_VKEY).unwrap();
    assert_eq!(verify(KAT_TEXT, &verifier).unwrap(), checkpoint());
    assert_eq!(SignedCheckpoint::parse(KAT_TEXT).unwrap(), signed);
}

// The example of Go's signed-note reference implementation, golang.org/x/mod/sumdb/note
// (`example_test.go`: ExampleSign, ExampleSign_add_signatures, whose EnochRoot key comes
// from an all-zero random source, so its seed is 32 zero bytes).
const GO_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_PETER_SKEY_B64: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const GO_ENOCH_SIG: &str =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn signed_notes_match_the_go_reference_implementation() {
    let skey = BASE64.decode(GO_PETER_SKEY_B64).unwrap();
    assert_eq!(skey[0], ED25519_TYPE);
    let peter = SigningKey::from_seed("PeterNeumann", &skey[1..].try_into().unwrap()).unwrap();
    assert_eq!(peter.vkey(), GO_PETER_VKEY);
    assert_eq!(hex::encode(peter.key_id()), "c74f20a3");
    let (note, _) = sign_note(GO_TEXT, &peter);
    assert_eq!(note, format!("{GO_TEXT}\n{GO_PETER_SIG}"));

    let enoch = SigningKey::from_seed("EnochRoot", &[0; 32]).unwrap();
    let (enoch_note, _) = sign_note(GO_TEXT, &enoch);
    assert_eq!(enoch_note, format!("{GO_TEXT}\n{GO_ENOCH_SIG}"));

    // A note with both signatures verifies for each key; the other signature is ignored.
    let both = format!("{GO_TEXT}\n{GO_PETER_SIG}{GO_ENOCH_SIG}");
    let parsed = parse_note(&both).unwrap();
    assert_eq!(parsed.body, GO_TEXT);
    verify_note(parsed.body, &parsed.signatures, &VerifierKey::parse(GO_PETER_VKEY).unwrap()).unwrap();
    verify_note(parsed.body, &parsed.signatures, &enoch.verifier()).unwrap();
    let altered = GO_TEXT.replace("answer", "answers");
    assert!(matches!(
        verify_note(&altered, &parsed.signatures, &peter.verifier()),
        Err(CheckpointError::BadSignature { line: 4, .. })
    ));
}

#[test]
fn round_trip_through_pkcs8() {
    let key = SigningKey::generate(ORIGIN).unwrap();
    // The document is PKCS#8 v2 as ring writes it, the layout from_seed builds.
    assert_eq!(key.pkcs8().len(), 83);
    assert_eq!(key.pkcs8()[..16], PKCS8_PREFIX);
    assert_eq!(key.pkcs8()[48..51], PKCS8_MIDDLE);
    assert_eq!(key.pkcs8()[51..], key.public_key());
    let again = SigningKey::from_pkcs8(ORIGIN, key.pkcs8()).unwrap();
    assert_eq!(again.vkey(), key.vkey());
    let signed = key.sign(&checkpoint()).unwrap();
    // Ed25519 is deterministic: the reloaded key signs identically.
    assert_eq!(again.sign(&checkpoint()).unwrap(), signed);
    let verifier: VerifierKey = key.vkey().parse().unwrap();
    assert_eq!(verifier, key.verifier());
    assert_eq!(VerifierKey::new(ORIGIN, key.public_key()).unwrap(), verifier);
    assert_eq!(verify(signed.text(), &verifier).unwrap(), checkpoint());
    let parsed = SignedCheckpoint::parse(&signed.to_string()).unwrap();
    assert_eq!(parsed.verify(&verifier).unwrap(), &checkpoint());
    assert_eq!(parsed.signatures().len(), 1);
    assert_eq!(parsed.signatures()[0].signature.len(), 64);

    assert!(SigningKey::from_pkcs8(ORIGIN, &key.pkcs8()[..82]).is_err());
    let mut wrong_public = key.pkcs8().to_vec();
    wrong_public[82] ^= 1;
    assert!(SigningKey::from_pkcs8(ORIGIN, &wrong_public).is_err());
    assert!(SigningKey::from_pkcs8("has space", key.pkcs8()).is_err());
    assert!(SigningKey::from_pkcs8("a+b", key.pkcs8()).is_err());
    assert!(!format!("{key:?}").contains(&hex::encode(&key.pkcs8()[16..48])));
}

#[test]
fn any_changed_byte_is_rejected() {
    let verifier = VerifierKey::parse(KAT_VKEY).unwrap();
    let bytes = KAT_TEXT.as_bytes();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80] {
            let mut changed = bytes.to_vec();
            changed[i] ^= mask;
            // Bytes that are not UTF-8 never become a &str; the rest must fail to verify.
            if let Ok(text) = String::from_utf8(changed) {
                assert!(verify(&text, &verifier).is_err(), "accepted byte {i} ^ {mask:#x}:\n{text}");
            }
        }
    }
    for cut in 0..bytes.len() {
        if let Ok(text) = std::str::from_utf8(&bytes[..cut]) {
            assert!(verify(text, &verifier).is_err(), "accepted a prefix of {cut} bytes");
        }
    }
}

#[test]
fn another_key_is_rejected() {
    let other = SigningKey::from_seed(ORIGIN, &[7; 32]).unwrap();
    match verify(KAT_TEXT, &other.verifier()) {
        Err(CheckpointError::WrongKeyId { line: 6, expected, found, .. }) => {
            assert_eq!(found, "a7dacab3");
            assert_eq!(expected, hex::encode(other.key_id()));
        }
        other => panic!("{other:?}"),
    }
    let renamed = SigningKey::from_seed("someone.else/log", &seed()).unwrap();
    assert!(matches!(verify(KAT_TEXT, &renamed.verifier()), Err(CheckpointError::NoSignature { .. })));

    // A signature under the right name and key id made with another private key.
    let mut blob = KAT_VKEY_ID.to_vec();
    blob.extend_from_slice(&other.sign(&checkpoint()).unwrap().signatures()[0].signature);
    let forged = format!("{}\n{SIGNATURE_PREFIX}{ORIGIN} {}\n", checkpoint().body(), BASE64.encode(blob));
    let verifier = VerifierKey::parse(KAT_VKEY).unwrap();
    assert!(matches!(verify(&forged, &verifier), Err(CheckpointError::BadSignature { line: 6, .. })));

    // A witness's cosignature alongside is ignored.
    let witness = format!("{KAT_TEXT}{SIGNATURE_PREFIX}witness.example {}\n", BASE64.encode([1u8; 76]));
    assert_eq!(verify(&witness, &verifier).unwrap(), checkpoint());
}

const KAT_VKEY_ID: [u8; 4] = [0xa7, 0xda, 0xca, 0xb3];

fn line_of(err: CheckpointError) -> usize {
    match err {
        CheckpointError::Malformed { line, .. } | CheckpointError::BadBase64 { line, .. } => line,
        other => panic!("not a format error: {other:?}"),
    }
}

#[test]
fn malformed_checkpoints_name_the_line() {
    let key = SigningKey::from_seed(ORIGIN, &seed()).unwrap();
    let verifier = key.verifier();
    let root = BASE64.encode(checkpoint().root);
    // Each body is signed properly, so only its form is wrong.
    let cases: &[(&str, usize)] = &[
        (&format!("{ORIGIN}\n08\n{root}\ntime 2026-03-02T09:00:00Z\n"), 2),
        (&format!("{ORIGIN}\n-8\n{root}\ntime 2026-03-02T09:00:00Z\n"), 2),
        (&format!("{ORIGIN}\n99999999999999999999\n{root}\ntime 2026-03-02T09:00:00Z\n"), 2),
        (&format!("{ORIGIN}\n8\nnot base64!\ntime 2026-03-02T09:00:00Z\n"), 3),
        (&format!("{ORIGIN}\n8\nAAAA\ntime 2026-03-02T09:00:00Z\n"), 3),
        (&format!("{ORIGIN}\n8\n{root}\ntime 2026-03-02T09:00:00+00:00\n"), 4),
        (&format!("{ORIGIN}\n8\n{root}\ntime 2026-03-02T09:00:00.5Z\n"), 4),
        (&format!("{ORIGIN}\n8\n{root}\ntime yesterday\n"), 4),
        (&format!("{ORIGIN}\n8\n{root}\nwhen 2026-03-02T09:00:00Z\n"), 4),
        (&format!("{ORIGIN}\n8\n{root}\n"), 4),
        (&format!("{ORIGIN}\n8\n{root}\ntime 2026-03-02T09:00:00Z\nextra\n"), 5),
        (&format!("\n8\n{root}\ntime 2026-03-02T09:00:00Z\n"), 1),
        (&format!("{ORIGIN}\r\n8\n{root}\ntime 2026-03-02T09:00:00Z\n"), 1),
    ];
    for (body, line) in cases {
        let (text, _) = sign_note(body, &key);
        let err = verify(&text, &verifier).unwrap_err();
        assert_eq!(line_of(err.clone()), *line, "{body:?}: {err}");
        assert!(SignedCheckpoint::parse(&text).is_err());
    }

    let body = checkpoint().body();
    let sig_line = KAT_TEXT.lines().last().unwrap();
    let notes: &[(String, usize)] = &[
        (format!("{body}{sig_line}\n"), 5),                              // no blank line
        (format!("{body}\n"), 6),                                        // no signatures
        (format!("{body}\n{}\n", sig_line.replace('\u{2014}', "-")), 6), // not an em dash
        (format!("{body}\n{sig_line}"), 6),                              // no final newline
        (format!("{body}\n{sig_line}!\n"), 6),                           // bad base64
        (format!("{body}\n{sig_line}\n{sig_line}\n"), 7),                // signed twice
        (format!("{body}\n{SIGNATURE_PREFIX}{ORIGIN}\n"), 6),            // no signature
        (format!("{body}\n{SIGNATURE_PREFIX}{ORIGIN} AAAA\n"), 6),       // too short
    ];
    for (text, line) in notes {
        let err = verify(text, &verifier).unwrap_err();
        assert_eq!(line_of(err.clone()), *line, "{text:?}: {err}");
    }
}

#[test]
fn unsignable_checkpoints_are_refused() {
    let key = SigningKey::from_seed(ORIGIN, &seed()).unwrap();
    for origin in ["", "two\nlines", " padded"] {
        let cp = Checkpoint { origin: origin.into(), ..checkpoint() };
        assert!(matches!(key.sign(&cp), Err(CheckpointError::Unsignable(_))), "{origin:?}");
    }
    let far = Checkpoint { time: jiff::Timestamp::MIN, ..checkpoint() };
    assert!(matches!(key.sign(&far), Err(CheckpointError::Unsignable(_))));
    // Sub-second precision is dropped, not refused.
    let precise = Checkpoint { time: time("2026-03-02T09:00:00.75Z"), ..checkpoint() };
    let signed = key.sign(&precise).unwrap();
    assert_eq!(signed.checkpoint().time, time("2026-03-02T09:00:00Z"));
    assert_eq!(signed.text(), KAT_TEXT);
}

#[test]
fn mangled_verifier_keys_are_rejected() {
    // As Go's TestNewVerifier: every proper substring and every single-byte change fails.
    VerifierKey::parse(GO_PETER_VKEY).unwrap();
    let b = GO_PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if (i, j) != (0, b.len()) {
                let k = std::str::from_utf8(&b[i..j]).unwrap();
                assert!(VerifierKey::parse(k).is_err(), "accepted {k:?}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let k = String::from_utf8(m).unwrap();
        assert!(VerifierKey::parse(&k).is_err(), "accepted {k:?}");
    }
    // Wrong key length and unknown algorithm, with key ids adjusted to match (from Go).
    assert!(VerifierKey::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").is_err());
    assert!(VerifierKey::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
}
