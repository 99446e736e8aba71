//! Clustering scored pairs into people without chaining errors.
//!
//! Plain connected components merges A–B–C when A–B and B–C match even if A and C are
//! clearly different people (twins linked through a vague record). Here links are taken
//! strongest first, and two clusters merge only if no record in one is clearly a different
//! person from a record in the other, and their average link (over *all* cross pairs,
//! compared on the spot) still clears the threshold.

/// How a proposed merge between two clusters is judged.
pub(crate) trait Judge: Sync {
    /// Match weight of two records and whether they are clearly different people.
    fn judge(&self, a: u32, b: u32) -> (f64, bool);
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
        'outer: for &x in ma {
            for &y in mb {
                let (w, different) = judge.judge(x, y);
                if different {
                    blocked = true;
                    break 'outer;
                }
                sum += w;
            }
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
        fn judge(&self, a: u32, b: u32) -> (f64, bool) {
            match (a.min(b), a.max(b)) {
                (0, 2) => (5.0, true),
                _ => (10.0, false),
            }
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
        fn judge(&self, a: u32, b: u32) -> (f64, bool) {
            if a.min(b) == 0 && a.max(b) == 2 { (-30.0, false) } else { (4.0, false) }
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
        fn judge(&self, _: u32, _: u32) -> (f64, bool) {
            (4.0, false)
        }
    }
}
