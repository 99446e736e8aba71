//! The mailer against the in-process SMTP sink.

use std::time::Duration;

use notify::testing::SmtpSink;
use notify::{Email, Mailer, SmtpConfig};

const FROM: &str = "Safeguard <safeguard@example.org>";
const WAIT: Duration = Duration::from_secs(10);

fn mailer(url: &str) -> Mailer {
    let mut cfg = SmtpConfig::parse(url, FROM).expect("valid smtp url");
    cfg.timeout = Duration::from_secs(5);
    Mailer::new(&cfg).expect("valid smtp config")
}

fn email(key: &str) -> Email {
    Email {
        to: "Duty Officer <duty@example.org>".into(),
        subject: "Case 42 escalated".into(),
        text: "Case 42 needs a decision.".into(),
        html: "<p>Case 42 needs a <b>decision</b>.</p>".into(),
        idempotency_key: key.into(),
    }
}

#[tokio::test]
async fn one_email_arrives_with_both_parts_and_the_delivery_headers() {
    let sink = SmtpSink::start().await;
    mailer(&sink.url()).send(&email("d-1")).await.unwrap();

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.from, "safeguard@example.org");
    assert_eq!(m.to, vec!["duty@example.org".to_owned()]);
    assert_eq!(m.header("Message-ID").as_deref(), Some("<d-1@safeguard>"));
    assert_eq!(m.header("X-Safeguard-Delivery").as_deref(), Some("d-1"));
    assert_eq!(m.header("Subject").as_deref(), Some("Case 42 escalated"));
    assert_eq!(m.header("From").as_deref(), Some("Safeguard <safeguard@example.org>"));
    assert_eq!(m.header("To").as_deref(), Some("\"Duty Officer\" <duty@example.org>"));
    assert!(m.header("Content-Type").unwrap().starts_with("multipart/alternative"), "{}", m.data);
    assert!(m.body().contains("Content-Type: text/plain"), "{}", m.data);
    assert!(m.body().contains("Content-Type: text/html"), "{}", m.data);
    assert!(m.body().contains("Case 42 needs a decision."), "{}", m.data);
    assert!(m.body().contains("<p>Case 42 needs a <b>decision</b>.</p>"), "{}", m.data);
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_the_round_trip() {
    let sink = SmtpSink::start().await;
    let mut e = email("d-dot");
    e.text = "first\r\n.\r\n.second".into();
    mailer(&sink.url()).send(&e).await.unwrap();
    // The lone "." must not end DATA early; the sink undoes lettre's dot-stuffing.
    assert!(sink.messages()[0].body().contains("first\r\n.\r\n.second"), "{}", sink.messages()[0].data);
}

#[tokio::test]
async fn a_deferring_server_is_retryable_and_recovers() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink.url());

    sink.set_refusing(true);
    let err = mailer.send(&email("d-2")).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert!(err.message.contains("451"), "{err:?}");
    assert_eq!(sink.count(), 0);

    sink.set_refusing(false);
    mailer.send(&email("d-2")).await.unwrap();
    assert_eq!(sink.count(), 1);
    assert_eq!(sink.messages()[0].header("X-Safeguard-Delivery").as_deref(), Some("d-2"));
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    // Bind then drop, so the port is very likely free with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = mailer(&format!("smtp://127.0.0.1:{port}")).send(&email("d-3")).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
}

#[tokio::test]
async fn a_bad_recipient_is_permanent() {
    let sink = SmtpSink::start().await;
    let mut e = email("d-4");
    e.to = "not an address".into();
    let err = mailer(&sink.url()).send(&e).await.unwrap_err();
    assert!(!err.retryable, "{err:?}");
    assert!(err.message.contains("recipient"), "{err:?}");
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn an_idempotency_key_that_would_break_message_id_is_permanent() {
    let sink = SmtpSink::start().await;
    let err = mailer(&sink.url()).send(&email("has space")).await.unwrap_err();
    assert!(!err.retryable, "{err:?}");
}

#[tokio::test]
async fn credentials_are_used_when_configured() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://user:pass@{}", sink.addr());
    mailer(&url).send(&email("d-5")).await.unwrap();
    assert_eq!(sink.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_sends_all_arrive() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink.url());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let mailer = mailer.clone();
        tasks.spawn(async move { mailer.send(&email(&format!("c-{i}"))).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert!(sink.wait_for(200, WAIT).await, "only {} arrived", sink.count());

    let mut keys: Vec<String> = sink.messages().iter().map(|m| m.header("X-Safeguard-Delivery").unwrap()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 200, "every email arrived exactly once");
    // The default pool of 10 caps concurrent sends, so a burst reuses connections instead of opening
    // one per email. lettre hands a finished connection back to its pool on a spawned task, so a
    // few extra connections can open in that gap: bound loosely, well below one per email.
    assert!(sink.connections() <= 40, "{} connections for 200 emails", sink.connections());
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_fails_as_retryable() {
    // Exercises the rustls/ring setup; a handshake that breaks off is treated like a dropped connection.
    let sink = SmtpSink::start().await;
    let err = mailer(&format!("smtps://{}", sink.addr())).send(&email("d-tls")).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn required_starttls_on_a_server_without_it_is_permanent() {
    // The sink does not offer STARTTLS; sending in clear instead would be wrong, and retrying cannot help.
    let sink = SmtpSink::start().await;
    let err = mailer(&format!("smtp+starttls://{}", sink.addr())).send(&email("d-stls")).await.unwrap_err();
    assert!(!err.retryable, "{err:?}");
    assert!(err.message.contains("STARTTLS"), "{err:?}");
    assert_eq!(sink.count(), 0);
}
