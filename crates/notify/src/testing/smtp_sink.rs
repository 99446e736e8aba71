//! A small SMTP server that accepts everything (or, on request, defers it) and keeps what it got.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::{lock, wait_for_count};

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The `MAIL FROM` address, without angle brackets.
    pub from: String,
    /// The `RCPT TO` addresses, without angle brackets.
    pub to: Vec<String>,
    /// The message (headers and body) after dot-unstuffing, with CRLF line ends.
    pub data: String,
}

impl Received {
    /// The first header called `name` (any case), unfolded and trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        for line in self.header_block().split("\r\n") {
            if line.starts_with([' ', '\t']) {
                // A folded continuation of the previous header.
                if let Some(value) = found.as_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.trim().eq_ignore_ascii_case(name)
            {
                found = Some(v.trim().to_owned());
            }
        }
        found
    }

    /// Everything after the blank line that ends the headers.
    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }

    fn header_block(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or(self.data.as_str(), |(headers, _)| headers)
    }
}

struct Inner {
    messages: Mutex<Vec<Received>>,
    count: watch::Sender<usize>,
    connections: AtomicUsize,
    refusing: AtomicBool,
}

/// A real SMTP server on `127.0.0.1`, for tests and benchmarks; stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink").field("addr", &self.addr).field("count", &self.count()).finish()
    }
}

impl SmtpSink {
    /// Starts listening on a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound, which leaves a test nothing sensible to do.
    pub async fn start() -> SmtpSink {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Self::start_on(any).await.expect("bind 127.0.0.1:0 for the SMTP sink")
    }

    /// Starts listening on `addr` (for `safeguard mailbox`, which prints what arrives).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            messages: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
            connections: AtomicUsize::new(0),
            refusing: AtomicBool::new(false),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&inner)));
        Ok(SmtpSink { addr, inner, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `smtp://127.0.0.1:PORT`, for [`crate::SmtpConfig::parse`].
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.inner.messages).clone()
    }

    /// How many messages were accepted.
    pub fn count(&self) -> usize {
        *self.inner.count.borrow()
    }

    /// While on, `MAIL FROM` gets `451 4.3.0 try again later`, as from a relay that is deferring mail.
    pub fn set_refusing(&self, refusing: bool) {
        self.inner.refusing.store(refusing, Ordering::SeqCst);
    }

    /// How many TCP connections were accepted, to check that clients reuse theirs.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` messages were accepted; false if `timeout` passed first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        wait_for_count(self.inner.count.subscribe(), n, timeout).await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every open session.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    inner.connections.fetch_add(1, Ordering::SeqCst);
                    sessions.spawn(session(stream, Arc::clone(&inner)));
                }
                // Usually out of file descriptors under load; let sessions finish and try again.
                Err(_) => tokio::task::yield_now().await,
            },
            // Reap finished sessions so the set does not grow without bound.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

const EHLO_REPLY: &[u8] =
    b"250-localhost greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN\r\n250 SIZE 52428800\r\n";

async fn session(stream: TcpStream, inner: Arc<Inner>) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut writer = BufWriter::new(write);
    writer.write_all(b"220 localhost ESMTP notify test sink\r\n").await?;
    writer.flush().await?;

    let mut line = Vec::with_capacity(512);
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => EHLO_REPLY,
            "HELO" => b"250 localhost\r\n",
            "MAIL" if inner.refusing.load(Ordering::SeqCst) => b"451 4.3.0 try again later\r\n",
            "MAIL" => {
                from = Some(address(arg));
                to.clear();
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if from.is_none() => b"503 5.5.1 MAIL first\r\n",
            "RCPT" => {
                to.push(address(arg));
                b"250 2.1.5 OK\r\n"
            }
            "DATA" if to.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                writer.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                writer.flush().await?;
                let data = read_data(&mut reader, |r| ack_now(r.get_ref().as_ref())).await?;
                let message = Received { from: from.take().unwrap_or_default(), to: std::mem::take(&mut to), data };
                {
                    let mut messages = lock(&inner.messages);
                    messages.push(message);
                    // Under the lock, so the count never runs ahead of `messages()`.
                    inner.count.send_replace(messages.len());
                }
                b"250 2.0.0 OK queued\r\n"
            }
            "RSET" => {
                from = None;
                to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                writer.flush().await?;
                return Ok(());
            }
            // Any credentials will do; this only lets configurations with a user name be exercised.
            "AUTH" if arg.split_whitespace().count() >= 2 => b"235 2.7.0 Authentication successful\r\n",
            "AUTH" => {
                writer.write_all(b"334 \r\n").await?;
                writer.flush().await?;
                line.clear();
                reader.read_until(b'\n', &mut line).await?;
                b"235 2.7.0 Authentication successful\r\n"
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        writer.write_all(reply).await?;
        // Flush only when the client is waiting on us; pipelined commands get one write.
        if reader.buffer().is_empty() {
            writer.flush().await?;
        }
    }
}

/// `FROM:<a@b> BODY=8BITMIME` → `a@b`.
fn address(arg: &str) -> String {
    let after_colon = arg.split_once(':').map_or(arg, |(_, rest)| rest).trim_start();
    match after_colon.strip_prefix('<') {
        Some(rest) => rest.split('>').next().unwrap_or_default().to_owned(),
        None => after_colon.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}

/// Acknowledges received data at once instead of after the delayed-ACK timer.
///
/// lettre writes the message and the closing `.` in two writes without TCP_NODELAY, so Nagle holds the
/// `.` back until the message is acknowledged; with Linux's delayed ACK that is ~40 ms per email, which
/// would cap a pooled client at a few hundred emails a second.
fn ack_now(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = stream.set_quickack(true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing; `before_wait` runs before each read that
/// has to wait for the network.
async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    before_wait: impl Fn(&BufReader<R>),
) -> io::Result<String> {
    let mut data = Vec::with_capacity(4096);
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if reader.buffer().is_empty() {
            before_wait(reader);
        }
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed during DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_strips_brackets_and_parameters() {
        assert_eq!(address("FROM:<a@example.org> BODY=8BITMIME"), "a@example.org");
        assert_eq!(address("TO:<b@example.org>"), "b@example.org");
        assert_eq!(address("FROM: <c@example.org>"), "c@example.org");
        assert_eq!(address("FROM:<>"), "");
    }

    #[tokio::test]
    async fn data_is_dot_unstuffed_and_ends_at_the_lone_dot() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nnot read\r\n";
        let mut reader = BufReader::new(input);
        let data = read_data(&mut reader, |_| {}).await.unwrap();
        assert_eq!(data, "Subject: x\r\n\r\n.leading dot\r\n");
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_unfolds() {
        let r = Received {
            from: String::new(),
            to: vec![],
            data: "Subject: a long\r\n\tsubject\r\nX-Thing: 1\r\n\r\nX-Thing: body, not a header\r\n".into(),
        };
        assert_eq!(r.header("subject").as_deref(), Some("a long subject"));
        assert_eq!(r.header("x-thing").as_deref(), Some("1"));
        assert_eq!(r.header("missing"), None);
        assert_eq!(r.body(), "X-Thing: body, not a header\r\n");
    }
}
