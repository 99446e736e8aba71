//! Caseload arithmetic: how much work a worker holds against their cap, and how many
//! more staff a team needs to bring everyone under it.
//!
//! The default is the commonly recommended maximum of 15 safeguarding cases per
//! full-time worker, each child weighing 1; a policy may weigh children by the stage of
//! their case (a child protection plan, say, at 1.5). The arithmetic lives here so every
//! screen, rule and report uses the same numbers, and shows its working.

use crate::event::cases::Stage;
use crate::staff::Fte;
use serde::{Deserialize, Serialize};

/// The default cap for a full-time worker.
pub const DEFAULT_CAP_PER_FTE: f64 = 15.0;

/// A worker's cap: the per-FTE cap scaled by their FTE.
pub fn cap(fte: Fte, cap_per_fte: f64) -> f64 {
    cap_per_fte * fte.value()
}

/// Whether someone who qualified on `qualified_on` is still newly qualified on `today`
/// (their first year).
pub fn newly_qualified(qualified_on: Option<jiff::civil::Date>, today: jiff::civil::Date) -> bool {
    qualified_on.is_some_and(|q| q <= today && q.checked_add(jiff::Span::new().years(1)).is_ok_and(|end| today < end))
}

/// Whether holding `load` is over `cap` (holding exactly the cap is not over it).
/// Compared in hundredths so 0.1 + 0.2 style rounding never tips a worker over.
pub fn is_over_cap(load: f64, cap: f64) -> bool {
    (load * 100.0).round() > (cap * 100.0).round()
}

/// What each allocated child weighs, by the stage of their case (default 1 each).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Being assessed.
    pub assessment: f64,
    /// Child in need.
    pub cin: f64,
    /// Child protection plan.
    pub cp: f64,
    /// Looked after.
    pub lac: f64,
    /// When set, brothers and sisters held by one worker count as one case: the
    /// heaviest child's weight, plus this much for each further child (never more than
    /// that child's own weight). Unset, every child counts in full.
    pub sibling_extra: Option<f64>,
}

impl Default for Weights {
    fn default() -> Self {
        Self { assessment: 1.0, cin: 1.0, cp: 1.0, lac: 1.0, sibling_extra: None }
    }
}

impl Weights {
    /// The weight of one child whose case is at `stage` (a closed case weighs nothing).
    pub fn of(&self, stage: Stage) -> f64 {
        match stage {
            Stage::Assessment => self.assessment,
            Stage::Cin => self.cin,
            Stage::Cp => self.cp,
            Stage::Lac => self.lac,
            Stage::Closed => 0.0,
        }
    }

    /// A worker's load: the sum of the weights of the children allocated to them.
    pub fn load(&self, stages: impl IntoIterator<Item = Stage>) -> f64 {
        stages.into_iter().map(|s| self.of(s)).sum()
    }

    /// A worker's load with brothers and sisters grouped (see [`Weights::sibling_extra`]):
    /// `children` are who they hold and their stage, `family` pairs of those children
    /// who are brothers or sisters (directly or through a parent they share). Links
    /// chain: half-siblings joined through one child are one group.
    pub fn family_load<K: Copy + Eq + std::hash::Hash>(&self, children: &[(K, Stage)], family: &[(K, K)]) -> f64 {
        let Some(extra) = self.sibling_extra else {
            return self.load(children.iter().map(|(_, s)| *s));
        };
        let keys: Vec<K> = children.iter().map(|(k, _)| *k).collect();
        family_groups(&keys, family)
            .iter()
            .map(|group| {
                let weights: Vec<f64> = group.iter().map(|&i| self.of(children[i].1)).collect();
                let heaviest = weights.iter().copied().fold(0.0, f64::max);
                let mut rest: f64 = weights.iter().map(|w| w.min(extra)).sum();
                // The heaviest child counts in full, not as an extra.
                rest -= heaviest.min(extra);
                heaviest + rest
            })
            .sum()
    }

    /// The weights' problems, if any: each must be a number from 0 to 10.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        for (field, w) in [
            ("assessment", self.assessment),
            ("cin", self.cin),
            ("cp", self.cp),
            ("lac", self.lac),
            ("sibling_extra", self.sibling_extra.unwrap_or(0.0)),
        ] {
            if !(w.is_finite() && (0.0..=10.0).contains(&w)) {
                return Err((field, "must be a number from 0 to 10"));
            }
        }
        Ok(())
    }
}

/// `children` split into families: each group lists the indices of children joined by
/// `links` (chains included), groups in order of their first child, indices ascending.
/// Links naming anyone outside `children` are ignored.
pub fn family_groups<K: Copy + Eq + std::hash::Hash>(children: &[K], links: &[(K, K)]) -> Vec<Vec<usize>> {
    let index: std::collections::HashMap<K, usize> = children.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    // Union–find, the smaller index as the root so groups come out in order.
    let mut parent: Vec<usize> = (0..children.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, b) in links {
        if let (Some(&a), Some(&b)) = (index.get(a), index.get(b)) {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![];
    let mut slot: std::collections::HashMap<usize, usize> = Default::default();
    for i in 0..children.len() {
        let r = root(&mut parent, i);
        let g = *slot.entry(r).or_insert_with(|| {
            groups.push(vec![]);
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// The bands of the caseload histogram: load as a share of the worker's own cap.
pub const BANDS: [&str; 6] = ["under 50%", "50–79%", "80–99%", "at the cap", "over, up to 150%", "over 150%"];

/// Which band of [`BANDS`] a load falls in (a zero cap counts any load as far over).
pub fn band(load: f64, cap: f64) -> usize {
    if (load * 100.0).round() == (cap * 100.0).round() {
        return 3;
    }
    if cap <= 0.0 {
        return if load > 0.0 { 5 } else { 0 };
    }
    let share = load / cap;
    match share {
        s if s < 0.5 => 0,
        s if s < 0.8 => 1,
        s if s < 1.0 => 2,
        s if s <= 1.5 => 4,
        _ => 5,
    }
}

/// How many workers fall in each band.
pub fn histogram(holdings: &[Holding]) -> [usize; 6] {
    let mut counts = [0; 6];
    for h in holdings {
        counts[band(h.load, h.cap_per_fte * h.fte)] += 1;
    }
    counts
}

/// One worker as the staffing arithmetic sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    /// Their name, for the working shown.
    pub name: String,
    /// Full-time equivalence.
    pub fte: f64,
    /// Weighted caseload.
    pub load: f64,
    /// Their own per-FTE cap (smaller in their first year after qualifying).
    pub cap_per_fte: f64,
}

/// How many more staff are needed today, with the working shown.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffingGap {
    /// The cap per full-time worker used.
    pub cap_per_fte: f64,
    /// Workers counted.
    pub workers: usize,
    /// Their FTE in all.
    pub fte: f64,
    /// Their weighted caseload in all.
    pub load: f64,
    /// What they may hold in all (the sum of their caps).
    pub capacity: f64,
    /// Load above each worker's own cap, summed: what must move to bring everyone to or
    /// under their cap.
    pub over_cap: f64,
    /// Workers over their cap.
    pub workers_over_cap: usize,
    /// The FTE that would hold `over_cap` at the cap: `over_cap / cap_per_fte`.
    pub fte_needed: f64,
    /// The sum, line by line, in words.
    pub working: Vec<String>,
}

/// Rounds up to one decimal place (FTE are hired in tenths at the finest); a hair's
/// breadth of floating-point error is not a tenth.
pub fn round_up_tenth(x: f64) -> f64 {
    (x * 10.0 - 1e-9).ceil().max(0.0) / 10.0
}

/// Formats a load or cap without a pointless `.0`.
pub fn trim_number(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r}") }
}

fn num(x: f64) -> String {
    trim_number((x * 100.0).round() / 100.0)
}

/// The FTE a team (or the service) needs today to bring every worker to or under
/// their cap, moving only what is over each cap: spare room under one worker's cap is
/// not counted against another's excess, since children are not moved around to fill it.
/// The excess is turned into FTE at the standard `cap_per_fte` (new staff are not
/// assumed to be newly qualified).
pub fn staffing_gap(holdings: &[Holding], cap_per_fte: f64) -> StaffingGap {
    let mut working = vec![];
    let (mut fte, mut load, mut capacity, mut over_cap, mut over) = (0.0, 0.0, 0.0, 0.0, 0);
    for h in holdings {
        let cap = h.cap_per_fte * h.fte;
        fte += h.fte;
        load += h.load;
        capacity += cap;
        if is_over_cap(h.load, cap) {
            let excess = h.load - cap;
            over_cap += excess;
            over += 1;
            working.push(format!(
                "{} holds {} against a cap of {} ({} FTE × {}): {} over",
                h.name,
                num(h.load),
                num(cap),
                num(h.fte),
                num(h.cap_per_fte),
                num(excess)
            ));
        }
    }
    let fte_needed = if cap_per_fte > 0.0 { over_cap / cap_per_fte } else { 0.0 };
    if over == 0 {
        working.push(format!(
            "Nobody is over their cap: {} workers hold {} of {}.",
            holdings.len(),
            num(load),
            num(capacity)
        ));
    } else {
        working.push(format!("Over the cap in all: {}", num(over_cap)));
        working.push(format!(
            "FTE needed today: {} ÷ {} per FTE = {} FTE (to the next tenth: {})",
            num(over_cap),
            num(cap_per_fte),
            num(fte_needed),
            num(round_up_tenth(fte_needed))
        ));
    }
    StaffingGap {
        cap_per_fte,
        workers: holdings.len(),
        fte,
        load,
        capacity,
        over_cap,
        workers_over_cap: over,
        fte_needed,
        working,
    }
}

/// What the last twelve months say about the next twelve (Little's law: the number of
/// cases open on average = the rate they arrive × how long each stays open).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Forecast {
    /// Cases opened in the last 12 months.
    pub opened: u64,
    /// Arrival rate: cases a month.
    pub per_month: f64,
    /// Mean time a case stays open, in months.
    pub mean_months_open: f64,
    /// Mean weight of a case.
    pub mean_weight: f64,
    /// Expected open cases: `per_month × mean_months_open`.
    pub expected_open: f64,
    /// Expected weighted load: `expected_open × mean_weight`.
    pub expected_load: f64,
    /// FTE that load needs at the cap: `expected_load / cap_per_fte`.
    pub fte_needed: f64,
    /// FTE in post now.
    pub fte_in_post: f64,
    /// `fte_needed − fte_in_post` (negative: room to spare).
    pub gap: f64,
    /// The sum, line by line, in words.
    pub working: Vec<String>,
}

/// Forecasts the FTE needed in a steady state from the last 12 months: `opened` cases,
/// open on average `mean_days_open` days, of mean weight `mean_weight`.
pub fn forecast(opened: u64, mean_days_open: f64, mean_weight: f64, cap_per_fte: f64, fte_in_post: f64) -> Forecast {
    const DAYS_PER_MONTH: f64 = 365.25 / 12.0;
    let per_month = opened as f64 / 12.0;
    let mean_months_open = mean_days_open.max(0.0) / DAYS_PER_MONTH;
    let expected_open = per_month * mean_months_open;
    let expected_load = expected_open * mean_weight;
    let fte_needed = if cap_per_fte > 0.0 { expected_load / cap_per_fte } else { 0.0 };
    let gap = fte_needed - fte_in_post;
    let working = vec![
        format!("Arrivals: {opened} cases opened in the last 12 months = {} a month", num(per_month)),
        format!("Time open: {} days on average = {} months", num(mean_days_open), num(mean_months_open)),
        format!(
            "Expected open cases (Little's law): {} a month × {} months = {}",
            num(per_month),
            num(mean_months_open),
            num(expected_open)
        ),
        format!(
            "Expected load: {} cases × mean weight {} = {}",
            num(expected_open),
            num(mean_weight),
            num(expected_load)
        ),
        format!("FTE needed: {} ÷ {} per FTE = {}", num(expected_load), num(cap_per_fte), num(fte_needed)),
        if gap > 0.0 {
            format!("In post: {} FTE, so {} FTE short", num(fte_in_post), num(gap))
        } else {
            format!("In post: {} FTE, so {} FTE to spare", num(fte_in_post), num(-gap))
        },
    ];
    Forecast {
        opened,
        per_month,
        mean_months_open,
        mean_weight,
        expected_open,
        expected_load,
        fte_needed,
        fte_in_post,
        gap,
        working,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, fte: f64, load: f64) -> Holding {
        Holding { name: name.into(), fte, load, cap_per_fte: 15.0 }
    }

    #[test]
    fn the_cap_scales_with_fte_and_exactly_full_is_not_over() {
        assert_eq!(cap(Fte::FULL, DEFAULT_CAP_PER_FTE), 15.0);
        assert_eq!(cap(Fte::new(0.6).unwrap(), DEFAULT_CAP_PER_FTE), 9.0);
        assert!(!is_over_cap(15.0, 15.0));
        assert!(is_over_cap(16.0, 15.0));
        assert!(!is_over_cap(0.1 + 0.2, 0.3));
    }

    #[test]
    fn the_first_year_after_qualifying_is_newly_qualified() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        assert!(newly_qualified(Some(d("2025-09-01")), d("2026-03-02")));
        assert!(newly_qualified(Some(d("2025-03-02")), d("2026-03-01")));
        assert!(!newly_qualified(Some(d("2025-03-02")), d("2026-03-02")), "a year on, no longer");
        assert!(!newly_qualified(None, d("2026-03-02")), "not recorded: experienced");
        assert!(!newly_qualified(Some(d("2026-06-01")), d("2026-03-02")), "not yet qualified is not this");
    }

    #[test]
    fn loads_weigh_each_child_by_their_stage() {
        let default = Weights::default();
        assert_eq!(default.load([Stage::Cp, Stage::Cin, Stage::Lac, Stage::Assessment]), 4.0);
        let w = Weights { cp: 1.5, lac: 2.0, ..Weights::default() };
        // 2 CP × 1.5 + 1 LAC × 2 + 3 CIN × 1 = 8; a closed case weighs nothing.
        let stages = [Stage::Cp, Stage::Cp, Stage::Lac, Stage::Cin, Stage::Cin, Stage::Cin, Stage::Closed];
        assert_eq!(w.load(stages), 8.0);
        assert!(w.check().is_ok());
        assert_eq!(Weights { cp: -1.0, ..w }.check(), Err(("cp", "must be a number from 0 to 10")));
        assert!(Weights { lac: f64::NAN, ..w }.check().is_err());
    }

    #[test]
    fn families_are_chains_of_links_in_order_of_their_first_child() {
        // 10–30 siblings, 30–40 half-siblings through a shared parent, 20 alone, 50 linked to an outsider.
        let children = [10, 20, 30, 40, 50];
        assert_eq!(family_groups(&children, &[(40, 30), (30, 10), (50, 99)]), vec![vec![0, 2, 3], vec![1], vec![4]]);
        assert_eq!(family_groups(&children, &[]), vec![vec![0], vec![1], vec![2], vec![3], vec![4]]);
        assert!(family_groups::<i64>(&[], &[(1, 2)]).is_empty());
    }

    /// Worked by hand, extra 0.5 per further child: Ana holds the Scott children (Alfie
    /// CP 1.5, Bella CIN 1, Cody CIN 1: 1.5 + 0.5 + 0.5 = 2.5), their half-brother Dan
    /// (assessment 1; linked only through Cody: + 0.5 = 3.0), and an unrelated child on
    /// a CIN plan (1). Total 4.0 rather than 5.5 ungrouped.
    #[test]
    fn brothers_and_sisters_held_by_one_worker_count_as_one_case_and_an_extra() {
        let w = Weights { cp: 1.5, sibling_extra: Some(0.5), ..Weights::default() };
        let children = [(1, Stage::Cp), (2, Stage::Cin), (3, Stage::Cin), (4, Stage::Assessment), (5, Stage::Cin)];
        let family = [(1, 2), (2, 3), (3, 4), (9, 1)]; // 9 is held by someone else: ignored
        assert_eq!(w.family_load(&children, &family), 4.0);
        // Unset, every child counts in full whatever the links.
        let ungrouped = Weights { sibling_extra: None, ..w };
        assert_eq!(ungrouped.family_load(&children, &family), 5.5);
        // No links: the same as ungrouped.
        assert_eq!(w.family_load(&children, &[]), 5.5);
        // An extra above a light child's own weight never makes them weigh more than that.
        let heavy_extra = Weights { assessment: 0.5, sibling_extra: Some(2.0), ..Weights::default() };
        assert_eq!(heavy_extra.family_load(&[(1, Stage::Cin), (2, Stage::Assessment)], &[(2, 1)]), 1.5);
        // Twins on the same stage: one in full, one extra.
        assert_eq!(w.family_load(&[(1, Stage::Cin), (2, Stage::Cin)], &[(1, 2)]), 1.5);
        assert_eq!(w.check(), Ok(()));
        assert_eq!(
            Weights { sibling_extra: Some(-0.1), ..w }.check(),
            Err(("sibling_extra", "must be a number from 0 to 10"))
        );
    }

    /// Worked by hand: Ana (1.0 FTE) holds 20 → cap 15, 5 over; Ben (0.6 FTE) holds 12 →
    /// cap 9, 3 over; Cat (1.0) holds 10 → 5 spare, which is not counted. Over in all 8;
    /// 8 ÷ 15 = 0.533… FTE, to the next tenth 0.6.
    #[test]
    fn the_gap_counts_only_load_over_each_workers_own_cap() {
        let g = staffing_gap(&[h("Ana", 1.0, 20.0), h("Ben", 0.6, 12.0), h("Cat", 1.0, 10.0)], 15.0);
        assert_eq!(g.workers, 3);
        assert_eq!(g.fte, 2.6);
        assert_eq!(g.load, 42.0);
        assert_eq!(g.capacity, 39.0);
        assert_eq!(g.over_cap, 8.0);
        assert_eq!(g.workers_over_cap, 2);
        assert!((g.fte_needed - 8.0 / 15.0).abs() < 1e-12);
        assert_eq!(round_up_tenth(g.fte_needed), 0.6);
        assert_eq!(
            g.working,
            [
                "Ana holds 20 against a cap of 15 (1 FTE × 15): 5 over",
                "Ben holds 12 against a cap of 9 (0.6 FTE × 15): 3 over",
                "Over the cap in all: 8",
                "FTE needed today: 8 ÷ 15 per FTE = 0.53 FTE (to the next tenth: 0.6)",
            ]
        );
    }

    #[test]
    fn workers_fall_in_bands_of_their_own_cap() {
        assert_eq!(band(0.0, 15.0), 0);
        assert_eq!(band(7.4, 15.0), 0);
        assert_eq!(band(7.5, 15.0), 1);
        assert_eq!(band(12.0, 15.0), 2);
        assert_eq!(band(15.0, 15.0), 3);
        assert_eq!(band(9.0, 9.0), 3, "a part-timer at their own cap");
        assert_eq!(band(15.5, 15.0), 4);
        assert_eq!(band(22.5, 15.0), 4, "exactly 150% is not over it");
        assert_eq!(band(23.0, 15.0), 5);
        assert_eq!(band(1.0, 0.0), 5);
        let counts = histogram(&[h("Ana", 1.0, 20.0), h("Ben", 0.6, 9.0), h("Cat", 1.0, 3.0), h("Dan", 1.0, 40.0)]);
        assert_eq!(counts, [1, 0, 0, 1, 1, 1]);
    }

    /// A newly qualified worker (cap 12 per FTE) holding 14 is 2 over their own cap; the
    /// 2 becomes FTE at the standard 15.
    #[test]
    fn a_newly_qualified_workers_own_cap_counts() {
        let nq = Holding { cap_per_fte: 12.0, ..h("Nia", 1.0, 14.0) };
        let g = staffing_gap(std::slice::from_ref(&nq), 15.0);
        assert_eq!((g.capacity, g.over_cap), (12.0, 2.0));
        assert_eq!(g.working[0], "Nia holds 14 against a cap of 12 (1 FTE × 12): 2 over");
        assert!((g.fte_needed - 2.0 / 15.0).abs() < 1e-12);
        assert_eq!(histogram(&[nq]), [0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn nobody_over_the_cap_needs_nobody_more() {
        let g = staffing_gap(&[h("Ana", 1.0, 15.0), h("Ben", 0.5, 7.5)], 15.0);
        assert_eq!((g.over_cap, g.fte_needed, g.workers_over_cap), (0.0, 0.0, 0));
        assert_eq!(g.working, ["Nobody is over their cap: 2 workers hold 22.5 of 22.5."]);
        let empty = staffing_gap(&[], 15.0);
        assert_eq!((empty.workers, empty.fte_needed), (0, 0.0));
    }

    #[test]
    fn tenths_round_up_but_not_for_floating_point_dust() {
        assert_eq!(round_up_tenth(0.0), 0.0);
        assert_eq!(round_up_tenth(0.01), 0.1);
        assert_eq!(round_up_tenth(0.3), 0.3);
        assert_eq!(round_up_tenth(0.1 + 0.2), 0.3);
        assert_eq!(round_up_tenth(2.31), 2.4);
    }

    /// Worked by hand: 365 cases opened in a year = 30.42 a month; open 182.625 days on
    /// average = 6 months; expected open 182.5; at mean weight 1.2 a load of 219; at 15
    /// per FTE that needs 14.6 FTE; with 12 in post, 2.6 short.
    #[test]
    fn the_forecast_is_littles_law_with_the_working_shown() {
        let f = forecast(365, 182.625, 1.2, 15.0, 12.0);
        assert!((f.per_month - 30.416_666).abs() < 1e-5);
        assert!((f.mean_months_open - 6.0).abs() < 1e-12);
        assert!((f.expected_open - 182.5).abs() < 1e-9);
        assert!((f.expected_load - 219.0).abs() < 1e-9);
        assert!((f.fte_needed - 14.6).abs() < 1e-9);
        assert!((f.gap - 2.6).abs() < 1e-9);
        assert_eq!(f.working[2], "Expected open cases (Little's law): 30.42 a month × 6 months = 182.5");
        assert_eq!(f.working[5], "In post: 12 FTE, so 2.6 FTE short");
        let spare = forecast(120, 30.4375, 1.0, 15.0, 3.0);
        // 10 a month × 1 month = 10 open → 0.67 FTE; 3 in post → 2.33 to spare.
        assert!((spare.expected_open - 10.0).abs() < 1e-9);
        assert_eq!(spare.working[5], "In post: 3 FTE, so 2.33 FTE to spare");
        assert_eq!(forecast(0, 0.0, 1.0, 15.0, 0.0).fte_needed, 0.0);
    }

    #[test]
    fn numbers_print_without_noise() {
        assert_eq!(trim_number(15.0), "15");
        assert_eq!(trim_number(16.5), "16.5");
        assert_eq!(trim_number(0.1 + 0.2), "0.3");
    }
}
