//! "Who might this be?": the people already recorded who may be the person someone is
//! about to record, ranked, each with the evidence for and against.
//!
//! The engine is the pure `matching` crate. Its index of everyone in the store lives in
//! the [`Service`], is built on first use and, before every look-up, takes in the people
//! recorded (or given a new address) since — by any server sharing the database.

use crate::{Result, Service};
use domain::Rejection;
use domain::authz::{Action, Actor, require};
use domain::ids::PersonId;
use serde::{Deserialize, Serialize};
use store::query::{self, MatchingMark, MatchingRow};

/// A store holding at least this many people trains its own model; a smaller one uses
/// the reference model shipped with the engine.
pub const TRAIN_FROM: usize = 2_000;

/// Candidates below this probability are not worth a person's attention.
pub const SHOW_FROM: f64 = 0.05;

/// The index of everyone recorded (each person under their name, and again under each
/// other name they are known by: `(person, 0)`, `(person, 1)`…), and how far it has read
/// the store.
pub struct PeopleIndex {
    index: ::matching::Index<(i64, u32)>,
    mark: MatchingMark,
}

/// What someone knows about a person, as typed: any field may be empty.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MatchInput {
    /// Given name.
    #[serde(default)]
    pub given_name: String,
    /// Family name.
    #[serde(default)]
    pub family_name: String,
    /// Date of birth: `2011-03-04`, `4/3/2011` (day first) or `20110304`.
    #[serde(default)]
    pub dob: String,
    /// `male`, `female` or empty.
    #[serde(default)]
    pub sex: String,
    /// House number and street.
    #[serde(default)]
    pub address: String,
    /// Town.
    #[serde(default)]
    pub town: String,
    /// Postcode, any spacing.
    #[serde(default)]
    pub postcode: String,
    /// NHS number, any spacing.
    #[serde(default)]
    pub nhs_number: String,
}

impl MatchInput {
    /// What the store holds about `p`, to find who else they may be recorded as.
    pub fn of_person(p: &query::PersonView) -> Self {
        MatchInput {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            dob: p.dob.date().map(|d| d.to_string()).unwrap_or_default(),
            sex: p.sex.code().to_string(),
            nhs_number: p.nhs_number.clone().unwrap_or_default(),
            ..Default::default()
        }
    }

    /// The fields given, as the trail records a search: `given_name=Alfie; dob=2014-01-01`.
    pub fn described(&self) -> String {
        [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("dob", &self.dob),
            ("sex", &self.sex),
            ("address", &self.address),
            ("town", &self.town),
            ("postcode", &self.postcode),
            ("nhs_number", &self.nhs_number),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", v.trim()))
        .collect::<Vec<_>>()
        .join("; ")
    }

    fn record(&self) -> ::matching::Record {
        ::matching::Record {
            first_name: self.given_name.clone(),
            surname: self.family_name.clone(),
            dob: self.dob.clone(),
            sex: self.sex.clone(),
            address: self.address.clone(),
            town: self.town.clone(),
            postcode: self.postcode.clone(),
            nhs_number: self.nhs_number.clone(),
        }
    }
}

/// A person who may be the one described, with why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonMatch {
    /// Who.
    pub person: query::PersonView,
    /// How likely they are the same person (0–1).
    pub probability: f64,
    /// Which details agreed or differed, how strongly, and the resulting probability.
    pub explanation: ::matching::Explanation,
}

/// Every record the index holds for a stored person: their name, then each other name.
fn records_of(row: &MatchingRow) -> Vec<((i64, u32), ::matching::Record)> {
    let main = record_of(row);
    let mut out = vec![((row.id.0, 0), main.clone())];
    for (k, (given, family)) in row.aliases.iter().enumerate() {
        let n = u32::try_from(k + 1).unwrap_or(u32::MAX);
        out.push((
            (row.id.0, n),
            ::matching::Record { first_name: given.clone(), surname: family.clone(), ..main.clone() },
        ));
    }
    out
}

/// The model for a store of `people`: its own (`train`) when it holds [`TRAIN_FROM`] or
/// more, else the reference model shipped with the engine.
pub fn model_for(people: usize, train: impl FnOnce() -> ::matching::Model) -> ::matching::Model {
    if people >= TRAIN_FROM { train() } else { ::matching::Model::reference() }
}

/// A stored person as the matching engine reads them (under their own name).
pub fn record_of(row: &MatchingRow) -> ::matching::Record {
    let (address, town, postcode) = row.address.clone().unwrap_or_default();
    ::matching::Record {
        first_name: row.given_name.clone(),
        surname: row.family_name.clone(),
        dob: row.dob.clone().unwrap_or_default(),
        sex: row.sex.clone(),
        address,
        town: town.unwrap_or_default(),
        postcode: postcode.unwrap_or_default(),
        nhs_number: row.nhs_number.clone().unwrap_or_default(),
    }
}

/// Two stored records likely to be one person, with the evidence in words.
#[derive(Debug, Clone)]
pub struct StoredDuplicate {
    /// The earlier record.
    pub person_a: PersonId,
    /// The later record.
    pub person_b: PersonId,
    /// How likely they are one person.
    pub probability: f64,
    /// Which details agreed or differed.
    pub evidence: String,
}

/// The records among `rows` likely to be one person (at or above `threshold`, by default
/// the engine's 0.5), never two people the engine can tell apart such as twins; most
/// likely first. CPU work: call it off the async threads.
pub fn duplicates_among(
    rows: &[MatchingRow],
    threshold: Option<f64>,
    progress: impl FnMut(::matching::Stage, usize, usize),
) -> Vec<StoredDuplicate> {
    let mut settings = ::matching::Settings::default();
    if let Some(t) = threshold {
        settings.threshold = t;
    }
    let records: Vec<::matching::Record> = rows.iter().map(record_of).collect();
    let prepped = ::matching::Prepped::new(&records);
    // The same model as the service's index.
    let model = model_for(records.len(), || prepped.train(&settings.train));
    let result = ::matching::run_with_model(&prepped, model, &settings, progress);
    let mut out: Vec<StoredDuplicate> = result
        .pairs
        .iter()
        .filter_map(|pair| {
            let (l, r) = (pair.left as usize, pair.right as usize);
            let (a, b) = (rows.get(l)?.id, rows.get(r)?.id);
            let evidence = prepped
                .explain(&result.model, l, r)
                .map(|e| e.fields.iter().map(|f| f.text.clone()).collect::<Vec<_>>().join("; "))
                .unwrap_or_default();
            Some(StoredDuplicate { person_a: a.min(b), person_b: a.max(b), probability: pair.probability, evidence })
        })
        .collect();
    out.sort_by(|a, b| b.probability.total_cmp(&a.probability).then(a.person_a.cmp(&b.person_a)));
    out
}

impl Service {
    /// The people already recorded who may be the person described, most likely first
    /// (at most `limit`). Practice staff only: a partner agency's referral is never
    /// shown anyone else's record.
    pub async fn match_people(&self, actor: &Actor, input: &MatchInput, limit: usize) -> Result<Vec<PersonMatch>> {
        require(actor, Action::ViewChildRecords)?;
        if [&input.given_name, &input.family_name, &input.nhs_number].iter().all(|s| s.trim().is_empty()) {
            return Err(Rejection::invalid("family_name", "enter a name or an NHS number to look for").into());
        }
        self.refresh_people_index().await?;
        let found = {
            let guard = self.people_index.read().unwrap_or_else(|p| p.into_inner());
            let Some(people) = guard.as_ref() else { return Ok(vec![]) };
            // Room for a person found under several of their names.
            people.index.candidates(&input.record(), limit.clamp(1, 20) * 3)
        };
        let mut out: Vec<PersonMatch> = Vec::with_capacity(limit);
        let mut seen = std::collections::HashSet::new();
        for c in found.into_iter().filter(|c| c.probability >= SHOW_FROM) {
            // Ranked best first: a person's best name speaks for them.
            if out.len() == limit.clamp(1, 20) {
                break;
            }
            if !seen.insert(c.id.0) {
                continue;
            }
            // Someone removed since the index read them is simply not offered; a record
            // merged into another offers the person it was merged into.
            let Some(mut person) = query::person(self.store(), PersonId(c.id.0)).await? else { continue };
            if let Some(kept) = person.merged_into {
                let Some(k) = query::person(self.store(), kept).await? else { continue };
                if !seen.insert(kept.0) {
                    continue;
                }
                person = k;
            }
            out.push(PersonMatch { person, probability: c.probability, explanation: c.explanation });
        }
        Ok(out)
    }

    /// Builds the index of everyone recorded now rather than at the first look-up (the
    /// server does this as it starts; training on a large store takes a moment).
    pub async fn prepare_people_index(&self) -> Result<()> {
        self.refresh_people_index().await
    }

    /// Builds the index on first use; afterwards takes in whoever was recorded (or given
    /// a new address) since it last read the store.
    async fn refresh_people_index(&self) -> Result<()> {
        let mark = self.people_index.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|p| p.mark);
        let (rows, next) = query::people_for_matching(self.store(), mark.unwrap_or_default()).await?;
        if mark.is_none() {
            // Training and indexing are CPU work: off the async threads, outside the lock.
            let building = tokio::task::spawn_blocking(move || {
                let records: Vec<_> = rows.iter().flat_map(records_of).collect();
                let model = model_for(rows.len(), || {
                    // Trained on each person once, under their own name.
                    let sample: Vec<_> = rows.iter().map(record_of).collect();
                    ::matching::train(&sample, &::matching::TrainSettings::default())
                });
                PeopleIndex { index: ::matching::Index::from_records(model, records), mark: next }
            });
            // The engine does not panic on any input; if it ever did, so does this request.
            let built = match building.await {
                Ok(built) => built,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            let mut guard = self.people_index.write().unwrap_or_else(|p| p.into_inner());
            // Another request may have built it meanwhile; either is current to `next`.
            if guard.is_none() {
                *guard = Some(built);
            }
            return Ok(());
        }
        let mut guard = self.people_index.write().unwrap_or_else(|p| p.into_inner());
        if let Some(people) = guard.as_mut() {
            // Another request may have read further meanwhile; replaying is harmless.
            for row in &rows {
                for (key, record) in records_of(row) {
                    people.index.upsert(key, &record);
                }
            }
            people.mark = next.furthest(people.mark);
        }
        Ok(())
    }
}
