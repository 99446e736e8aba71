//! Where a read of the records happened and from where, as every read event records it.

use serde::{Deserialize, Serialize};

/// Where a read happened and from where: on the trail with every read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFrom {
    /// `page` (the pages) or `api` (the JSON API).
    pub via: String,
    /// The client's address (the first `X-Forwarded-For` address, else the connection's),
    /// or `unknown`.
    pub from: String,
    /// The browser or client's `User-Agent`, cut to [`ReadFrom::AGENT_CHARS`] characters.
    pub agent: String,
}

impl ReadFrom {
    /// The most of a `User-Agent` the trail keeps.
    pub const AGENT_CHARS: usize = 120;

    /// A read `via` the pages or the API, from `from` with `agent` (cut to size).
    pub fn new(via: &str, from: &str, agent: &str) -> Self {
        Self { via: via.to_string(), from: from.to_string(), agent: agent.chars().take(Self::AGENT_CHARS).collect() }
    }
}
