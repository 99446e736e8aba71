//! The real-time index: "who might this be?" for one new record against everyone known.

use crate::blocking::{self, RULES};
use crate::model::{Explanation, Model};
use crate::prepared::{self, Normalized, Prepared, Tables};
use crate::record::Record;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::hash::Hash;

/// A possible match for a query record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate<K> {
    /// The caller's id of the existing record.
    pub id: K,
    /// Probability that it is the same person.
    pub probability: f64,
    /// Why.
    pub explanation: Explanation,
}

/// In-memory index of people, kept current with `upsert`/`remove`. Plain data: it is `Send +
/// Sync` and is meant to sit behind an `RwLock` (many readers answer queries concurrently).
pub struct Index<K> {
    model: Model,
    tables: Tables,
    slots: Vec<Option<(K, Prepared, [u64; RULES])>>,
    free: Vec<u32>,
    by_id: HashMap<K, u32>,
    blocks: Vec<FxHashMap<u64, Vec<u32>>>,
    max_block: usize,
    min_probability: f64,
}

impl<K: Clone + Eq + Hash> Index<K> {
    /// An empty index scoring with `model`.
    pub fn new(model: Model) -> Self {
        Index {
            model,
            tables: Tables::default(),
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            blocks: vec![FxHashMap::default(); RULES],
            max_block: crate::Settings::default().max_block,
            min_probability: 0.001,
        }
    }

    /// An index holding `records`, scoring with `model`.
    pub fn from_records(model: Model, records: impl IntoIterator<Item = (K, Record)>) -> Self {
        let mut index = Self::new(model);
        for (id, r) in records {
            index.upsert(id, &r);
        }
        index
    }

    /// Candidates below this probability are not returned (default 0.001).
    pub fn set_min_probability(&mut self, p: f64) {
        self.min_probability = p;
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds a record, or replaces the record with the same id.
    pub fn upsert(&mut self, id: K, record: &Record) {
        self.remove(&id);
        let p = self.tables.insert(&Normalized::of(record));
        let keys = blocking::keys(&self.tables, &p);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        for (rule, key) in keys.iter().enumerate() {
            if *key != 0 {
                self.blocks[rule].entry(*key).or_default().push(slot);
            }
        }
        self.slots[slot as usize] = Some((id.clone(), p, keys));
        self.by_id.insert(id, slot);
    }

    /// Removes a record; returns whether it was there.
    pub fn remove(&mut self, id: &K) -> bool {
        let Some(slot) = self.by_id.remove(id) else { return false };
        let Some((_, p, keys)) = self.slots[slot as usize].take() else { return false };
        for (rule, key) in keys.iter().enumerate() {
            if let Some(list) = self.blocks[rule].get_mut(key) {
                list.retain(|s| *s != slot);
                if list.is_empty() {
                    self.blocks[rule].remove(key);
                }
            }
        }
        self.tables.release(&p);
        self.free.push(slot);
        true
    }

    /// Ranked possible matches for `record` (most likely first), at most `limit`. Uses the
    /// bulk engine's blocking rules, model and different-person rules.
    pub fn candidates(&self, record: &Record, limit: usize) -> Vec<Candidate<K>> {
        let (q, overlay) = self.tables.prepare_readonly(&Normalized::of(record));
        let keys = blocking::keys(&overlay, &q);
        let mut seen: Vec<u32> = Vec::new();
        for (rule, key) in keys.iter().enumerate() {
            if *key == 0 {
                continue;
            }
            if let Some(list) = self.blocks[rule].get(key)
                && list.len() <= self.max_block
            {
                seen.extend_from_slice(list);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let min_weight = Model::weight_for_probability(self.min_probability);
        let mut scored: Vec<(f64, u32, prepared::Gamma)> = seen
            .into_iter()
            .filter_map(|slot| {
                let (_, p, _) = self.slots[slot as usize].as_ref()?;
                let g = prepared::gamma(&overlay, &q, p);
                if prepared::different_people(&overlay, &q, p, g).is_some() {
                    return None;
                }
                let w = self.model.weight(&overlay, &q, g);
                (w >= min_weight).then_some((w, slot, g))
            })
            .collect();
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(limit);
        scored
            .into_iter()
            .filter_map(|(_, slot, g)| {
                let (id, p, _) = self.slots[slot as usize].as_ref()?;
                let explanation = self.model.explain(&overlay, &q, p, g);
                Some(Candidate { id: id.clone(), probability: explanation.probability, explanation })
            })
            .collect()
    }
}
