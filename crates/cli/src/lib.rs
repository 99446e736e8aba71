//! The `safeguard` binary's library half: the parts its tests call directly.

pub mod audit;
pub mod demo;
pub mod matching;
pub mod workers;
