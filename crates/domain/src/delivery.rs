//! Delivery of notifications beyond the inbox: who may be emailed, which channels a
//! notification goes out by, and when a failed delivery is tried again.
//!
//! The inbox is written in the same transaction as the event, so it cannot fail. Email
//! and webhooks leave the building: each is an outbox row, tried until it is accepted or
//! until the retry policy gives up, when a person is told it failed.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The ways a notification reaches someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The in-app inbox (always).
    Inbox,
    /// Email, to staff who have an address and have not turned it off.
    Email,
    /// A signed HTTP call to a partner agency's system.
    Webhook,
}

impl Channel {
    /// The code used in the store and the API.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Inbox => "inbox",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    /// Parses a channel code.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "inbox" => Ok(Channel::Inbox),
            "email" => Ok(Channel::Email),
            "webhook" => Ok(Channel::Webhook),
            _ => Err("must be inbox, email or webhook".into()),
        }
    }
}

/// A work email address: one `@`, a dotted domain, no spaces; at most 254 characters.
///
/// Deliberately modest: the SMTP server is the real judge, and a refused address ends as
/// a failed delivery that a person is told about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address, folding the domain to lower case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.len() > 254 {
            return Err("an email address has at most 254 characters".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("must be an email address such as ana.lopez@council.gov.uk".into());
        };
        let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"' | '@');
        if local.is_empty() || local.len() > 64 || local.chars().any(bad) {
            return Err("the part before the @ is not valid".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok =
            |l: &&str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !l.starts_with('-');
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err("the domain after the @ is not valid (e.g. council.gov.uk)".into());
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a partner agency's webhooks go: an `https://` URL (or `http://` to this machine,
/// for testing and for a relay on the same host).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Parses a URL.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let rest = if let Some(rest) = s.strip_prefix("https://") {
            rest
        } else if let Some(rest) = s.strip_prefix("http://") {
            let host = rest.split(['/', ':']).next().unwrap_or("");
            if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
                return Err("must be an https:// URL (plain http only to this machine)".into());
            }
            rest
        } else {
            return Err("must be an https:// URL".into());
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || s.len() > 2000 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be a URL with a host and no spaces".into());
        }
        Ok(Self(s.to_string()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// When a failed delivery is tried again, and when to give up.
///
/// Exponential backoff with "equal jitter": the n-th retry waits between half and all of
/// `first × 2ⁿ⁻¹` (capped at `longest`), so a recovering mail server is not hit by every
/// process at the same instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The wait before the first retry (before jitter).
    pub first: SignedDuration,
    /// The longest wait between tries.
    pub longest: SignedDuration,
    /// Tries in all, the first included; after the last failure the delivery has failed.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, doubling to at most an hour, 10 tries: about four and a half hours in all.
    fn default() -> Self {
        Self { first: SignedDuration::from_secs(30), longest: SignedDuration::from_hours(1), attempts: 10 }
    }
}

/// What to do after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Stop: the delivery has failed and someone must be told.
    GiveUp,
}

impl RetryPolicy {
    /// What follows the failure of try number `attempts` (1 for the first try), given a
    /// `jitter` drawn uniformly from `[0, 1)`, and whether the error is worth retrying.
    pub fn after_failure(&self, attempts: u32, retryable: bool, now: Timestamp, jitter: f64) -> AfterFailure {
        if !retryable || attempts >= self.attempts {
            return AfterFailure::GiveUp;
        }
        let full = self.delay(attempts);
        let jitter = jitter.clamp(0.0, 1.0);
        let wait = SignedDuration::from_secs_f64(full.as_secs_f64() * (0.5 + 0.5 * jitter));
        match now.checked_add(wait) {
            Ok(at) => AfterFailure::RetryAt(at),
            Err(_) => AfterFailure::GiveUp,
        }
    }

    /// The wait (before jitter) after the failure of try number `attempts`.
    pub fn delay(&self, attempts: u32) -> SignedDuration {
        let doublings = attempts.saturating_sub(1).min(30);
        let secs = self.first.as_secs_f64() * f64::from(1u32 << doublings);
        SignedDuration::from_secs_f64(secs.min(self.longest.as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn email_addresses_parse_or_say_why() {
        assert_eq!(EmailAddress::parse(" Ana.Lopez@Council.GOV.uk ").unwrap().as_str(), "Ana.Lopez@council.gov.uk");
        for (raw, why) in [
            ("", "required"),
            ("ana", "such as"),
            ("@council.gov.uk", "before the @"),
            ("ana lopez@council.gov.uk", "before the @"),
            ("ana@localhost", "domain"),
            ("ana@council..uk", "domain"),
            ("ana@-council.uk", "domain"),
            ("a<b>@council.uk", "before the @"),
        ] {
            let err = EmailAddress::parse(raw).unwrap_err();
            assert!(err.contains(why), "{raw:?}: {err}");
        }
        assert!(EmailAddress::parse(&format!("{}@x.uk", "a".repeat(65))).is_err());
    }

    #[test]
    fn webhook_urls_are_https_or_local() {
        assert!(WebhookUrl::parse("https://control-room.police.example/hooks").is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/hooks").is_ok());
        assert!(WebhookUrl::parse("http://police.example/hooks").unwrap_err().contains("https"));
        assert!(WebhookUrl::parse("ftp://x").is_err());
        assert!(WebhookUrl::parse("https://").is_err());
        assert!(WebhookUrl::parse("https://a b").is_err());
    }

    #[test]
    fn channels_round_trip_their_codes() {
        for c in [Channel::Inbox, Channel::Email, Channel::Webhook] {
            assert_eq!(Channel::parse(c.code()).unwrap(), c);
        }
        assert!(Channel::parse("sms").is_err());
    }

    #[test]
    fn waits_double_up_to_the_longest() {
        let p = RetryPolicy::default();
        let secs: Vec<i64> = (1..=10).map(|n| p.delay(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        // Huge attempt numbers neither overflow nor exceed the cap.
        assert_eq!(p.delay(u32::MAX).as_secs(), 3600);
    }

    #[test]
    fn jitter_keeps_the_wait_between_half_and_all_of_the_delay() {
        let p = RetryPolicy::default();
        let now = t("2026-03-02T09:00:00Z");
        assert_eq!(p.after_failure(3, true, now, 0.0), AfterFailure::RetryAt(t("2026-03-02T09:01:00Z")));
        assert_eq!(p.after_failure(3, true, now, 1.0), AfterFailure::RetryAt(t("2026-03-02T09:02:00Z")));
        assert_eq!(p.after_failure(3, true, now, 0.5), AfterFailure::RetryAt(t("2026-03-02T09:01:30Z")));
        // Out-of-range jitter is clamped rather than trusted.
        assert_eq!(p.after_failure(3, true, now, 7.0), AfterFailure::RetryAt(t("2026-03-02T09:02:00Z")));
    }

    #[test]
    fn gives_up_after_the_last_try_or_at_once_when_retrying_cannot_help() {
        let p = RetryPolicy { attempts: 3, ..RetryPolicy::default() };
        let now = t("2026-03-02T09:00:00Z");
        assert!(matches!(p.after_failure(2, true, now, 0.0), AfterFailure::RetryAt(_)));
        assert_eq!(p.after_failure(3, true, now, 0.0), AfterFailure::GiveUp);
        assert_eq!(p.after_failure(1, false, now, 0.0), AfterFailure::GiveUp);
    }

    #[test]
    fn the_default_policy_outlasts_a_ten_minute_outage() {
        // Worst case (all jitter at the low end): the tries before giving up span far more
        // than ten minutes, so an outage of that length loses nothing.
        let p = RetryPolicy::default();
        let total: f64 = (1..p.attempts).map(|n| p.delay(n).as_secs_f64() * 0.5).sum();
        assert!(total > 600.0 * 6.0, "{total}");
    }
}
