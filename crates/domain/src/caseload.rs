//! Caseload arithmetic: how much work a worker holds against their cap.
//!
//! The default is the commonly recommended maximum of 15 safeguarding cases per
//! full-time worker, each child weighing 1. Weights per stage come with the caseload
//! issue; the arithmetic lives here so every screen and rule uses the same numbers.

use crate::staff::Fte;

/// The default cap for a full-time worker.
pub const DEFAULT_CAP_PER_FTE: f64 = 15.0;

/// A worker's cap: the per-FTE cap scaled by their FTE.
pub fn cap(fte: Fte, cap_per_fte: f64) -> f64 {
    cap_per_fte * fte.value()
}

/// Whether holding `load` is over `cap` (holding exactly the cap is not over it).
/// Compared in hundredths so 0.1 + 0.2 style rounding never tips a worker over.
pub fn is_over_cap(load: f64, cap: f64) -> bool {
    (load * 100.0).round() > (cap * 100.0).round()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_scales_with_fte_and_exactly_full_is_not_over() {
        assert_eq!(cap(Fte::FULL, DEFAULT_CAP_PER_FTE), 15.0);
        assert_eq!(cap(Fte::new(0.6).unwrap(), DEFAULT_CAP_PER_FTE), 9.0);
        assert!(!is_over_cap(15.0, 15.0));
        assert!(is_over_cap(16.0, 15.0));
        assert!(!is_over_cap(0.1 + 0.2, 0.3));
    }
}
