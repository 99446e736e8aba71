//! The webhook client against the in-process receiver.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notify::testing::WebhookReceiver;
use notify::{SignatureError, WebhookCall, WebhookClient};

const SECRET: &str = "whsec_test";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

fn call(url: &str, key: &str) -> WebhookCall {
    WebhookCall {
        url: url.into(),
        secret: SECRET.into(),
        event: "escalation.raised".into(),
        body: br#"{"case":"c-42","level":2}"#.to_vec(),
        idempotency_key: key.into(),
    }
}

fn client() -> WebhookClient {
    WebhookClient::new(Duration::from_secs(5))
}

#[tokio::test]
async fn a_signed_call_arrives_with_its_headers_and_verifies() {
    let receiver = WebhookReceiver::start(SECRET).await;
    client().post(&call(&receiver.url(), "k-1"), now()).await.unwrap();

    let calls = receiver.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert!(c.signature_ok, "{c:?}");
    assert_eq!(c.status, 200);
    assert_eq!(c.path, "/hooks");
    assert_eq!(c.event, "escalation.raised");
    assert_eq!(c.idempotency_key, "k-1");
    assert_eq!(c.content_type, "application/json");
    assert_eq!(c.body, serde_json::json!({"case": "c-42", "level": 2}));
    assert_eq!(c.raw_body, br#"{"case":"c-42","level":2}"#);
}

#[tokio::test]
async fn the_signature_uses_the_callers_clock() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let simulated = 1_000_000_000; // 2001: far outside the receiver's tolerance of its real clock
    let err = client().post(&call(&receiver.url(), "k-sim"), simulated).await.unwrap_err();
    assert!(!err.retryable && err.message.contains("401"), "{err:?}");

    let c = &receiver.calls()[0];
    assert!(!c.signature_ok);
    assert_eq!(c.t, Some(simulated));
    assert_eq!(c.verify(SECRET, simulated + 60, 300), Ok(()));
    assert!(matches!(c.verify(SECRET, simulated + 301, 300), Err(SignatureError::Stale { .. })));
    assert_eq!(c.verify("other", simulated, 300), Err(SignatureError::Mismatch));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_401_and_not_retryable() {
    let receiver = WebhookReceiver::start("the-partners-secret").await;
    let err = client().post(&call(&receiver.url(), "k-2"), now()).await.unwrap_err();
    assert!(!err.retryable, "{err:?}");
    assert!(err.message.contains("401") && err.message.contains("bad signature"), "{err:?}");
    assert!(!receiver.calls()[0].signature_ok);
}

#[tokio::test]
async fn statuses_are_classified() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let client = client();
    let cases =
        [(500, true), (503, true), (429, true), (408, true), (400, false), (404, false), (410, false), (301, false)];
    receiver.respond_with(cases.iter().map(|(status, _)| *status).collect());
    for (i, (status, retryable)) in cases.into_iter().enumerate() {
        let err = client.post(&call(&receiver.url(), &format!("k-{i}")), now()).await.unwrap_err();
        assert_eq!(err.retryable, retryable, "{status}: {err:?}");
        assert!(err.message.contains(&status.to_string()), "{status}: {err:?}");
        // The start of the response body goes into the message.
        assert!(err.message.contains(&format!("test receiver answered {status}")), "{status}: {err:?}");
    }
    // The queue is used up: back to 200.
    client.post(&call(&receiver.url(), "k-after"), now()).await.unwrap();
    assert_eq!(receiver.count(), cases.len() + 1);
}

#[tokio::test]
async fn a_slow_receiver_times_out_as_retryable() {
    let receiver = WebhookReceiver::start(SECRET).await;
    receiver.set_delay(Duration::from_secs(30));
    let client = WebhookClient::new(Duration::from_millis(300));
    let err = client.post(&call(&receiver.url(), "k-slow"), now()).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
    // The partner got it all the same, which is why the idempotency key matters.
    assert!(receiver.wait_for(1, Duration::from_secs(5)).await);
    assert_eq!(receiver.calls()[0].idempotency_key, "k-slow");
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = client().post(&call(&format!("http://127.0.0.1:{port}/hooks"), "k-3"), now()).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
}

#[tokio::test]
async fn connections_are_reused_across_calls() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let client = client();
    for i in 0..50 {
        client.post(&call(&receiver.url(), &format!("k-{i}")), now()).await.unwrap();
    }
    assert!(receiver.wait_for(50, Duration::from_secs(5)).await);
    assert!(receiver.calls().iter().all(|c| c.signature_ok));
    assert_eq!(receiver.connections(), 1, "sequential calls share one pooled connection");
}

#[tokio::test]
async fn https_to_a_plain_http_server_fails_as_retryable() {
    // Exercises the rustls/ring setup; a handshake that breaks off is treated like a dropped connection.
    let receiver = WebhookReceiver::start(SECRET).await;
    let url = receiver.url().replace("http://", "https://");
    let err = client().post(&call(&url, "k-tls"), now()).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert_eq!(receiver.count(), 0);
}
