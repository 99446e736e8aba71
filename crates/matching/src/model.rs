//! The Fellegi-Sunter model: m and u per comparison level, term-frequency adjustment, the
//! household correction, explanations, and label-free training.

use crate::blocking::{self, Rng};
use crate::prepared::{self, FIELD_NAMES, FIELDS, Gamma, Kind, LEVELS, Lookup, NONE, Prepared, f, lv};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Trained parameters. `m[field][level]` = P(level | same person), `u` = P(level | different
/// people) from random pairs, `u_household` = P(level | different people at one address).
/// Index 0 (missing) is unused: a missing value contributes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// m probabilities per field and level.
    pub m: Vec<Vec<f64>>,
    /// u probabilities per field and level (random pairs).
    pub u: Vec<Vec<f64>>,
    /// u probabilities per field and level among different people sharing an address.
    pub u_household: Vec<Vec<f64>>,
    /// Prior probability that two random records are the same person.
    pub lambda: f64,
}

/// Fields whose agreement is explained by living together, so in household context they
/// are weighed with `u_household` instead of `u`.
const HOUSEHOLD_FIELDS: [usize; 5] = [f::FIRST, f::SURNAME, f::DOB, f::SEX, f::NHS];

/// Bounds on one field's weight so that a single unusual level cannot decide alone.
const MAX_FIELD_WEIGHT: f64 = 24.0;

/// One field's contribution to a pair's score.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FieldWeight {
    pub weight: f64,
    pub note: Note,
}

/// Why a field's weight differs from the plain log2(m/u).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) enum Note {
    #[default]
    None,
    /// Adjusted by how common the value is (the log2 adjustment).
    TermFrequency(f64),
    /// Weighed against people who share an address.
    Household,
    /// Agreement already implied by a more specific location field.
    Implied(&'static str),
}

impl Model {
    fn log2_ratio(m: f64, u: f64) -> f64 {
        (m.max(1e-12) / u.max(1e-12)).log2().clamp(-MAX_FIELD_WEIGHT, MAX_FIELD_WEIGHT)
    }

    /// Prior log-odds weight, log2(λ / (1 − λ)).
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// Probability for a total match weight.
    pub fn probability(weight: f64) -> f64 {
        let odds = weight.exp2();
        if odds.is_infinite() { 1.0 } else { odds / (1.0 + odds) }
    }

    /// The match weight that corresponds to a probability threshold.
    pub fn weight_for_probability(p: f64) -> f64 {
        let p = p.clamp(1e-12, 1.0 - 1e-12);
        (p / (1.0 - p)).log2()
    }

    /// Per-field weights of a compared pair, with the dependence corrections applied.
    pub(crate) fn field_weights<L: Lookup + ?Sized>(&self, l: &L, a: &Prepared, g: Gamma) -> [FieldWeight; FIELDS] {
        let household = g.household();
        let mut out = [FieldWeight::default(); FIELDS];
        let total = l.total().max(1) as f64;
        for (field, slot) in out.iter_mut().enumerate() {
            let level = usize::from(g.get(field));
            if level == 0 {
                continue;
            }
            // Swapped names are as common among different people as the names themselves
            // (the same two names, other way round), in or out of a household: weigh them with
            // the exact level's random-pair u and term frequency, and count the (joint) swap
            // probability m only once, on the first name.
            let swapped = level == 2 && (field == f::FIRST || field == f::SURNAME);
            let in_household = household && !swapped && HOUSEHOLD_FIELDS.contains(&field);
            let u_table = if in_household { &self.u_household } else { &self.u };
            let m = match (swapped, field) {
                (true, f::SURNAME) => 1.0,
                _ => param(&self.m, field, level),
            };
            let u = param(u_table, field, if swapped { 1 } else { level });
            let mut w = Self::log2_ratio(m, u);
            let mut note = if in_household { Note::Household } else { Note::None };
            // Term frequency: an exact match on a common value is weaker evidence (Smith vs
            // Linacre). Only for exact levels, and not in household context, where u_household
            // already describes how often the value is shared.
            let tf_kind = match field {
                f::FIRST if !in_household => Some((Kind::First, a.first)),
                f::SURNAME if !in_household => Some((Kind::Surname, a.surname)),
                f::ADDRESS => Some((Kind::Address, a.address)),
                f::TOWN => Some((Kind::Town, a.town)),
                f::POSTCODE => Some((Kind::Postcode, a.postcode)),
                _ => None,
            };
            if (level == 1 || swapped)
                && let Some((kind, sym)) = tf_kind
                && sym != NONE
            {
                let tf = (f64::from(l.count(kind, sym)).max(1.0) / total).min(1.0);
                let adj = (u / tf).log2().clamp(-MAX_FIELD_WEIGHT, MAX_FIELD_WEIGHT);
                w = (w + adj).clamp(-MAX_FIELD_WEIGHT, MAX_FIELD_WEIGHT);
                note = Note::TermFrequency(adj);
            }
            *slot = FieldWeight { weight: w, note };
        }
        // Location fields are nested (address ⊂ postcode ⊂ town) and a house move changes
        // all three at once: once the address has spoken, agreement or disagreement of the
        // wider fields adds nothing (counting them again would count one fact three times).
        let addr = g.get(f::ADDRESS);
        let addr_agrees = matches!(addr, lv::ADDRESS_EXACT | lv::ADDRESS_SAME_STREET | lv::ADDRESS_JW90);
        let addr_differs = addr > lv::ADDRESS_JW90;
        let pc = g.get(f::POSTCODE);
        let pc_agrees = (lv::POSTCODE_EXACT..=lv::POSTCODE_DISTRICT).contains(&pc);
        let pc_differs = pc > lv::POSTCODE_DISTRICT;
        let pw = out[f::POSTCODE].weight;
        if (addr_agrees && pw > 0.0) || (addr_differs && pw < 0.0) {
            out[f::POSTCODE] = FieldWeight { weight: 0.0, note: Note::Implied("address") };
        }
        let tw = out[f::TOWN].weight;
        if (pc_agrees && tw > 0.0) || (pc_differs && tw < 0.0) {
            out[f::TOWN] = FieldWeight { weight: 0.0, note: Note::Implied("postcode") };
        } else if (addr_agrees && tw > 0.0) || (addr_differs && tw < 0.0) {
            out[f::TOWN] = FieldWeight { weight: 0.0, note: Note::Implied("address") };
        }
        out
    }

    /// Total match weight (prior included) of a compared pair.
    pub(crate) fn weight<L: Lookup + ?Sized>(&self, l: &L, a: &Prepared, g: Gamma) -> f64 {
        self.prior_weight() + self.field_weights(l, a, g).iter().map(|w| w.weight).sum::<f64>()
    }

    /// A full explanation of a compared pair.
    pub(crate) fn explain<L: Lookup + ?Sized>(&self, l: &L, a: &Prepared, b: &Prepared, g: Gamma) -> Explanation {
        let weights = self.field_weights(l, a, g);
        let prior = self.prior_weight();
        let total = prior + weights.iter().map(|w| w.weight).sum::<f64>();
        let different = prepared::different_people(l, a, b, g);
        let mut fields = Vec::with_capacity(FIELDS);
        for (field, fw) in weights.iter().enumerate() {
            let level = usize::from(g.get(field));
            let label = LEVELS[field][level];
            let values = display_values(l, a, b, field);
            let mut text = format!("{}: {}", FIELD_NAMES[field], label);
            if let Some((x, y)) = &values {
                if x == y {
                    text.push_str(&format!(" ({x})"));
                } else {
                    text.push_str(&format!(" ({x} ↔ {y})"));
                }
            }
            let note = match fw.note {
                Note::None => None,
                Note::TermFrequency(adj) => Some(format!(
                    "{} value ({adj:+.1} for how common it is)",
                    if adj < 0.0 { "common" } else { "rare" }
                )),
                Note::Household => Some("weighed against other people at the same address".into()),
                Note::Implied(by) => Some(format!("already implied by the {by}; not counted twice")),
            };
            fields.push(FieldEvidence {
                field: FIELD_NAMES[field],
                level: label,
                values,
                weight: round2(fw.weight),
                note,
                text,
            });
        }
        let probability = if different.is_some() { 0.0 } else { Self::probability(total) };
        Explanation {
            probability,
            match_weight: round2(total),
            prior_weight: round2(prior),
            fields,
            different_people: different.map(str::to_owned),
        }
    }

    /// The reference model shipped with the crate, trained without labels on 100,000
    /// synthetic UK people (`examples/train_reference.rs`): what a store with too few
    /// people to learn from uses.
    pub fn reference() -> Self {
        // The file is part of the crate and checked by a test; a broken build falls back
        // to the neutral model rather than failing a request.
        serde_json::from_str(include_str!("../data/reference_model.json")).unwrap_or_else(|_| Self::untrained())
    }

    /// A neutral starting model (used before training and for tiny data sets).
    pub fn untrained() -> Self {
        let m = (0..FIELDS).map(|fi| initial_m(LEVELS[fi].len())).collect::<Vec<_>>();
        let u = (0..FIELDS)
            .map(|fi| {
                let n = LEVELS[fi].len();
                let mut v = vec![0.0; n];
                // Agreement is rare among random people, disagreement common.
                for (l, x) in v.iter_mut().enumerate().skip(1) {
                    *x = if l == n - 1 { 0.9 } else { 0.1 / (n - 2).max(1) as f64 };
                }
                v
            })
            .collect::<Vec<_>>();
        Model { m, u_household: u.clone(), u, lambda: 1e-4 }
    }
}

/// A model parameter; a model deserialised from elsewhere may be malformed, and a missing
/// entry must not panic a web request (0.5 makes the level neutral-ish).
fn param(table: &[Vec<f64>], field: usize, level: usize) -> f64 {
    table.get(field).and_then(|row| row.get(level)).copied().unwrap_or(0.5)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn title(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |h| h.to_uppercase().chain(c).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn display_values<L: Lookup + ?Sized>(l: &L, a: &Prepared, b: &Prepared, field: usize) -> Option<(String, String)> {
    let sym = |x: u32, y: u32, get: &dyn Fn(u32) -> String| (x != NONE && y != NONE).then(|| (get(x), get(y)));
    match field {
        f::FIRST => sym(a.first, b.first, &|s| title(&l.name(s).text)),
        f::SURNAME => sym(a.surname, b.surname, &|s| title(&l.name(s).text)),
        f::DOB => Some((a.dob?.to_string(), b.dob?.to_string())),
        f::SEX => {
            let s = |x: crate::Sex| if x == crate::Sex::Male { "M" } else { "F" }.to_owned();
            Some((s(a.sex?), s(b.sex?)))
        }
        f::ADDRESS => sym(a.address, b.address, &|s| title(l.text(0, s))),
        f::TOWN => sym(a.town, b.town, &|s| title(l.text(1, s))),
        f::POSTCODE => sym(a.postcode, b.postcode, &|s| l.text(2, s).to_owned()),
        // The NHS number itself is not repeated in explanations (they may be shown to
        // partner agencies); the level says enough.
        _ => None,
    }
}

/// Why the engine thinks two records are (or are not) the same person.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    /// Final probability that the two records are the same person (0 when
    /// `different_people` is set).
    pub probability: f64,
    /// Total log2 Bayes factor including the prior.
    pub match_weight: f64,
    /// The prior's log2 odds.
    pub prior_weight: f64,
    /// Per-field evidence, in a fixed order.
    pub fields: Vec<FieldEvidence>,
    /// Set when there is clear evidence of two different people (e.g. twins).
    pub different_people: Option<String>,
}

/// One field's contribution to an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldEvidence {
    /// Field name ("first name").
    pub field: &'static str,
    /// Comparison level reached ("nickname").
    pub level: &'static str,
    /// The two normalised values compared (omitted for missing values and NHS numbers).
    pub values: Option<(String, String)>,
    /// Weight added to the match weight (log2 Bayes factor).
    pub weight: f64,
    /// Adjustments applied (term frequency, household context, nesting).
    pub note: Option<String>,
    /// One line for people: "first name: nickname (Alfie ↔ Alfred)".
    pub text: String,
}

impl Explanation {
    /// The evidence for one field, by its display name.
    pub fn field(&self, name: &str) -> Option<&FieldEvidence> {
        self.fields.iter().find(|e| e.field == name)
    }
}

// ---------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------

/// Training knobs.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// Random pairs for u.
    pub u_pairs: usize,
    /// Pairs per EM session.
    pub em_pairs: usize,
    /// Seed for every sample.
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings { u_pairs: 500_000, em_pairs: 300_000, seed: 42 }
    }
}

fn initial_m(n: usize) -> Vec<f64> {
    let mut v = vec![0.0; n];
    if n < 2 {
        return v;
    }
    v[1] = 0.8;
    let last = n - 1;
    if last > 1 {
        v[last] = 0.02;
    }
    let middle = last.saturating_sub(2);
    for x in v.iter_mut().take(last).skip(2) {
        *x = 0.18 / middle as f64;
    }
    if last == 1 {
        v[1] = 1.0;
    }
    v
}

/// Level counts per field.
type Counts = Vec<Vec<f64>>;

fn zero_counts() -> Counts {
    (0..FIELDS).map(|fi| vec![0.0; LEVELS[fi].len()]).collect()
}

fn add_counts(mut a: Counts, b: Counts) -> Counts {
    for (x, y) in a.iter_mut().zip(b) {
        for (p, q) in x.iter_mut().zip(y) {
            *p += q;
        }
    }
    a
}

/// Normalises counts over the non-missing levels, with a half-count floor so that a level
/// never seen in the sample gets a small but finite probability.
fn normalise(c: &Counts) -> Vec<Vec<f64>> {
    c.iter()
        .map(|row| {
            let n = row.len();
            let total: f64 = row.iter().skip(1).sum::<f64>() + 0.5 * (n - 1) as f64;
            let mut out = vec![0.0; n];
            for l in 1..n {
                out[l] = (row[l] + 0.5) / total;
            }
            out
        })
        .collect()
}

/// Trains a model without labels on prepared records.
///
/// * u: level frequencies among random pairs (seeded sample).
/// * u_household: among pairs at the same address that clearly are different people
///   (different date of birth or unrelated first name) — how often household members share
///   a surname, a date of birth (twins), a first name...
/// * m and λ: expectation-maximisation with u fixed, in two sessions as Splink does, so that
///   the fields a session was sampled on never get their m from it: pairs sharing a date of
///   birth (m for everything else, and the match share among such pairs) and pairs sharing
///   first-name group and surname (m for date of birth).
pub(crate) fn train<L: Lookup>(l: &L, recs: &[Prepared], s: &TrainSettings) -> Model {
    let n = recs.len();
    let mut model = Model::untrained();
    if n < 2 {
        return model;
    }
    // --- u from random pairs (each chunk seeded on its own, so the sum is deterministic).
    let total_pairs = n as f64 * (n - 1) as f64 / 2.0;
    let u_pairs = (s.u_pairs as f64).min(total_pairs * 2.0) as usize;
    let chunks = 64usize;
    let per = u_pairs.div_ceil(chunks);
    let u_counts = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = Rng::new(s.seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut counts = zero_counts();
            for _ in 0..per {
                let i = rng.below(n);
                let j = rng.below(n);
                if i == j {
                    continue;
                }
                let g = prepared::gamma(l, &recs[i], &recs[j]);
                for (fi, row) in counts.iter_mut().enumerate() {
                    row[usize::from(g.get(fi))] += 1.0;
                }
            }
            counts
        })
        .reduce(zero_counts, add_counts);
    model.u = normalise(&u_counts);

    // --- u_household from pairs sharing an address that are clearly different people.
    // A household is an address at a postcode ("4 Oak Road" exists in many towns).
    let household_keys = recs
        .iter()
        .map(|r| {
            if r.address == NONE || r.postcode == NONE {
                0
            } else {
                blocking::mix(&[u64::from(r.address), u64::from(r.postcode)])
            }
        })
        .collect();
    let by_address = blocking::group_by(household_keys, 0);
    // Enough households for stable frequencies; groups come in key order, which is
    // unrelated to their content.
    let mut budget = s.em_pairs;
    let households: Vec<&Vec<u32>> = by_address
        .iter()
        .filter(|g| (2..=40).contains(&g.len()))
        .take_while(|g| {
            let pairs = g.len() * (g.len() - 1) / 2;
            let go = budget > 0;
            budget = budget.saturating_sub(pairs);
            go
        })
        .collect();
    let hh_counts = households
        .par_iter()
        .map(|group| {
            let mut counts = zero_counts();
            for (x, &i) in group.iter().enumerate() {
                for &j in &group[x + 1..] {
                    let g = prepared::gamma(l, &recs[i as usize], &recs[j as usize]);
                    let dob_diff = g.get(f::DOB) == 5;
                    let first_diff = g.get(f::FIRST) == lv::FIRST_DIFFERENT;
                    // The same (or nearly the same) NHS number means the same person.
                    let nhs_same = matches!(g.get(f::NHS), 1 | 2);
                    for fi in HOUSEHOLD_FIELDS {
                        // Condition on disagreement in *other* fields, so the field being
                        // counted is not itself selected on.
                        let different = !nhs_same
                            && match fi {
                                f::FIRST => dob_diff,
                                f::DOB => first_diff,
                                _ => dob_diff && first_diff,
                            };
                        if different {
                            counts[fi][usize::from(g.get(fi))] += 1.0;
                        }
                    }
                }
            }
            counts
        })
        .reduce(zero_counts, add_counts);
    let hh = normalise(&hh_counts);
    // Shrink towards the random-pair u when the household sample is small: a data set with
    // few multi-person addresses (FEBRL, where nearly everyone at one address is one person
    // with typos) must not learn "households" from its own duplicates.
    model.u_household = model.u.clone();
    for fi in HOUSEHOLD_FIELDS {
        let seen: f64 = hh_counts[fi].iter().skip(1).sum();
        let k = 2000.0;
        let (observed, random) = (&hh[fi], &model.u[fi]);
        let shrunk: Vec<f64> = observed.iter().zip(random).map(|(o, r)| (seen * o + k * r) / (seen + k)).collect();
        model.u_household[fi] = shrunk;
    }

    // --- EM session A: pairs sharing a date of birth.
    let dob_keys: Vec<u64> = recs.iter().map(|r| r.dob.map_or(0, |d| blocking::dob_key(&d))).collect();
    let dob_groups = blocking::group_by(dob_keys, 0);
    let (pats_a, pairs_a) = sample_group_pairs(l, recs, &dob_groups, s.em_pairs, s.seed ^ 0xA);
    let mut m = model.m.clone();
    let pi_a = em(&model, &mut m, &pats_a, &[f::DOB]);
    // --- EM session B: pairs sharing first-name group and surname.
    let name_keys: Vec<u64> = recs
        .iter()
        .map(|r| {
            if r.first == NONE || r.surname == NONE {
                0
            } else {
                blocking::mix(&[blocking::first_name_key(l, r.first), u64::from(r.surname)])
            }
        })
        .collect();
    let name_groups = blocking::group_by(name_keys, 0);
    let (pats_b, _) = sample_group_pairs(l, recs, &name_groups, s.em_pairs, s.seed ^ 0xB);
    let mut m_b = model.m.clone();
    // Sex is skipped too: it follows from the first name, so it is not independent here.
    let _ = em(&model, &mut m_b, &pats_b, &[f::FIRST, f::SURNAME, f::SEX]);
    m[f::DOB] = m_b[f::DOB].clone();
    model.m = m;

    // --- λ: matches sharing a date of birth = π_A × (pairs sharing a DOB); divide by the
    // chance that a matching pair has both dates recorded and equal.
    let with_dob = recs.iter().filter(|r| r.dob.is_some()).count() as f64 / n as f64;
    let m_dob_exact = model.m[f::DOB][1].max(0.05);
    let matches = pi_a * pairs_a / (with_dob * with_dob * m_dob_exact).max(1e-9);
    model.lambda = (matches / total_pairs).clamp(1e-12, 0.5);
    model
}

/// Samples up to `max` pairs uniformly from within groups; returns aggregated comparison
/// patterns and the total number of pairs the groups hold.
fn sample_group_pairs<L: Lookup>(
    l: &L,
    recs: &[Prepared],
    groups: &[Vec<u32>],
    max: usize,
    seed: u64,
) -> (Vec<(Gamma, f64)>, f64) {
    let mut cum = Vec::with_capacity(groups.len());
    let mut total = 0f64;
    for g in groups {
        let k = g.len() as f64;
        total += k * (k - 1.0) / 2.0;
        cum.push(total);
    }
    if total < 1.0 {
        return (Vec::new(), 0.0);
    }
    let draws = (max as f64).min(total * 3.0) as usize;
    let chunks = 32usize;
    let per = draws.div_ceil(chunks);
    let hist = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = Rng::new(seed ^ (c as u64 + 1).wrapping_mul(0xD134_2543_DE82_EF95));
            let mut h: FxHashMap<u32, f64> = FxHashMap::default();
            for _ in 0..per {
                let x = rng.unit() * total;
                let gi = cum.partition_point(|&c| c <= x).min(groups.len() - 1);
                let g = &groups[gi];
                if g.len() < 2 {
                    continue;
                }
                let i = rng.below(g.len());
                let mut j = rng.below(g.len() - 1);
                if j >= i {
                    j += 1;
                }
                let gm = prepared::gamma(l, &recs[g[i] as usize], &recs[g[j] as usize]);
                *h.entry(gm.0).or_default() += 1.0;
            }
            h
        })
        .reduce(FxHashMap::default, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        });
    let mut pats: Vec<(Gamma, f64)> = hist.into_iter().map(|(k, v)| (Gamma(k), v)).collect();
    pats.sort_by_key(|p| p.0.0);
    (pats, total)
}

/// EM for m and the match share π, u fixed; `skip` fields are ignored (they were sampled on).
fn em(model: &Model, m: &mut [Vec<f64>], pats: &[(Gamma, f64)], skip: &[usize]) -> f64 {
    let mut pi: f64 = 0.2;
    if pats.is_empty() {
        return 0.0;
    }
    for _ in 0..60 {
        let mut acc = zero_counts();
        let mut match_mass = 0.0;
        let mut total = 0.0;
        for &(g, count) in pats {
            let household = g.household();
            let (mut lm, mut lu) = (pi.ln(), (1.0 - pi).ln());
            for (fi, m_field) in m.iter().enumerate() {
                let lvl = usize::from(g.get(fi));
                if lvl == 0 || skip.contains(&fi) {
                    continue;
                }
                let u = if household && HOUSEHOLD_FIELDS.contains(&fi) {
                    model.u_household[fi][lvl]
                } else {
                    model.u[fi][lvl]
                };
                lm += m_field[lvl].max(1e-12).ln();
                lu += u.max(1e-12).ln();
            }
            let r = 1.0 / (1.0 + (lu - lm).exp());
            match_mass += r * count;
            total += count;
            for (fi, row) in acc.iter_mut().enumerate() {
                row[usize::from(g.get(fi))] += r * count;
            }
        }
        let new_pi = (match_mass / total).clamp(1e-9, 1.0 - 1e-9);
        for fi in 0..FIELDS {
            if skip.contains(&fi) {
                continue;
            }
            let row = &acc[fi];
            let seen: f64 = row.iter().skip(1).sum();
            if seen <= 0.0 {
                continue;
            }
            for lvl in 1..row.len() {
                m[fi][lvl] = ((row[lvl] + 1e-3) / (seen + 1e-3 * (row.len() - 1) as f64)).max(1e-6);
            }
        }
        let converged = (new_pi - pi).abs() < 1e-7;
        pi = new_pi;
        if converged {
            break;
        }
    }
    pi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepared::Tables;

    #[test]
    fn probability_and_weight_are_inverse() {
        for p in [0.001, 0.1, 0.5, 0.9, 0.999] {
            assert!((Model::probability(Model::weight_for_probability(p)) - p).abs() < 1e-9);
        }
        assert_eq!(Model::weight_for_probability(0.5), 0.0);
        assert_eq!(Model::probability(2000.0), 1.0);
    }

    #[test]
    fn malformed_model_does_not_panic() {
        let mut t = Tables::default();
        let n = crate::prepared::Normalized::of(&crate::Record {
            first_name: "Ann".into(),
            surname: "Lee".into(),
            ..Default::default()
        });
        let a = t.insert(&n);
        let b = t.insert(&n);
        let g = prepared::gamma(&t, &a, &b);
        let broken = Model { m: vec![], u: vec![vec![0.1]], u_household: vec![], lambda: 0.01 };
        assert!(broken.weight(&t, &a, g).is_finite());
    }

    #[test]
    fn swapped_names_count_once_and_household_weakens_surname() {
        let model = Model::untrained();
        let t = Tables::default();
        let rec = |first: u32| Prepared {
            first,
            surname: NONE,
            address: NONE,
            town: NONE,
            postcode: NONE,
            nhs: NONE,
            dob: None,
            sex: None,
        };
        // Swapped on both name fields: the surname's share of m is counted with the first name.
        let mut g = Gamma(0);
        g.0 |= 2 << (4 * f::FIRST);
        g.0 |= 2 << (4 * f::SURNAME);
        let w = model.field_weights(&t, &rec(NONE), g);
        assert!(w[f::SURNAME].weight > 0.0 && w[f::FIRST].weight < w[f::SURNAME].weight);
        // Same address: surname agreement is weighed with u_household.
        let mut hh = model.clone();
        hh.u_household[f::SURNAME][1] = 0.9;
        let mut g = Gamma(0);
        g.0 |= 1 << (4 * f::SURNAME);
        let away = hh.field_weights(&t, &rec(NONE), g)[f::SURNAME].weight;
        g.0 |= 1 << (4 * f::ADDRESS);
        let home = hh.field_weights(&t, &rec(NONE), g);
        assert!(home[f::SURNAME].weight < away);
        assert_eq!(home[f::SURNAME].note, Note::Household);
    }
}
