//! Email over SMTP through lettre's pooled async transport.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;

use crate::{SendError, error_chain};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text (`smtp://`): only for a relay on localhost or a trusted network.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (`smtp+starttls://`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Tls,
}

/// Where and how to send email.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Server host name or IP address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Transport security.
    pub security: Security,
    /// User name and password for SMTP AUTH, if the server wants them.
    pub credentials: Option<(String, String)>,
    /// The `From` mailbox, e.g. `Safeguard <safeguard@example.org>`.
    pub from: String,
    /// Limit on connecting and on each SMTP command.
    pub timeout: Duration,
    /// Most connections open at once; sends beyond this wait for a free one.
    pub pool_size: u32,
}

// By hand so the password never reaches a log.
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("credentials", &self.credentials.as_ref().map(|(user, _)| (user, "<redacted>")))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// A bad SMTP configuration; the message names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The `smtp://…` URL.
    #[error("smtp url: {0}")]
    SmtpUrl(String),
    /// The `From` address.
    #[error("from address: {0}")]
    From(String),
    /// Setting up TLS for the server.
    #[error("smtp tls: {0}")]
    Tls(String),
}

impl SmtpConfig {
    /// How long to wait for the server by default: generous, since some relays are slow to greet.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Connections kept open by default.
    pub const DEFAULT_POOL_SIZE: u32 = 10;

    /// Parses `smtp://[user:pass@]host[:port]` (no TLS, default port 25), `smtp+starttls://…` (default
    /// 587), `smtps://…` (implicit TLS, default 465). `from` given separately.
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig, ConfigError> {
        let bad = |msg: String| ConfigError::SmtpUrl(msg);
        let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (Security::None, 25),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            other => return Err(bad(format!("unknown scheme `{other}` (expected smtp, smtp+starttls or smtps)"))),
        };
        let host = match parsed.host() {
            Some(url::Host::Domain("")) | None => return Err(bad("no host".into())),
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad("unexpected path, query or fragment".into()));
        }
        let decode = |s: &str, what: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad(format!("{what} is not UTF-8 after percent-decoding")))
        };
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err(bad("password without a user name".into())),
            (user, pass) => Some((decode(user, "user name")?, decode(pass.unwrap_or(""), "password")?)),
        };
        let cfg = SmtpConfig {
            host,
            port: parsed.port().unwrap_or(default_port),
            security,
            credentials,
            from: from.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
            pool_size: Self::DEFAULT_POOL_SIZE,
        };
        parse_from(&cfg.from)?;
        Ok(cfg)
    }
}

fn parse_from(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse::<Mailbox>().map_err(|e| ConfigError::From(format!("`{from}`: {e}")))
}

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The one recipient's address, optionally with a display name.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Stable across retries of the same delivery, so receivers can spot duplicates.
    pub idempotency_key: String,
}

/// Sends email through one SMTP server, reusing connections.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    // lettre's pool caps idle connections, not open ones; this caps concurrent sends so a burst
    // reuses `pool_size` connections instead of opening one per message.
    permits: Arc<Semaphore>,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish_non_exhaustive()
    }
}

const DELIVERY_HEADER: HeaderName = HeaderName::new_from_ascii_str("X-Safeguard-Delivery");

impl Mailer {
    /// Builds the transport; connects lazily on the first send.
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, ConfigError> {
        let from = parse_from(&cfg.from)?;
        let tls_err = |e: lettre::transport::smtp::Error| ConfigError::Tls(error_chain(&e));
        let mut builder = match cfg.security {
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host).map_err(tls_err)?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(tls_err)?,
        };
        let pool_size = cfg.pool_size.max(1);
        builder = builder
            .port(cfg.port)
            .timeout(Some(cfg.timeout))
            .pool_config(PoolConfig::new().max_size(pool_size).idle_timeout(Duration::from_secs(60)));
        if let Some((user, pass)) = &cfg.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Mailer { transport: builder.build(), from, permits: Arc::new(Semaphore::new(pool_size as usize)) })
    }

    /// multipart/alternative (text + html); headers: Message-ID `<{idempotency_key}@safeguard>`,
    /// `X-Safeguard-Delivery: {idempotency_key}`.
    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let message = self.build(email)?;
        // The semaphore is never closed, so acquiring cannot fail; treat it as transient regardless.
        let _permit = self.permits.acquire().await.map_err(|e| SendError::transient(format!("smtp: {e}")))?;
        self.transport.send(message).await.map(drop).map_err(|e| classify(&e))
    }

    fn build(&self, email: &Email) -> Result<Message, SendError> {
        let to = email
            .to
            .parse::<Mailbox>()
            .map_err(|e| SendError::permanent(format!("recipient address `{}`: {e}", email.to)))?;
        if email.idempotency_key.is_empty() || !email.idempotency_key.bytes().all(|b| b.is_ascii_graphic()) {
            // It goes into Message-ID verbatim, where spaces or control characters would break the header.
            return Err(SendError::permanent("idempotency key must be non-empty printable ASCII without spaces"));
        }
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{}@safeguard>", email.idempotency_key)))
            .raw_header(HeaderValue::new(DELIVERY_HEADER, email.idempotency_key.clone()))
            .date_now()
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| SendError::permanent(format!("building the email: {e}")))
    }
}

/// 5xx replies and client-side errors (bad input) repeat forever; everything else — 4xx replies,
/// refused or reset connections, timeouts, TLS handshakes cut short — may clear up.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let message = format!("smtp: {}", error_chain(e));
    if e.is_permanent() || e.is_client() { SendError::permanent(message) } else { SendError::transient(message) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "Safeguard <safeguard@example.org>";

    #[test]
    fn parses_plain_smtp_with_default_port() {
        let cfg = SmtpConfig::parse("smtp://mail.example.org", FROM).unwrap();
        assert_eq!(cfg.host, "mail.example.org");
        assert_eq!(cfg.port, 25);
        assert_eq!(cfg.security, Security::None);
        assert_eq!(cfg.credentials, None);
        assert_eq!(cfg.from, FROM);
        assert_eq!(cfg.timeout, SmtpConfig::DEFAULT_TIMEOUT);
        assert_eq!(cfg.pool_size, SmtpConfig::DEFAULT_POOL_SIZE);
    }

    #[test]
    fn parses_starttls_and_smtps_default_ports() {
        let cfg = SmtpConfig::parse("smtp+starttls://mail.example.org", FROM).unwrap();
        assert_eq!((cfg.security, cfg.port), (Security::StartTls, 587));
        let cfg = SmtpConfig::parse("smtps://mail.example.org/", FROM).unwrap();
        assert_eq!((cfg.security, cfg.port), (Security::Tls, 465));
    }

    #[test]
    fn parses_explicit_port_and_ip_hosts() {
        let cfg = SmtpConfig::parse("smtp://127.0.0.1:2525", FROM).unwrap();
        assert_eq!((cfg.host.as_str(), cfg.port), ("127.0.0.1", 2525));
        let cfg = SmtpConfig::parse("smtps://[::1]:1465", FROM).unwrap();
        assert_eq!((cfg.host.as_str(), cfg.port), ("::1", 1465));
    }

    #[test]
    fn parses_percent_encoded_credentials() {
        let cfg = SmtpConfig::parse("smtp+starttls://apikey:p%40ss%3Aw%2Frd@smtp.example.org:2587", FROM).unwrap();
        assert_eq!(cfg.credentials, Some(("apikey".to_owned(), "p@ss:w/rd".to_owned())));
        assert_eq!(cfg.port, 2587);
        let cfg = SmtpConfig::parse("smtp://user@relay", FROM).unwrap();
        assert_eq!(cfg.credentials, Some(("user".to_owned(), String::new())));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let cfg = SmtpConfig::parse("smtp://user:hunter2@relay", FROM).unwrap();
        let debug = format!("{cfg:?}");
        assert!(debug.contains("user") && !debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn errors_name_the_bad_part() {
        let err = |url: &str, from: &str| SmtpConfig::parse(url, from).unwrap_err().to_string();
        assert_eq!(
            err("http://mail.example.org", FROM),
            "smtp url: unknown scheme `http` (expected smtp, smtp+starttls or smtps)"
        );
        assert!(err("not a url", FROM).starts_with("smtp url: "));
        assert!(err("smtp://", FROM).starts_with("smtp url: "));
        assert!(err("smtp://host:99999", FROM).starts_with("smtp url: "));
        assert!(err("smtp://host/path", FROM).starts_with("smtp url: "));
        assert!(err("smtp://:pw@host", FROM).starts_with("smtp url: password without a user name"));
        assert!(err("smtp://host", "not an address").starts_with("from address: `not an address`"));
        assert!(err("smtp://host", "").starts_with("from address: "));
    }

    #[test]
    fn mailer_rejects_a_bad_from_address() {
        let mut cfg = SmtpConfig::parse("smtp://localhost", FROM).unwrap();
        cfg.from = "nope".into();
        assert!(matches!(Mailer::new(&cfg), Err(ConfigError::From(_))));
    }
}
