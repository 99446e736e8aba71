//! Bulk de-duplication: prepare, train, block, score, cluster.

use crate::blocking::{self, BlockingStats};
use crate::cluster::{self, Judge, Verdict};
use crate::model::{self, Explanation, Model, TrainSettings};
use crate::prepared::{self, Normalized, Prepared, Tables};
use crate::record::Record;
use rayon::prelude::*;

/// Engine settings (defaults are the engine's own; the benchmark uses them unchanged).
#[derive(Debug, Clone)]
pub struct Settings {
    /// A pair is the same person when its probability reaches this.
    pub threshold: f64,
    /// Blocks with more records than this are skipped for that rule (other rules still
    /// apply); bounds the work on very common names.
    pub max_block: usize,
    /// No person gets more records than this (a guard against run-away merging).
    pub max_cluster: usize,
    /// Training sample sizes and seed.
    pub train: TrainSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { threshold: 0.5, max_block: 400, max_cluster: 60, train: TrainSettings::default() }
    }
}

/// Steps of a bulk run, for progress reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Normalising and interning records.
    Prepare,
    /// Estimating u, m and the prior.
    Train,
    /// Finding and comparing candidate pairs (progress counts rules).
    Block,
    /// Scoring candidate pairs.
    Score,
    /// Merging pairs into people (progress counts links).
    Cluster,
}

/// A scored pair of records (indices into the input slice).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    /// Index of the first record.
    pub left: u32,
    /// Index of the second record.
    pub right: u32,
    /// Probability that they are the same person.
    pub probability: f64,
    /// Total log2 Bayes factor including the prior.
    pub match_weight: f64,
}

/// The result of a bulk run.
#[derive(Debug, Clone)]
pub struct Dedupe {
    /// Person number of every input record (same order as the input).
    pub clusters: Vec<u32>,
    /// Pairs at or above the threshold (and not clearly different people).
    pub pairs: Vec<ScoredPair>,
    /// The trained model.
    pub model: Model,
    /// Number of candidate pairs compared.
    pub candidate_pairs: u64,
    /// Blocking details.
    pub blocking: BlockingStats,
    /// Number of distinct people found.
    pub people: usize,
}

/// Records prepared once, for training, bulk runs and explanations.
pub struct Prepped {
    pub(crate) tables: Tables,
    pub(crate) recs: Vec<Prepared>,
}

impl Prepped {
    /// Normalises (in parallel) and interns records.
    pub fn new(records: &[Record]) -> Self {
        let norm: Vec<Normalized> = records.par_iter().map(Normalized::of).collect();
        let mut tables = Tables::default();
        let recs = norm.iter().map(|n| tables.insert(n)).collect();
        Prepped { tables, recs }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Trains a model on these records (no labels).
    pub fn train(&self, s: &TrainSettings) -> Model {
        model::train(&self.tables, &self.recs, s)
    }

    /// Explains how records `a` and `b` compare under `model`; `None` if out of range.
    pub fn explain(&self, model: &Model, a: usize, b: usize) -> Option<Explanation> {
        let (x, y) = (self.recs.get(a)?, self.recs.get(b)?);
        let g = prepared::gamma(&self.tables, x, y);
        Some(model.explain(&self.tables, x, y, g))
    }
}

/// Trains a model on a record collection without labels (e.g. the whole store at start-up).
pub fn train(records: &[Record], settings: &TrainSettings) -> Model {
    Prepped::new(records).train(settings)
}

struct PairJudge<'a> {
    p: &'a Prepped,
    model: &'a Model,
}

impl Judge for PairJudge<'_> {
    fn judge(&self, a: u32, b: u32) -> (f64, Verdict) {
        let (x, y) = (&self.p.recs[a as usize], &self.p.recs[b as usize]);
        let g = prepared::gamma(&self.p.tables, x, y);
        let verdict = match prepared::cannot_link(&self.p.tables, x, y, g) {
            None => Verdict::Open,
            Some(c) if c.by_first_name_only => Verdict::UnrelatedFirstNames,
            Some(_) => Verdict::Different,
        };
        (self.model.weight(&self.p.tables, x, g), verdict)
    }

    fn vouches(&self, by: u32, who: u32, other: u32) -> bool {
        let r = |i: u32| &self.p.recs[i as usize];
        prepared::vouches(&self.p.tables, r(by), r(who), r(other))
    }
}

/// De-duplicates records: returns a person number per record and the matching pairs.
pub fn dedupe(records: &[Record], settings: &Settings, mut progress: impl FnMut(Stage, usize, usize)) -> Dedupe {
    let n = records.len();
    progress(Stage::Prepare, 0, n);
    let p = Prepped::new(records);
    progress(Stage::Prepare, n, n);
    progress(Stage::Train, 0, 1);
    let model = p.train(&settings.train);
    progress(Stage::Train, 1, 1);
    run_with_model(&p, model, settings, progress)
}

/// De-duplicates prepared records with an already trained model.
pub fn run_with_model(
    p: &Prepped,
    model: Model,
    settings: &Settings,
    mut progress: impl FnMut(Stage, usize, usize),
) -> Dedupe {
    let (cands, stats) =
        blocking::candidate_pairs(&p.tables, &p.recs, settings.max_block, |d, t| progress(Stage::Block, d, t));
    let candidate_pairs = cands.len() as u64;
    progress(Stage::Score, 0, cands.len());
    let min_weight = Model::weight_for_probability(settings.threshold);
    let edges: Vec<(u32, u32, f32)> = cands
        .par_iter()
        .filter_map(|&(i, j, g)| {
            let (x, y) = (&p.recs[i as usize], &p.recs[j as usize]);
            let w = model.weight(&p.tables, x, g);
            (w >= min_weight && prepared::different_people(&p.tables, x, y, g).is_none()).then_some((i, j, w as f32))
        })
        .collect();
    drop(cands);
    progress(Stage::Score, candidate_pairs as usize, candidate_pairs as usize);
    let pairs = edges
        .iter()
        .map(|&(i, j, w)| ScoredPair {
            left: i,
            right: j,
            probability: Model::probability(f64::from(w)),
            match_weight: f64::from(w),
        })
        .collect();
    let judge = PairJudge { p, model: &model };
    let clusters = cluster::cluster(p.len(), edges, min_weight, settings.max_cluster, &judge, |d, t| {
        progress(Stage::Cluster, d, t)
    });
    let people = clusters.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    Dedupe { clusters, pairs, model, candidate_pairs, blocking: stats, people }
}
