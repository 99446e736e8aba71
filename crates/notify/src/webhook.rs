//! Signed JSON webhooks over HTTP(S) with hyper's pooled client.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::{SendError, error_chain, signature};

/// How much of an error response's body goes into the message.
const BODY_SNIPPET: usize = 200;
/// How much of a success response's body is read so the connection can go back to the pool.
const DRAIN_LIMIT: usize = 64 * 1024;

/// A webhook call ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookCall {
    /// `http://` or `https://` endpoint.
    pub url: String,
    /// The endpoint's signing secret.
    pub secret: String,
    /// Event name, sent as `Safeguard-Event`.
    pub event: String,
    /// JSON body, sent and signed byte for byte.
    pub body: Vec<u8>,
    /// Stable across retries of the same delivery, sent as `Idempotency-Key`.
    pub idempotency_key: String,
}

// By hand so the secret never reaches a log.
impl std::fmt::Debug for WebhookCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCall")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("event", &self.event)
            .field("body", &String::from_utf8_lossy(&self.body))
            .field("idempotency_key", &self.idempotency_key)
            .finish()
    }
}

/// Posts webhooks, reusing connections.
#[derive(Clone, Debug)]
pub struct WebhookClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl WebhookClient {
    /// A client whose calls each give up after `timeout` (connecting, sending and reading the answer).
    pub fn new(timeout: Duration) -> WebhookClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false); // the TLS layer above handles https URLs
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        // An explicit provider, so a second rustls provider compiled in elsewhere cannot make this ambiguous.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .expect("ring supports rustls's default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        WebhookClient { client, timeout }
    }

    /// POST with headers Content-Type: application/json, `Safeguard-Event: {event}`, `Idempotency-Key: {key}`,
    /// `Safeguard-Signature: t={unix_seconds},v1={hex hmac}` where the HMAC-SHA256 (key = secret bytes) is over
    /// `"{t}.{body}"`. `now_unix` is passed in (the caller's clock, possibly simulated).
    /// 2xx = Ok. 5xx, 429, 408, connection errors and timeouts = retryable. Other 4xx and 3xx = not retryable.
    /// Message includes the status and the first ~200 bytes of the response body.
    pub async fn post(&self, call: &WebhookCall, now_unix: i64) -> Result<(), SendError> {
        let request = build_request(call, now_unix)?;
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::transient(format!("webhook: no answer within {:?}", self.timeout))),
        }
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<(), SendError> {
        // A failed request may or may not have reached the receiver; the idempotency key covers both cases.
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| SendError::transient(format!("webhook: {}", error_chain(&e))))?;
        let status = response.status();
        if status.is_success() {
            // Reading the body to its end lets hyper reuse the connection; a huge body is cut off instead.
            let _ = read_prefix(response.into_body(), DRAIN_LIMIT).await;
            return Ok(());
        }
        let body = read_prefix(response.into_body(), BODY_SNIPPET).await;
        let mut message = format!("webhook: HTTP {status}");
        let snippet = String::from_utf8_lossy(&body[..body.len().min(BODY_SNIPPET)]);
        let snippet = snippet.trim();
        if !snippet.is_empty() {
            message.push_str(": ");
            message.push_str(snippet);
        }
        let retryable = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT;
        Err(SendError { retryable, message })
    }
}

fn build_request(call: &WebhookCall, now_unix: i64) -> Result<Request<Full<Bytes>>, SendError> {
    // Never echo the URL: partner URLs often embed tokens.
    let uri: Uri = call.url.parse().map_err(|e| SendError::permanent(format!("webhook url: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(SendError::permanent("webhook url: must be an absolute http:// or https:// URL"));
    }
    let header = |what: &str, value: &str| {
        HeaderValue::from_str(value)
            .map_err(|_| SendError::permanent(format!("webhook {what}: not a valid header value")))
    };
    let sig = signature(call.secret.as_bytes(), now_unix, &call.body);
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(concat!("safeguard-notify/", env!("CARGO_PKG_VERSION"))))
        .header("Safeguard-Event", header("event", &call.event)?)
        .header("Idempotency-Key", header("idempotency key", &call.idempotency_key)?)
        .header("Safeguard-Signature", header("signature", &sig)?)
        .body(Full::new(Bytes::from(call.body.clone())))
        .map_err(|e| SendError::permanent(format!("webhook request: {e}")))
}

/// Up to about `limit` bytes of the body; errors just end it, since the status already says enough.
async fn read_prefix(mut body: hyper::body::Incoming, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    out.extend_from_slice(data);
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(url: &str) -> WebhookCall {
        WebhookCall {
            url: url.into(),
            secret: "s".into(),
            event: "case.escalated".into(),
            body: b"{}".to_vec(),
            idempotency_key: "k1".into(),
        }
    }

    #[test]
    fn request_carries_the_contract_headers() {
        let req = build_request(&call("https://partner.example/hooks?x=1"), 1_700_000_000).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.headers()["safeguard-event"], "case.escalated");
        assert_eq!(req.headers()["idempotency-key"], "k1");
        assert_eq!(req.headers()["safeguard-signature"], signature(b"s", 1_700_000_000, b"{}").as_str());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let mut c = call("http://host/x");
        c.secret = "hunter2".into();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn bad_urls_and_header_values_are_permanent() {
        for url in ["", "not a url", "/relative", "ftp://host/x"] {
            let err = build_request(&call(url), 0).unwrap_err();
            assert!(!err.retryable && err.message.starts_with("webhook url"), "{url}: {err:?}");
        }
        let mut c = call("http://host/x");
        c.event = "line\nbreak".into();
        let err = build_request(&c, 0).unwrap_err();
        assert!(!err.retryable && err.message.contains("event"), "{err:?}");
    }
}
