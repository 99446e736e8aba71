//! The `safeguard` binary's library half: the parts its tests call directly.

pub mod audit;
pub mod matching;
pub mod workers;
