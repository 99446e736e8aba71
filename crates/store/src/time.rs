//! Moments are stored as microseconds since the Unix epoch: one integer type that both
//! engines index and compare the same way.

use jiff::Timestamp;

/// A moment as stored.
pub fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// A stored moment back as a timestamp (clamped into jiff's range if corrupt).
pub fn from_micros(v: i64) -> Timestamp {
    Timestamp::from_microsecond(v).unwrap_or(if v < 0 { Timestamp::MIN } else { Timestamp::MAX })
}
