//! In-process servers that stand in for a mail relay and a partner's webhook endpoint in tests and
//! benchmarks. Both listen on `127.0.0.1:0` and stop when dropped.

mod smtp_sink;
mod webhook_receiver;

pub use smtp_sink::{Received, SmtpSink};
pub use webhook_receiver::{ReceivedCall, WebhookReceiver};

use std::time::Duration;

use tokio::sync::watch;

/// Waits until the counter reaches `n`, or gives up after `timeout`.
async fn wait_for_count(mut rx: watch::Receiver<usize>, n: usize, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, rx.wait_for(|count| *count >= n)).await.is_ok_and(|r| r.is_ok())
}

/// Locks a mutex even if a test panicked while holding it: the data is a plain record.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
