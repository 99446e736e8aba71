//! An HTTP/1 server that plays a partner's webhook endpoint: it checks signatures, records every
//! call and answers with whatever statuses a test queues up.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::{lock, wait_for_count};
use crate::{SignatureError, verify_signature};

/// One request as the receiver got it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedCall {
    /// Request path, e.g. `/hooks`.
    pub path: String,
    /// `Safeguard-Event` header (empty if missing).
    pub event: String,
    /// `Idempotency-Key` header (empty if missing).
    pub idempotency_key: String,
    /// `Content-Type` header (empty if missing).
    pub content_type: String,
    /// `Safeguard-Signature` header as sent (empty if missing), for re-checking against a simulated clock.
    pub signature_header: String,
    /// The `t` in the signature header, if it had one.
    pub t: Option<i64>,
    /// The body parsed as JSON, or `Null` if it was not JSON.
    pub body: serde_json::Value,
    /// The body byte for byte, as signed.
    pub raw_body: Vec<u8>,
    /// Whether the signature verified against the system clock within the receiver's tolerance.
    pub signature_ok: bool,
    /// The status the receiver answered with.
    pub status: u16,
}

impl ReceivedCall {
    /// Re-checks the signature with the caller's clock, e.g. a simulated one.
    pub fn verify(&self, secret: &str, now_unix: i64, tolerance_secs: i64) -> Result<(), SignatureError> {
        verify_signature(secret.as_bytes(), &self.signature_header, &self.raw_body, now_unix, tolerance_secs)
    }
}

struct Inner {
    secret: Vec<u8>,
    calls: Mutex<Vec<ReceivedCall>>,
    count: watch::Sender<usize>,
    connections: AtomicUsize,
    statuses: Mutex<VecDeque<StatusCode>>,
    delay: Mutex<Duration>,
    tolerance_secs: AtomicI64,
}

/// A webhook endpoint on `127.0.0.1`, for tests and benchmarks; stops when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver").field("addr", &self.addr).field("count", &self.count()).finish()
    }
}

impl WebhookReceiver {
    /// Tolerance by default: a day, so tests on a simulated clock near the real one still pass.
    pub const DEFAULT_TOLERANCE_SECS: i64 = 24 * 60 * 60;

    /// Starts listening on a free port, checking signatures with `secret`.
    ///
    /// # Panics
    /// If no loopback port can be bound, which leaves a test nothing sensible to do.
    pub async fn start(secret: &str) -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0 for the webhook receiver");
        let addr = listener.local_addr().expect("local address of the webhook receiver");
        let inner = Arc::new(Inner {
            secret: secret.as_bytes().to_vec(),
            calls: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
            connections: AtomicUsize::new(0),
            statuses: Mutex::new(VecDeque::new()),
            delay: Mutex::new(Duration::ZERO),
            tolerance_secs: AtomicI64::new(Self::DEFAULT_TOLERANCE_SECS),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&inner)));
        WebhookReceiver { addr, inner, task }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/hooks`.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// Every request so far, in order of arrival (including ones answered with an error).
    pub fn calls(&self) -> Vec<ReceivedCall> {
        lock(&self.inner.calls).clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        *self.inner.count.borrow()
    }

    /// How many TCP connections were accepted, to check that clients reuse theirs.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived; false if `timeout` passed first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        wait_for_count(self.inner.count.subscribe(), n, timeout).await
    }

    /// Answers the next well-signed requests with these statuses, in order, then goes back to 200.
    ///
    /// # Panics
    /// On a number that is not an HTTP status code (a mistake in the test).
    pub fn respond_with(&self, statuses: Vec<u16>) {
        let codes = statuses.into_iter().map(|s| StatusCode::from_u16(s).expect("an HTTP status code"));
        lock(&self.inner.statuses).extend(codes);
    }

    /// Waits this long before answering each request, like a slow partner.
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.inner.delay) = delay;
    }

    /// How far the signature's `t` may be from the system clock for `signature_ok`.
    pub fn set_tolerance(&self, secs: i64) {
        self.inner.tolerance_secs.store(secs, Ordering::SeqCst);
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every open connection.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    inner.connections.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.set_nodelay(true);
                    let inner = Arc::clone(&inner);
                    let service = service_fn(move |req| handle(req, Arc::clone(&inner)));
                    connections.spawn(async move {
                        // A client hanging up mid-request is normal here (timeout tests do it).
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                // Usually out of file descriptors under load; let connections finish and try again.
                Err(_) => tokio::task::yield_now().await,
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(req: Request<Incoming>, inner: Arc<Inner>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let raw_body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let signature_header = header("safeguard-signature");
    let now =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let tolerance = inner.tolerance_secs.load(Ordering::SeqCst);
    let signature_ok = verify_signature(&inner.secret, &signature_header, &raw_body, now, tolerance).is_ok();
    let status = if signature_ok {
        lock(&inner.statuses).pop_front().unwrap_or(StatusCode::OK)
    } else {
        StatusCode::UNAUTHORIZED
    };
    let t = signature_header.split(',').find_map(|part| part.trim().strip_prefix("t=")).and_then(|t| t.parse().ok());
    let call = ReceivedCall {
        path: parts.uri.path().to_owned(),
        event: header("safeguard-event"),
        idempotency_key: header("idempotency-key"),
        content_type: header("content-type"),
        signature_header,
        t,
        body: serde_json::from_slice(&raw_body).unwrap_or(serde_json::Value::Null),
        raw_body,
        signature_ok,
        status: status.as_u16(),
    };
    {
        let mut calls = lock(&inner.calls);
        calls.push(call);
        inner.count.send_replace(calls.len());
    }
    // Recorded before the delay: a partner that times out may still have acted on the call.
    let delay = *lock(&inner.delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let text =
        if signature_ok { format!("test receiver answered {}", status.as_u16()) } else { "bad signature".to_owned() };
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    Ok(response)
}
