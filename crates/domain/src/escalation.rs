//! Escalation: every missed timescale becomes an escalation that climbs until a named
//! person acts. The semantics are fixed (see `contracts/ESCALATION.md`); the numbers are a
//! [`Policy`] an administrator may change.
//!
//! This module is pure. It decides *what happens* (events and timer changes) given the
//! state the caller loads; the application layer commits the result in one transaction.

pub mod disagreement;
mod engine;
mod policy;
mod routing;

pub use engine::*;
pub use policy::{FlagWindows, Policy, PolicyError, Timescales, TriggerPolicy, set_policy};
pub use routing::{Line, Route, StaffStatus, route};

// Declared beside `Event`, which carries them, so events need not import the rules that emit them.
pub use crate::event::escalations::{ClimbReason, EscalationId, Resolution, RoutingReason, Subject, Trigger};

use crate::code::code_enum;

code_enum!(
    /// Where an escalation stands.
    EscalationState {
        /// Waiting for the assignee to acknowledge it.
        Open = "open",
        /// The assignee has acknowledged it; the condition may still hold.
        Acknowledged = "acknowledged",
        /// Done: the condition cleared, or someone resolved it with an action.
        Resolved = "resolved",
    }
);
