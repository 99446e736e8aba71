//! Blocking: which pairs get compared at all. Several keys are OR-ed; a pair found by an
//! earlier rule is not emitted again by a later one.

use crate::normalize::Dob;
use crate::prepared::{self, Gamma, Lookup, NONE, Prepared};
use rayon::prelude::*;
use rustc_hash::{FxHashSet, FxHasher};
use std::hash::Hasher;

/// Number of blocking rules.
pub const RULES: usize = 11;

/// Human names of the blocking rules, in order.
pub const RULE_NAMES: [&str; RULES] = [
    "NHS number",
    "first-name group + surname sound + birth year",
    "date of birth + surname sound",
    "date of birth + first-name group",
    "postcode + first-name group",
    "date of birth + postcode",
    "first name and surname swapped",
    "postcode + initials",
    "date of birth + both name sounds in either order",
    "first half of NHS number + surname initial",
    "second half of NHS number + surname initial",
];

/// The rule whose blocks also hold same-order pairs, which it must not emit.
const SWAPPED_RULE: usize = 6;

/// Small deterministic generator (SplitMix64) so that samples are reproducible.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Hashes key parts into one non-zero key (0 means "no key").
pub(crate) fn mix(parts: &[u64]) -> u64 {
    let mut h = FxHasher::default();
    for p in parts {
        h.write_u64(*p);
    }
    h.finish() | 1
}

fn str_key(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A date of birth as a key.
pub(crate) fn dob_key(d: &Dob) -> u64 {
    (u64::from(d.year) << 16 | u64::from(d.month) << 8 | u64::from(d.day)) + 1
}

/// First-name key: its nickname group when it has one (so Alfie and Alfred meet), else its
/// Double Metaphone code (so spelling variants outside the table meet).
/// A name outside the table whose Double Metaphone code equals that of a table name joins
/// that name's group, so "Aalex" still meets "Alexander".
pub(crate) fn first_name_key<L: Lookup + ?Sized>(l: &L, sym: u32) -> u64 {
    let info = l.name(sym);
    let table = crate::compare::Nicknames::builtin();
    let group = info.groups.first().copied().or_else(|| table.group_by_sound(&info.phonetic.0));
    match group {
        Some(g) => (1u64 << 40) | u64::from(g),
        None if !info.phonetic.0.is_empty() => str_key(&info.phonetic.0),
        None => str_key(&info.text),
    }
}

/// Sound key of a surname's first word: a double-barrelled name still meets its first part.
fn surname_sound<L: Lookup + ?Sized>(l: &L, sym: u32) -> u64 {
    let info = l.name(sym);
    match info.text.split(' ').next() {
        Some(first) if first.len() < info.text.len() => {
            let code = crate::compare::double_metaphone(first).0;
            if code.is_empty() { str_key(first) } else { str_key(&code) }
        }
        _ if !info.phonetic.0.is_empty() => str_key(&info.phonetic.0),
        _ => str_key(&info.text),
    }
}

fn nhs_half<L: Lookup + ?Sized>(l: &L, p: &Prepared, first: bool) -> Option<u64> {
    if p.nhs == NONE {
        return None;
    }
    let digits = l.text(3, p.nhs);
    let half = digits.len() / 2;
    let part = if first { digits.get(..half) } else { digits.get(digits.len() - half..) }?;
    Some(str_key(part) ^ u64::from(first))
}

fn initial<L: Lookup + ?Sized>(l: &L, sym: u32) -> u64 {
    u64::from(l.name(sym).text.bytes().next().unwrap_or(0)) + 1
}

/// The blocking keys of a record, one per rule (0 = the record has no key for that rule).
pub(crate) fn keys<L: Lookup + ?Sized>(l: &L, p: &Prepared) -> [u64; RULES] {
    let fk = (p.first != NONE).then(|| first_name_key(l, p.first));
    let dob = p.dob.as_ref().map(dob_key);
    let sur_sound = (p.surname != NONE).then(|| surname_sound(l, p.surname));
    let first_sound = (p.first != NONE).then(|| surname_sound(l, p.first));
    // Both name sounds, unordered: catches swapped names that also carry a typo.
    let both_sounds = match (first_sound, sur_sound) {
        (Some(x), Some(y)) => Some(mix(&[x.min(y), x.max(y)])),
        _ => None,
    };
    let sur_initial = (p.surname != NONE).then(|| initial(l, p.surname));
    let initials = match (p.first != NONE, p.surname != NONE) {
        (true, true) => Some(initial(l, p.first) << 8 | initial(l, p.surname)),
        _ => None,
    };
    let some = |v: u32| (v != NONE).then_some(u64::from(v));
    let k = |r: u64, parts: &[Option<u64>]| -> u64 {
        let mut vals = [0u64; 4];
        vals[0] = r;
        for (i, p) in parts.iter().enumerate() {
            match p {
                Some(v) => vals[i + 1] = *v,
                None => return 0,
            }
        }
        mix(&vals[..=parts.len()])
    };
    let swapped = if p.first != NONE && p.surname != NONE && p.first != p.surname {
        let (lo, hi) = (p.first.min(p.surname), p.first.max(p.surname));
        mix(&[6, u64::from(lo), u64::from(hi)])
    } else {
        0
    };
    [
        k(0, &[some(p.nhs)]),
        k(1, &[fk, sur_sound, p.dob.map(|d| u64::from(d.year))]),
        k(2, &[dob, sur_sound]),
        k(3, &[dob, fk]),
        k(4, &[some(p.postcode), fk]),
        k(5, &[dob, some(p.postcode)]),
        swapped,
        k(7, &[some(p.postcode), initials]),
        k(8, &[dob, both_sounds]),
        // One typo leaves one half of an identifier intact.
        k(9, &[nhs_half(l, p, true), sur_initial]),
        k(10, &[nhs_half(l, p, false), sur_initial]),
    ]
}

/// Groups record indices by key (skipping `none`), in a deterministic order.
pub(crate) fn group_by(keys: Vec<u64>, none: u64) -> Vec<Vec<u32>> {
    let mut idx: Vec<(u64, u32)> =
        keys.into_iter().enumerate().filter(|(_, k)| *k != none).map(|(i, k)| (k, i as u32)).collect();
    idx.par_sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && idx[end].0 == idx[start].0 {
            end += 1;
        }
        if end - start >= 2 {
            out.push(idx[start..end].iter().map(|x| x.1).collect());
        }
        start = end;
    }
    out
}

/// A compared candidate pair (indices into the record slice, left < right).
pub(crate) type Candidate = (u32, u32, Gamma);

/// Statistics of a blocking run.
#[derive(Debug, Clone, Default)]
pub struct BlockingStats {
    /// Pairs compared, per rule (after removing pairs an earlier rule found).
    pub pairs_per_rule: [u64; RULES],
    /// Blocks skipped because they held more than the cap.
    pub oversized_blocks: [u64; RULES],
}

/// Finds and compares every candidate pair.
pub(crate) fn candidate_pairs<L: Lookup>(
    l: &L,
    recs: &[Prepared],
    max_block: usize,
    mut progress: impl FnMut(usize, usize),
) -> (Vec<Candidate>, BlockingStats) {
    let keys: Vec<[u64; RULES]> = recs.par_iter().map(|p| keys(l, p)).collect();
    let mut stats = BlockingStats::default();
    let mut oversized: Vec<FxHashSet<u64>> = vec![FxHashSet::default(); RULES];
    let mut out = Vec::new();
    for rule in 0..RULES {
        progress(rule, RULES);
        let mut idx: Vec<(u64, u32)> =
            keys.iter().enumerate().filter(|(_, k)| k[rule] != 0).map(|(i, k)| (k[rule], i as u32)).collect();
        idx.par_sort_unstable();
        let mut blocks = Vec::new();
        let mut start = 0;
        while start < idx.len() {
            let mut end = start + 1;
            while end < idx.len() && idx[end].0 == idx[start].0 {
                end += 1;
            }
            let len = end - start;
            if len > max_block {
                oversized[rule].insert(idx[start].0);
                stats.oversized_blocks[rule] += 1;
            } else if len >= 2 {
                blocks.push((start, end));
            }
            start = end;
        }
        let earlier = &oversized[..rule];
        let found: Vec<Candidate> = blocks
            .par_iter()
            .flat_map_iter(|&(s, e)| {
                let members = &idx[s..e];
                let keys = &keys;
                (0..members.len()).flat_map(move |x| {
                    (x + 1..members.len()).filter_map(move |y| {
                        let (i, j) = (members[x].1, members[y].1);
                        let (ki, kj) = (&keys[i as usize], &keys[j as usize]);
                        // Already produced by an earlier rule (whose block was not skipped)?
                        let seen = (0..rule).any(|r| ki[r] != 0 && ki[r] == kj[r] && !earlier[r].contains(&ki[r]));
                        if seen {
                            return None;
                        }
                        let (pi, pj) = (&recs[i as usize], &recs[j as usize]);
                        if rule == SWAPPED_RULE && pi.first != pj.surname {
                            return None;
                        }
                        let (i, j) = (i.min(j), i.max(j));
                        Some((i, j, prepared::gamma(l, &recs[i as usize], &recs[j as usize])))
                    })
                })
            })
            .collect();
        stats.pairs_per_rule[rule] = found.len() as u64;
        out.extend(found);
    }
    progress(RULES, RULES);
    (out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;
    use crate::prepared::{Normalized, Tables};

    fn keys_of(t: &mut Tables, r: Record) -> [u64; RULES] {
        let p = t.insert(&Normalized::of(&r));
        keys(t, &p)
    }

    fn person(first: &str, surname: &str, dob: &str, postcode: &str) -> Record {
        Record {
            first_name: first.into(),
            surname: surname.into(),
            dob: dob.into(),
            postcode: postcode.into(),
            ..Default::default()
        }
    }

    #[test]
    fn nicknames_typos_and_swaps_share_a_block() {
        let mut t = Tables::default();
        let alfred = keys_of(&mut t, person("Alfred", "Scott", "2011-03-04", "LS1 1AA"));
        let alfie = keys_of(&mut t, person("Alfie", "Scot", "4/3/2011", ""));
        // DOB + first-name group and DOB + surname sound both hold.
        assert_eq!(alfred[3], alfie[3]);
        assert_eq!(alfred[2], alfie[2]);
        assert_ne!(alfred[3], 0);
        let swapped = keys_of(&mut t, person("Scott", "Alfred", "", ""));
        assert_eq!(alfred[6], swapped[6], "swapped names share the swap key");
        let stranger = keys_of(&mut t, person("Mia", "Khan", "2011-03-04", "LS1 1AA"));
        for r in [1, 2, 3, 4, 6, 7] {
            assert_ne!(alfred[r], stranger[r], "rule {r}");
        }
        // Same DOB and postcode is a key of its own.
        assert_eq!(alfred[5], stranger[5]);
        // Missing fields give no key rather than a shared empty one.
        let empty = keys_of(&mut t, Record::default());
        assert!(empty.iter().all(|k| *k == 0));
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        for _ in 0..1000 {
            let x = a.below(7);
            assert_eq!(x, b.below(7));
            assert!(x < 7);
            let u = a.unit();
            b.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
