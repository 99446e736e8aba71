//! The pure heart of safeguard: records, rules and decisions, with no I/O and no async.
//!
//! Everything here turns parsed input plus the current state into events (or a typed
//! rejection). Time is always an argument ([`clock::Clock`] supplies it at the edges),
//! so every rule is testable in microseconds.

pub mod accounts;
pub mod authz;
pub mod case;
pub mod caseload;
pub mod clock;
mod code;
pub mod delivery;
pub mod duplicates;
pub mod error;
pub mod escalation;
pub mod event;
pub mod flags;
pub mod ids;
pub mod merging;
pub mod outbox;
pub mod person;
pub mod practice;
pub mod reactions;
pub mod recording;
pub mod referral;
pub mod staff;
pub mod text;
pub mod timeliness;
pub mod timer;
pub mod visit;
pub mod working_time;

pub use error::{FieldError, FieldErrors, Rejection};
pub use jiff::{Timestamp, civil::Date};
