//! Clustering scored pairs into people without chaining errors.
//!
//! Plain connected components merges A–B–C when A–B and B–C match even if A and C are
//! clearly different people (twins linked through a vague record). Here links are taken
//! strongest first, and two clusters merge only if no record in one is clearly a different
//! person from a record in the other, and their average link (over *all* cross pairs,
//! compared on the spot) still clears the threshold.
//!
//! "Clearly different" is judged between the two *people*, not only between two records.
//! The sibling rule "same household and date of birth, unrelated first names" is evidence
//! about names. When most of the other person's records carry this record's first name (or
//! a nickname or close spelling of it) or its NHS number — more of them than have unrelated
//! names — the names are not unrelated at the level of people (one of that person's records
//! had its first name replaced), and the pair does not block the merge. A record vouches
//! only if it has a first name of its own, and only when none of the records involved is
//! recorded with another sex. Every other reason (a different recorded sex, two different
//! valid NHS numbers) always blocks.

/// Whether two records are clearly different people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No clear evidence either way (the weight decides).
    Open,
    /// Different only because their first names are unrelated (see the module comment).
    UnrelatedFirstNames,
    /// Clearly different people.
    Different,
}

/// How a proposed merge between two clusters is judged.
pub(crate) trait Judge: Sync {
    /// Match weight of two records and whether they are clearly different people.
    fn judge(&self, a: u32, b: u32) -> (f64, Verdict);
    /// Whether record `by` has a first name and carries record `who`'s first name (or a
    /// nickname or close spelling) or its NHS number, with no sex recorded differently among
    /// `by`, `who` and `other`: a person holding `by` and `other` is then known by `who`'s
    /// name or number.
    fn vouches(&self, by: u32, who: u32, other: u32) -> bool;
}

/// Assigns a person number to every record (0..people, in order of first record).
pub(crate) fn cluster<J: Judge>(
    n: usize,
    mut edges: Vec<(u32, u32, f32)>,
    min_weight: f64,
    max_cluster: usize,
    judge: &J,
    mut progress: impl FnMut(usize, usize),
) -> Vec<u32> {
    edges.sort_unstable_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let p = parent[x as usize];
            parent[x as usize] = parent[p as usize];
            x = p;
        }
        x
    }
    let total = edges.len();
    for (k, &(a, b, _)) in edges.iter().enumerate() {
        if k % 65536 == 0 {
            progress(k, total);
        }
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra == rb {
            continue;
        }
        let (ma, mb) = (&members[ra as usize], &members[rb as usize]);
        if ma.len() + mb.len() > max_cluster {
            continue;
        }
        let mut sum = 0.0;
        let mut blocked = false;
        // Cross pairs that differ only by unrelated first names, as (index in ma, index in mb).
        let mut name_conflicts: Vec<(usize, usize)> = Vec::new();
        'outer: for (i, &x) in ma.iter().enumerate() {
            for (j, &y) in mb.iter().enumerate() {
                let (w, verdict) = judge.judge(x, y);
                match verdict {
                    Verdict::Open => {}
                    Verdict::Different => {
                        blocked = true;
                        break 'outer;
                    }
                    Verdict::UnrelatedFirstNames => name_conflicts.push((i, j)),
                }
                sum += w;
            }
        }
        // Unrelated first names block, unless one side's person mostly carries the other
        // record's name: more of its records vouch for that record than conflict with it.
        if !blocked && !name_conflicts.is_empty() {
            let conflicts_of_y = |j: usize| name_conflicts.iter().filter(|c| c.1 == j).count();
            let conflicts_of_x = |i: usize| name_conflicts.iter().filter(|c| c.0 == i).count();
            blocked = name_conflicts.iter().any(|&(i, j)| {
                let (x, y) = (ma[i], mb[j]);
                let y_known = ma.iter().filter(|&&x2| x2 != x && judge.vouches(x2, y, x)).count() > conflicts_of_y(j);
                let x_known = mb.iter().filter(|&&y2| y2 != y && judge.vouches(y2, x, y)).count() > conflicts_of_x(i);
                !y_known && !x_known
            });
        }
        if blocked || sum / ((ma.len() * mb.len()) as f64) < min_weight {
            continue;
        }
        // Union by size; the smaller member list moves.
        let (big, small) = if ma.len() >= mb.len() { (ra, rb) } else { (rb, ra) };
        parent[small as usize] = big;
        let moved = std::mem::take(&mut members[small as usize]);
        members[big as usize].extend(moved);
    }
    progress(total, total);
    let mut person = vec![u32::MAX; n];
    let mut next = 0u32;
    let mut out = vec![0u32; n];
    for i in 0..n as u32 {
        let r = find(&mut parent, i) as usize;
        if person[r] == u32::MAX {
            person[r] = next;
            next += 1;
        }
        out[i as usize] = person[r];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records 0 and 2 are "twins" (clearly different); 1 is vague and links to both.
    struct Twins;
    impl Judge for Twins {
        fn judge(&self, a: u32, b: u32) -> (f64, Verdict) {
            match (a.min(b), a.max(b)) {
                (0, 2) => (5.0, Verdict::UnrelatedFirstNames),
                _ => (10.0, Verdict::Open),
            }
        }
        fn vouches(&self, _: u32, _: u32, _: u32) -> bool {
            false
        }
    }

    #[test]
    fn cannot_link_stops_chaining() {
        let edges = vec![(0, 1, 10.0), (1, 2, 9.0)];
        let p = cluster(3, edges, 0.0, 50, &Twins, |_, _| {});
        assert_eq!(p[0], p[1]);
        assert_ne!(p[0], p[2], "twins must not end up in one person through a vague record");
    }

    struct Weak;
    impl Judge for Weak {
        fn judge(&self, a: u32, b: u32) -> (f64, Verdict) {
            if a.min(b) == 0 && a.max(b) == 2 { (-30.0, Verdict::Open) } else { (4.0, Verdict::Open) }
        }
        fn vouches(&self, _: u32, _: u32, _: u32) -> bool {
            false
        }
    }

    #[test]
    fn average_link_must_clear_threshold() {
        let edges = vec![(0, 1, 4.0), (1, 2, 4.0)];
        let p = cluster(3, edges, 0.0, 50, &Weak, |_, _| {});
        assert_eq!(p[0], p[1]);
        assert_ne!(p[1], p[2]);
        // Connected components would have put all three together.
    }

    #[test]
    fn cluster_size_cap() {
        let edges = vec![(0, 1, 4.0), (1, 2, 4.0), (2, 3, 4.0)];
        let p = cluster(4, edges, 0.0, 2, &Weak2, |_, _| {});
        assert_eq!(p.iter().filter(|&&x| x == p[0]).count(), 2);
    }

    struct Weak2;
    impl Judge for Weak2 {
        fn judge(&self, _: u32, _: u32) -> (f64, Verdict) {
            (4.0, Verdict::Open)
        }
        fn vouches(&self, _: u32, _: u32, _: u32) -> bool {
            false
        }
    }

    /// Records 0, 1 and 2 are one person (2's first name was replaced, and it joined 0 and 1
    /// through their shared number); 3 has 0's first name but another number. 3 and 2 are
    /// "unrelated first names", but 3's name is already one of the person's names.
    /// Records 4 and 5 are twins of another sex: never excused.
    struct Renamed;
    impl Judge for Renamed {
        fn judge(&self, a: u32, b: u32) -> (f64, Verdict) {
            match (a.min(b), a.max(b)) {
                (2, 3) => (-2.0, Verdict::UnrelatedFirstNames),
                (4, 5) => (-2.0, Verdict::Different),
                _ => (8.0, Verdict::Open),
            }
        }
        fn vouches(&self, a: u32, b: u32, _: u32) -> bool {
            // 0, 1 and 3 share a first name; 4 and 5 do not vouch for each other.
            [0, 1, 3].contains(&a) && [0, 1, 3].contains(&b)
        }
    }

    /// Twins: 0 and 1 are Frankie; 2 joined them but carries Archie's number; 3 is Archie.
    /// One voucher against two conflicts is not enough.
    struct Minority;
    impl Judge for Minority {
        fn judge(&self, a: u32, b: u32) -> (f64, Verdict) {
            match (a.min(b), a.max(b)) {
                (0, 3) | (1, 3) => (-1.0, Verdict::UnrelatedFirstNames),
                _ => (9.0, Verdict::Open),
            }
        }
        fn vouches(&self, a: u32, b: u32, _: u32) -> bool {
            (a.min(b), a.max(b)) == (2, 3)
        }
    }

    #[test]
    fn a_minority_of_records_cannot_vouch_for_a_twin() {
        let edges = vec![(0, 1, 9.0), (0, 2, 9.0), (2, 3, 9.0)];
        let p = cluster(4, edges, 0.0, 50, &Minority, |_, _| {});
        assert_eq!(p[0], p[2]);
        assert_ne!(p[0], p[3]);
    }

    #[test]
    fn a_persons_own_names_excuse_unrelated_first_names_but_not_other_reasons() {
        let edges = vec![(0, 1, 9.0), (0, 2, 9.0), (1, 2, 9.0), (0, 3, 8.0), (4, 0, 7.0), (0, 5, 6.0)];
        let p = cluster(6, edges, 0.0, 50, &Renamed, |_, _| {});
        assert_eq!(p[0], p[2]);
        assert_eq!(p[0], p[3], "3's first name is one of the person's names");
        assert_ne!(p[4], p[5], "a different sex (or number) always blocks");
    }
}
