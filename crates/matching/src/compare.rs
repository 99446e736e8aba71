//! String, date and identifier comparisons.

use crate::normalize::Dob;
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// Jaro similarity of two sequences (1.0 identical, 0.0 nothing in common).
fn jaro<T: Eq>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    // Flags on the stack for the usual short strings; the heap only for long ones.
    let mut a_buf = [false; 64];
    let mut b_buf = [false; 64];
    let mut a_vec;
    let mut b_vec;
    let (a_flag, b_flag): (&mut [bool], &mut [bool]) = if a.len() <= 64 && b.len() <= 64 {
        (&mut a_buf[..a.len()], &mut b_buf[..b.len()])
    } else {
        a_vec = vec![false; a.len()];
        b_vec = vec![false; b.len()];
        (&mut a_vec[..], &mut b_vec[..])
    };
    let mut matches = 0usize;
    for (i, x) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_flag[j] && b[j] == *x {
                a_flag[i] = true;
                b_flag[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, x) in a.iter().enumerate() {
        if !a_flag[i] {
            continue;
        }
        while j < b.len() && !b_flag[j] {
            j += 1;
        }
        if j < b.len() && b[j] != *x {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

fn jaro_winkler_slices<T: Eq>(a: &[T], b: &[T]) -> f64 {
    let j = jaro(a, b);
    // Winkler's prefix bonus only for strings that are already similar (his original rule).
    if j <= 0.7 {
        return j;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    j + prefix * 0.1 * (1.0 - j)
}

/// Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters, boost above 0.7).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a.is_ascii() && b.is_ascii() {
        jaro_winkler_slices(a.as_bytes(), b.as_bytes())
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        jaro_winkler_slices(&a, &b)
    }
}

/// Damerau-Levenshtein distance, optimal-string-alignment variant (an adjacent transposition
/// costs 1; no substring is edited twice).
pub fn osa_distance(a: &str, b: &str) -> usize {
    if a.is_ascii() && b.is_ascii() {
        osa_slices(a.as_bytes(), b.as_bytes())
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        osa_slices(&a, &b)
    }
}

fn osa_slices<T: Eq>(a: &[T], b: &[T]) -> usize {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return n.max(m);
    }
    // Three rolling rows; on the stack for the short strings compared here (postcodes, NHS).
    const STACK: usize = 24;
    if m >= STACK {
        return osa_heap(a, b);
    }
    let mut rows = [[0usize; STACK]; 3];
    let (mut p2, mut p1, mut c) = (0usize, 1usize, 2usize);
    for (j, x) in rows[p1].iter_mut().enumerate().take(m + 1) {
        *x = j;
    }
    for i in 1..=n {
        rows[c][0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[p1][j] + 1).min(rows[c][j - 1] + 1).min(rows[p1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[p2][j - 2] + 1);
            }
            rows[c][j] = v;
        }
        (p2, p1, c) = (p1, c, p2);
    }
    rows[p1][m]
}

fn osa_heap<T: Eq>(a: &[T], b: &[T]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

/// Whether the OSA distance is at most 1, in linear time (the common question for postcodes
/// and NHS numbers, asked for nearly every compared pair).
pub fn osa_at_most_one(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() {
        return osa_distance(a, b) <= 1;
    }
    let (n, m) = (x.len(), y.len());
    if n.abs_diff(m) > 1 {
        return false;
    }
    let prefix = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    if prefix == n && n == m {
        return true;
    }
    let (xs, ys) = (&x[prefix..], &y[prefix..]);
    if n == m {
        // One substitution, or one adjacent transposition.
        xs[1..] == ys[1..] || (xs.len() >= 2 && xs[0] == ys[1] && xs[1] == ys[0] && xs[2..] == ys[2..])
    } else if n > m {
        xs[1..] == *ys
    } else {
        *xs == ys[1..]
    }
}

/// Double Metaphone codes (primary, alternate) of a folded name; empty for empty input.
pub fn double_metaphone(name: &str) -> (String, String) {
    static ENCODER: OnceLock<rphonetic::DoubleMetaphone> = OnceLock::new();
    let enc = ENCODER.get_or_init(|| rphonetic::DoubleMetaphone::new(Some(6)));
    // Spaces confuse the encoder; a multi-word name is encoded as one word.
    let joined: String = name.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if joined.is_empty() {
        return (String::new(), String::new());
    }
    let r = enc.double_metaphone(&joined);
    (r.primary(), r.alternate())
}

/// Whether two names share a Double Metaphone code (primary or alternate).
pub fn sounds_alike(a: (&str, &str), b: (&str, &str)) -> bool {
    let nonempty = |s: &str| !s.is_empty();
    (nonempty(a.0) && (a.0 == b.0 || a.0 == b.1)) || (nonempty(a.1) && (a.1 == b.0 || a.1 == b.1))
}

/// The UK nickname / spelling-variant table shipped in `data/nicknames.txt`.
pub struct Nicknames {
    groups: Vec<String>,
    by_name: FxHashMap<String, Vec<u16>>,
    by_sound: FxHashMap<String, u16>,
}

impl Nicknames {
    /// Parses the table format: one group per line, canonical name first, `#` comments.
    pub fn parse(text: &str) -> Self {
        let mut groups = Vec::new();
        let mut by_name: FxHashMap<String, Vec<u16>> = FxHashMap::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let names: Vec<String> = line.split_whitespace().map(crate::normalize::name).collect();
            let Some(canonical) = names.first() else { continue };
            let Ok(id) = u16::try_from(groups.len()) else { break };
            groups.push(canonical.clone());
            for n in names {
                let ids = by_name.entry(n).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        // First group (in file order) per primary sound code, for blocking misspellings.
        let mut by_sound: FxHashMap<String, u16> = FxHashMap::default();
        let mut names: Vec<(&String, &Vec<u16>)> = by_name.iter().collect();
        names.sort_by_key(|(_, ids)| ids.first().copied());
        for (n, ids) in names {
            let code = double_metaphone(n).0;
            if let (false, Some(id)) = (code.is_empty(), ids.first()) {
                by_sound.entry(code).or_insert(*id);
            }
        }
        Nicknames { groups, by_name, by_sound }
    }

    /// The group of table names sounding like this primary Double Metaphone code.
    pub fn group_by_sound(&self, code: &str) -> Option<u16> {
        self.by_sound.get(code).copied()
    }

    /// The table compiled into the crate.
    pub fn builtin() -> &'static Nicknames {
        static TABLE: OnceLock<Nicknames> = OnceLock::new();
        TABLE.get_or_init(|| Nicknames::parse(include_str!("../data/nicknames.txt")))
    }

    /// Group ids a (normalised) name belongs to; empty if it is not in the table.
    pub fn groups(&self, name: &str) -> &[u16] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Canonical name of a group.
    pub fn canonical(&self, group: u16) -> Option<&str> {
        self.groups.get(usize::from(group)).map(String::as_str)
    }

    /// Whether two (normalised) names are variants of each other.
    pub fn related(&self, a: &str, b: &str) -> bool {
        a != b && shares_group(self.groups(a), self.groups(b))
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Whether two sorted-or-not small group lists intersect.
pub(crate) fn shares_group(a: &[u16], b: &[u16]) -> bool {
    a.iter().any(|g| b.contains(g))
}

/// How two dates of birth relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DobRelation {
    /// Same date.
    Exact,
    /// Day and month swapped (04/03 vs 03/04), same year.
    DayMonthSwap,
    /// Exactly one of the eight digits differs.
    OneDigit,
    /// Same day and month, year one apart.
    YearPlusMinusOne,
    /// Anything else.
    Different,
}

/// Compares two dates of birth, recognising the usual transcription errors.
pub fn compare_dob(a: &Dob, b: &Dob) -> DobRelation {
    if a == b {
        return DobRelation::Exact;
    }
    if a.year == b.year && a.day == b.month && a.month == b.day {
        return DobRelation::DayMonthSwap;
    }
    let differing = a.digits().iter().zip(b.digits()).filter(|(x, y)| **x != *y).count();
    if differing == 1 {
        return DobRelation::OneDigit;
    }
    if a.month == b.month && a.day == b.day && a.year.abs_diff(b.year) == 1 {
        return DobRelation::YearPlusMinusOne;
    }
    DobRelation::Different
}

/// How two NHS numbers relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NhsRelation {
    /// Same digits.
    Exact,
    /// One adjacent transposition or one other single-digit edit.
    Transposition,
    /// Anything else.
    Different,
}

/// Compares two digit-only NHS numbers with tolerance for one transposition or typo.
pub fn compare_nhs(a: &str, b: &str) -> NhsRelation {
    if a == b {
        NhsRelation::Exact
    } else if osa_at_most_one(a, b) {
        NhsRelation::Transposition
    } else {
        NhsRelation::Different
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn jaro_winkler_textbook_values() {
        assert!(close(jaro_winkler("martha", "marhta"), 0.961));
        assert!(close(jaro_winkler("dwayne", "duane"), 0.840));
        assert!(close(jaro_winkler("dixon", "dicksonx"), 0.813));
        assert!(close(jaro_winkler("scot", "scott"), 0.96));
        assert_eq!(jaro_winkler("abc", "abc"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("a", ""), 0.0);
        // Non-ASCII goes through chars, not bytes.
        assert!(close(jaro_winkler("zoë", "zoë"), 1.0));
    }

    #[test]
    fn osa_distance_counts_transpositions_once() {
        assert_eq!(osa_distance("kitten", "sitting"), 3);
        assert_eq!(osa_distance("ca", "ac"), 1);
        assert_eq!(osa_distance("9434765919", "9434765991"), 1);
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(osa_distance("same", "same"), 0);
        // OSA, not unrestricted DL: "ca" -> "abc" is 3, not 2.
        assert_eq!(osa_distance("ca", "abc"), 3);
    }

    #[test]
    fn osa_at_most_one_agrees_with_the_full_distance() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "bacd", "abdc", "xbcd", "abc ", "LS1 1AA", "LS11AA",
            "LS1 1AB", "LS1 A1A",
        ];
        for a in words {
            for b in words {
                assert_eq!(osa_at_most_one(a, b), osa_distance(a, b) <= 1, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn double_metaphone_groups_sound_alikes() {
        let smith = double_metaphone("smith");
        let smyth = double_metaphone("smyth");
        let schmidt = double_metaphone("schmidt");
        assert!(sounds_alike((&smith.0, &smith.1), (&smyth.0, &smyth.1)));
        assert!(sounds_alike((&smith.0, &smith.1), (&schmidt.0, &schmidt.1)));
        let jones = double_metaphone("jones");
        assert!(!sounds_alike((&smith.0, &smith.1), (&jones.0, &jones.1)));
        let katherine = double_metaphone("katherine");
        let catherine = double_metaphone("catherine");
        assert!(sounds_alike((&katherine.0, &katherine.1), (&catherine.0, &catherine.1)));
        assert_eq!(double_metaphone(""), (String::new(), String::new()));
    }

    #[test]
    fn nickname_table_has_alfie_alfred() {
        let t = Nicknames::builtin();
        assert!(t.len() > 100);
        assert!(t.related("alfie", "alfred"));
        assert!(t.related("alfred", "alfie"));
        assert!(t.related("bill", "william"));
        assert!(t.related("peggy", "margaret"));
        assert!(!t.related("alfie", "alfie"), "identity is the exact level, not nickname");
        assert!(!t.related("alfie", "william"));
        assert!(!t.related("zzz", "alfred"));
        // Sam belongs to both Samuel and Samantha.
        assert!(t.related("sam", "samuel") && t.related("sam", "samantha"));
        assert_eq!(t.canonical(t.groups("alfie")[0]), Some("alfred"));
    }

    #[test]
    fn nickname_parse_ignores_comments_and_blank_lines() {
        let t = Nicknames::parse("# c\n\nrobert bob rob # trailing\n");
        assert_eq!(t.len(), 1);
        assert!(t.related("bob", "robert"));
    }

    #[test]
    fn dob_relations() {
        let d = |y, m, dd| Dob { year: y, month: m, day: dd };
        assert_eq!(compare_dob(&d(2011, 3, 4), &d(2011, 3, 4)), DobRelation::Exact);
        assert_eq!(compare_dob(&d(2011, 3, 4), &d(2011, 4, 3)), DobRelation::DayMonthSwap);
        assert_eq!(compare_dob(&d(2011, 3, 4), &d(2011, 3, 7)), DobRelation::OneDigit);
        assert_eq!(compare_dob(&d(2011, 3, 4), &d(2011, 13, 4)), DobRelation::OneDigit);
        assert_eq!(compare_dob(&d(2011, 3, 4), &d(2012, 3, 4)), DobRelation::OneDigit);
        assert_eq!(compare_dob(&d(2010, 3, 4), &d(2009, 3, 4)), DobRelation::YearPlusMinusOne);
        assert_eq!(compare_dob(&d(2011, 3, 4), &d(2014, 8, 21)), DobRelation::Different);
    }

    #[test]
    fn nhs_relations() {
        assert_eq!(compare_nhs("9434765919", "9434765919"), NhsRelation::Exact);
        assert_eq!(compare_nhs("9434765919", "9434756919"), NhsRelation::Transposition);
        assert_eq!(compare_nhs("9434765919", "4010232137"), NhsRelation::Different);
    }
}
