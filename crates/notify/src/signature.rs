//! `Safeguard-Signature` header: `t={unix_seconds},v1={hex hmac-sha256 of "{t}." + body}`.

use ring::hmac;

/// Why a signature header was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=…,v1=…` with an integer `t` and hex `v1`.
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    /// No `v1` value matches the body under this secret.
    #[error("signature does not match")]
    Mismatch,
    /// The signature is authentic but `t` is too far from the receiver's clock (a replay or a bad clock).
    #[error("signature timestamp {t} is more than {tolerance_secs}s from now ({now})")]
    Stale {
        /// The header's timestamp.
        t: i64,
        /// The receiver's clock.
        now: i64,
        /// The allowed distance.
        tolerance_secs: i64,
    },
}

fn tag(secret: &[u8], t: i64, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(format!("{t}.").as_bytes());
    ctx.update(body);
    ctx.sign()
}

/// The signature header value for a body sent at `t`.
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(tag(secret, t, body).as_ref()))
}

/// Checks a signature header, as a receiver would: right HMAC (constant-time compare) and `t` within
/// `tolerance_secs` of `now_unix`.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SignatureError::Malformed("expected key=value pairs"))?;
        match k {
            "t" => {
                if t.is_some() {
                    return Err(SignatureError::Malformed("more than one t"));
                }
                t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed("t is not an integer"))?);
            }
            "v1" => candidates.push(hex::decode(v).map_err(|_| SignatureError::Malformed("v1 is not hex"))?),
            // Unknown schemes are skipped so senders can add new ones without breaking receivers.
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed("no t"))?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed("no v1"));
    }

    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    // Several v1 values allow secret rotation; `hmac::verify` compares in constant time.
    if !candidates.iter().any(|c| hmac::verify(&key, &msg, c).is_ok()) {
        return Err(SignatureError::Mismatch);
    }
    // Checked after the HMAC so `Stale` is only ever reported for authentic headers.
    if now_unix.abs_diff(t) > tolerance_secs.max(0).unsigned_abs() {
        return Err(SignatureError::Stale { t, now: now_unix, tolerance_secs });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"a":1}"#;
    // python3 -c 'import hmac,hashlib;print(hmac.new(b"secret",b"1700000000.{\"a\":1}",hashlib.sha256).hexdigest())'
    const KNOWN: &str = "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686";

    #[test]
    fn matches_an_independently_computed_vector() {
        assert_eq!(signature(b"secret", 1_700_000_000, BODY), KNOWN);
    }

    #[test]
    fn verify_accepts_the_known_vector_within_tolerance() {
        assert_eq!(verify_signature(b"secret", KNOWN, BODY, 1_700_000_000, 300), Ok(()));
        assert_eq!(verify_signature(b"secret", KNOWN, BODY, 1_700_000_300, 300), Ok(()));
        assert_eq!(verify_signature(b"secret", KNOWN, BODY, 1_699_999_700, 300), Ok(()));
    }

    #[test]
    fn verify_rejects_a_flipped_bit_in_the_body() {
        let mut body = BODY.to_vec();
        body[2] ^= 0x01;
        assert_eq!(verify_signature(b"secret", KNOWN, &body, 1_700_000_000, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_rejects_a_wrong_secret() {
        assert_eq!(verify_signature(b"secreT", KNOWN, BODY, 1_700_000_000, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_rejects_a_changed_timestamp() {
        // Moving t without re-signing must break the HMAC, or a replay could simply restamp.
        let header = KNOWN.replace("t=1700000000", "t=1700000001");
        assert_eq!(verify_signature(b"secret", &header, BODY, 1_700_000_000, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_rejects_a_stale_timestamp() {
        assert_eq!(
            verify_signature(b"secret", KNOWN, BODY, 1_700_000_301, 300),
            Err(SignatureError::Stale { t: 1_700_000_000, now: 1_700_000_301, tolerance_secs: 300 })
        );
        assert!(matches!(
            verify_signature(b"secret", KNOWN, BODY, 1_699_999_699, 300),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn verify_rejects_malformed_headers() {
        for header in [
            "",
            "garbage",
            "t=1700000000",
            "v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686",
            "t=soon,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686",
            "t=1700000000,v1=not-hex",
            "t=1,t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686",
        ] {
            assert!(
                matches!(
                    verify_signature(b"secret", header, BODY, 1_700_000_000, 300),
                    Err(SignatureError::Malformed(_))
                ),
                "{header:?} was not reported as malformed"
            );
        }
    }

    #[test]
    fn verify_accepts_any_matching_v1_and_ignores_unknown_schemes() {
        let rotated = format!("t=1700000000,v1={},v0=zzz,{}", "00".repeat(32), &KNOWN[13..]);
        assert_eq!(verify_signature(b"secret", &rotated, BODY, 1_700_000_000, 300), Ok(()));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let header = signature(b"k", i64::MIN, b"");
        assert!(matches!(verify_signature(b"k", &header, b"", i64::MAX, 300), Err(SignatureError::Stale { .. })));
    }
}
