//! The notifier's channels: email over SMTP and signed JSON webhooks.
//!
//! # Channel contract
//!
//! Each channel makes **one attempt** per call and reports the outcome; it never retries, sleeps or
//! queues. The caller (the delivery worker) owns retries and backoff and decides them from
//! [`SendError::retryable`]:
//!
//! * `retryable = true` — the failure may go away by itself: a connection refused or reset, a
//!   timeout, a TLS handshake that broke off, an SMTP `4xx` reply, an HTTP `5xx`, `429` or `408`.
//! * `retryable = false` — trying again will fail the same way until someone changes something: an
//!   SMTP `5xx` reply, an HTTP `3xx` or other `4xx`, a malformed address or URL.
//!
//! A channel can only say the attempt *failed*; it cannot know the message was *not* delivered (a
//! receiver may accept and then time out before answering). So every message carries the caller's
//! idempotency key: email as `Message-ID: <{key}@safeguard>` and `X-Safeguard-Delivery: {key}`,
//! webhooks as `Idempotency-Key: {key}`. Receivers use it to drop duplicates.
//!
//! This crate knows nothing about the database or the domain: it takes already-rendered content.
//!
//! # Webhook signatures
//!
//! Every webhook POST carries
//!
//! ```text
//! Safeguard-Signature: t=1700000000,v1=49f24e53…1686
//! ```
//!
//! where `t` is the sender's clock in Unix seconds and `v1` is the lowercase hex
//! HMAC-SHA256, keyed with the endpoint's secret (its UTF-8 bytes), of the bytes `"{t}."` followed
//! by the exact request body. A receiver recomputes the HMAC over the raw body it received (before
//! any JSON parsing), compares in constant time, and rejects a `t` too far from its own clock, which
//! bounds replays. [`verify_signature`] does exactly that. Receivers should ignore unknown `key=value`
//! pairs and accept any of several `v1` values, so secrets can be rotated and schemes added later.
//!
//! # Testing
//!
//! With the `testing` feature, [`testing`] has an in-process SMTP server and webhook receiver.

#![warn(missing_docs)]

mod signature;
mod smtp;
mod webhook;

#[cfg(feature = "testing")]
pub mod testing;

pub use signature::{SignatureError, signature, verify_signature};
pub use smtp::{ConfigError, Email, Mailer, Security, SmtpConfig};
pub use webhook::{WebhookCall, WebhookClient};

/// Why a send failed and whether trying again later might work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Whether the same call might succeed later (see the crate docs for the rules).
    pub retryable: bool,
    /// What went wrong, for logs and the delivery record; never contains secrets.
    pub message: String,
}

impl SendError {
    /// A failure that may clear up by itself.
    pub fn transient(message: impl Into<String>) -> SendError {
        SendError { retryable: true, message: message.into() }
    }

    /// A failure that will repeat until something is changed.
    pub fn permanent(message: impl Into<String>) -> SendError {
        SendError { retryable: false, message: message.into() }
    }
}

/// An error and its sources on one line, since the top-level `Display` often hides the useful part.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        // Some libraries repeat their source in their own message.
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}
