//! The review queue of people recorded more than once: the engine finds the pairs, a
//! manager merges them, undoes a merge, or marks them "not the same person". Every
//! decision is on the trail with exactly what moved.

use crate::executor::{Command, Decided, Load};
use crate::matching::{StoredDuplicate, duplicates_among};
use crate::{Caller, Result, Service, not_found};
use domain::Rejection;
use domain::authz::{Action, Actor, require};
use domain::duplicates::FoundPair;
use domain::event::Event;
use domain::ids::{DuplicatePairId, PersonId};
use domain::merging;
use serde::Serialize;
use store::duplicates::{self as stored, DuplicatePair};
use store::query::{self, PersonView};

/// A pair in the review queue with both people as recorded now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewPair {
    /// The pair and what was decided.
    #[serde(flatten)]
    pub pair: DuplicatePair,
    /// The earlier record.
    pub a: PersonView,
    /// The later record.
    pub b: PersonView,
}

/// What a search for duplicates found.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct FoundSummary {
    /// People compared (not counting records already merged).
    pub people: usize,
    /// Pairs likely to be one person.
    pub found: usize,
    /// Of those, pairs not already in the queue (or decided before).
    pub added: usize,
}

/// Who the engine compares when looking for people recorded twice: everyone not already
/// merged into another, and the pairs recorded as related to each other.
pub struct PeopleToCompare {
    /// Everyone not merged into someone else.
    pub rows: Vec<store::query::MatchingRow>,
    /// Pairs (lower id first) recorded as related: two people, whatever the names say.
    pub related: std::collections::HashSet<(PersonId, PersonId)>,
}

impl PeopleToCompare {
    /// Reads them from `store`.
    pub async fn read(store: &store::Store) -> Result<Self> {
        let (rows, _) = query::people_for_matching(store, Default::default()).await?;
        let merged = stored::merged_people(store).await?;
        let rows = rows.into_iter().filter(|r| !merged.contains(&r.id)).collect();
        Ok(PeopleToCompare { rows, related: stored::related_pairs(store).await? })
    }

    /// The pairs likely to be one person (at or above `threshold`, by default the
    /// engine's), most likely first; never a pair recorded as related — a parent and child
    /// sharing a name and a home look alike to the engine. CPU work: call it off the async
    /// threads.
    pub fn likely_pairs(
        &self,
        threshold: Option<f64>,
        progress: impl FnMut(::matching::Stage, usize, usize),
    ) -> Vec<StoredDuplicate> {
        let found = duplicates_among(&self.rows, threshold, progress);
        found.into_iter().filter(|d| !self.related.contains(&(d.person_a, d.person_b))).collect()
    }
}

impl Service {
    /// Runs the matching engine over everyone recorded and puts each new likely pair in
    /// the review queue (see [`Service::queue_duplicates`]).
    pub async fn find_duplicates(&self, caller: Caller<'_>, threshold: Option<f64>) -> Result<FoundSummary> {
        caller.require(Action::ReviewDuplicates)?;
        let people = PeopleToCompare::read(self.store()).await?;
        let compared = people.rows.len();
        let found = tokio::task::spawn_blocking(move || people.likely_pairs(threshold, |_, _, _| {}))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        self.queue_duplicates(caller, compared, &found).await
    }

    /// Puts the pairs `found` among `people` compared in the review queue, in one command
    /// on the trail. Pairs already there, or decided before, are not offered again.
    pub async fn queue_duplicates(
        &self,
        caller: Caller<'_>,
        people: usize,
        found: &[StoredDuplicate],
    ) -> Result<FoundSummary> {
        caller.require(Action::ReviewDuplicates)?;
        let known = stored::known_duplicate_pairs(self.store()).await?;
        let fresh: Vec<_> = found.iter().filter(|d| !known.contains(&(d.person_a, d.person_b))).collect();
        let added = fresh.len();
        if added > 0 {
            let pairs = fresh.into_iter().cloned().collect();
            self.execute(caller, QueueDuplicates { pairs }).await?;
        }
        Ok(FoundSummary { people, found: found.len(), added })
    }

    /// The review queue: pairs in `state` (`open`, `merged` or `distinct`) with both
    /// people. Managers only.
    pub async fn review_queue(&self, actor: &Actor, state: &str, limit: i64) -> Result<Vec<ReviewPair>> {
        require(actor, Action::ReviewDuplicates)?;
        if !matches!(state, "open" | "merged" | "distinct") {
            return Err(Rejection::invalid("state", "must be open, merged or distinct").into());
        }
        let pairs = stored::duplicate_pairs(self.store(), state, limit.clamp(1, 500)).await?;
        let mut out = Vec::with_capacity(pairs.len());
        for pair in pairs {
            out.push(self.with_people(pair).await?);
        }
        Ok(out)
    }

    /// One pair in the review queue. Managers only.
    pub async fn review_pair(&self, actor: &Actor, id: DuplicatePairId) -> Result<ReviewPair> {
        require(actor, Action::ReviewDuplicates)?;
        let pair = stored::duplicate_pair(self.store(), id).await?.ok_or_else(|| not_found(id.reference()))?;
        self.with_people(pair).await
    }

    /// How many pairs wait for a manager (for the navigation), none for anyone else.
    pub async fn open_duplicates(&self, actor: &Actor) -> Result<i64> {
        if require(actor, Action::ReviewDuplicates).is_err() {
            return Ok(0);
        }
        Ok(stored::open_duplicate_count(self.store()).await?)
    }

    async fn with_people(&self, pair: DuplicatePair) -> Result<ReviewPair> {
        let a =
            query::person(self.store(), pair.person_a).await?.ok_or_else(|| not_found(pair.person_a.reference()))?;
        let b =
            query::person(self.store(), pair.person_b).await?.ok_or_else(|| not_found(pair.person_b.reference()))?;
        Ok(ReviewPair { pair, a, b })
    }

    /// Merges an open pair: the other record's referrals, cases (with their visits and
    /// notes), addresses, other names, relationships, decisions, flags, timers and
    /// escalations move onto `keep`. Refused when the two are clearly two people or both
    /// have an open case.
    pub async fn merge_duplicates(&self, actor: &Actor, id: DuplicatePairId, keep: PersonId) -> Result<()> {
        self.execute(Caller::Staff(actor), Merge { id, keep }).await
    }

    /// Undoes a merge: exactly what it moved goes back to the duplicate, which is a record
    /// of its own again, and the pair is open for a decision again.
    pub async fn unmerge_duplicates(&self, actor: &Actor, id: DuplicatePairId) -> Result<()> {
        self.execute(Caller::Staff(actor), Unmerge { id }).await
    }

    /// Records that an open pair is two different people: it leaves the queue and is
    /// never offered again.
    pub async fn mark_distinct(&self, actor: &Actor, id: DuplicatePairId) -> Result<()> {
        self.execute(Caller::Staff(actor), MarkDistinct { id }).await
    }
}

/// Puts new likely pairs in the review queue.
struct QueueDuplicates {
    pairs: Vec<StoredDuplicate>,
}

impl Command for QueueDuplicates {
    type Output = ();
    const ACTION: &'static str = "duplicates.find";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ReviewDuplicates)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let mut pairs = Vec::with_capacity(self.pairs.len());
        for d in self.pairs {
            pairs.push(FoundPair {
                pair: DuplicatePairId(load.next_id(DuplicatePairId::KIND).await?),
                person_a: d.person_a,
                person_b: d.person_b,
                probability: d.probability,
                evidence: d.evidence,
            });
        }
        Ok(Decided::new("duplicates", vec![merging::queue(pairs)], ()))
    }
}

/// Merges an open pair onto the record kept.
struct Merge {
    id: DuplicatePairId,
    keep: PersonId,
}

impl Command for Merge {
    type Output = ();
    const ACTION: &'static str = "person.merge";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ReviewDuplicates)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id, keep) = (load.actor()?, self.id, self.keep);
        let (pair, _) = load.duplicate_pair(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let merged = merging::merged_into(as_pair(&pair), keep)?;
        let kept = load.merge_facts(keep).await?;
        let merged_facts = load.merge_facts(merged).await?;
        let related = load.relationship_between(keep, merged).await?;
        let moved = load.records_of(merged).await?;
        let check = merging::MergeCheck { kept: &kept, merged: &merged_facts, related: related.as_deref() };
        let event = merging::merge(as_pair(&pair), keep, check, moved, actor.staff)?;
        Ok(Decided::new(keep.subject(), vec![event], ()))
    }
}

/// A stored pair as the merging rules read it.
fn as_pair(p: &DuplicatePair) -> merging::Pair<'_> {
    merging::Pair { id: p.id, state: &p.state, person_a: p.person_a, person_b: p.person_b, kept: p.kept }
}

/// Undoes a merge.
struct Unmerge {
    id: DuplicatePairId,
}

impl Command for Unmerge {
    type Output = ();
    const ACTION: &'static str = "person.unmerge";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ReviewDuplicates)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id) = (load.actor()?, self.id);
        let (pair, moved) = load.duplicate_pair(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let event = merging::unmerge(as_pair(&pair), moved, actor.staff)?;
        let subject = match &event {
            Event::PeopleUnmerged { merged, .. } => merged.subject(),
            _ => id.subject(),
        };
        Ok(Decided::new(subject, vec![event], ()))
    }
}

/// Records that an open pair is two different people.
struct MarkDistinct {
    id: DuplicatePairId,
}

impl Command for MarkDistinct {
    type Output = ();
    const ACTION: &'static str = "person.mark_distinct";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        caller.require(Action::ReviewDuplicates)
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let (actor, id) = (load.actor()?, self.id);
        let (pair, _) = load.duplicate_pair(id).await?.ok_or_else(|| not_found(id.reference()))?;
        let event = merging::mark_distinct(as_pair(&pair), actor.staff)?;
        Ok(Decided::new(pair.person_a.subject(), vec![event], ()))
    }
}

impl Service {
    /// The merges a person's record took part in (merged into someone, or someone merged
    /// into them), for the banner on their record: everyone who reads the record needs
    /// to know it.
    pub async fn merges_of(&self, actor: &Actor, person: PersonId) -> Result<Vec<DuplicatePair>> {
        require(actor, Action::ViewChildRecords)?;
        Ok(stored::duplicate_pairs_of(self.store(), person)
            .await?
            .into_iter()
            .filter(|p| p.state == "merged")
            .collect())
    }
}
