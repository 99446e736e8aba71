//! Records after normalisation: interned field values and their comparison vector.

use crate::compare::{self, DobRelation, NhsRelation, Nicknames};
use crate::normalize::{self, Dob, Sex};
use crate::record::Record;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// "No value" for an interned field.
pub(crate) const NONE: u32 = u32::MAX;

/// Everything the comparisons need about one distinct (normalised) name.
#[derive(Debug, Clone)]
pub(crate) struct NameInfo {
    pub text: Box<str>,
    pub phonetic: (Box<str>, Box<str>),
    pub groups: Box<[u16]>,
}

impl NameInfo {
    pub fn new(text: &str) -> Self {
        let (p, a) = compare::double_metaphone(text);
        NameInfo { text: text.into(), phonetic: (p.into(), a.into()), groups: Nicknames::builtin().groups(text).into() }
    }
}

/// Interned strings of one kind with per-value record counts (for term frequencies).
/// Slot 0 counts use as first name (or the only use), slot 1 as surname.
#[derive(Debug, Clone)]
pub(crate) struct SymTable<T> {
    map: FxHashMap<Box<str>, u32>,
    pub info: Vec<T>,
    pub counts: Vec<[u32; 2]>,
}

impl<T> Default for SymTable<T> {
    fn default() -> Self {
        SymTable { map: FxHashMap::default(), info: Vec::new(), counts: Vec::new() }
    }
}

impl<T> SymTable<T> {
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    pub fn len(&self) -> u32 {
        self.info.len() as u32
    }

    fn intern(&mut self, s: &str, slot: usize, make: impl FnOnce(&str) -> T) -> u32 {
        let sym = match self.map.get(s) {
            Some(&sym) => sym,
            None => {
                let sym = self.info.len() as u32;
                self.map.insert(s.into(), sym);
                self.info.push(make(s));
                self.counts.push([0, 0]);
                sym
            }
        };
        self.counts[sym as usize][slot] += 1;
        sym
    }

    fn release(&mut self, sym: u32, slot: usize) {
        if let Some(c) = self.counts.get_mut(sym as usize) {
            c[slot] = c[slot].saturating_sub(1);
        }
    }
}

/// A record's normalised fields before interning (computed in parallel).
#[derive(Debug, Clone, Default)]
pub(crate) struct Normalized {
    pub first: String,
    pub surname: String,
    pub dob: Option<Dob>,
    pub sex: Option<Sex>,
    pub address: String,
    pub town: String,
    pub postcode: Option<String>,
    pub nhs: Option<String>,
}

impl Normalized {
    pub fn of(r: &Record) -> Self {
        Normalized {
            first: normalize::name(&r.first_name),
            surname: normalize::name(&r.surname),
            dob: normalize::date(&r.dob),
            sex: normalize::sex(&r.sex),
            address: normalize::address(&r.address),
            town: normalize::fold(&r.town),
            postcode: normalize::postcode(&r.postcode),
            nhs: normalize::nhs_number(&r.nhs_number),
        }
    }
}

/// A record as the engine sees it: interned symbols, `NONE` when missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prepared {
    pub first: u32,
    pub surname: u32,
    pub address: u32,
    pub town: u32,
    pub postcode: u32,
    pub nhs: u32,
    pub dob: Option<Dob>,
    pub sex: Option<Sex>,
}

/// All interned values of a record collection, with term-frequency counts.
#[derive(Debug)]
pub(crate) struct Tables {
    /// Identity for the per-thread name-comparison cache (symbols are per table).
    id: u64,
    pub names: SymTable<NameInfo>,
    pub addresses: SymTable<Box<str>>,
    pub towns: SymTable<Box<str>>,
    pub postcodes: SymTable<Box<str>>,
    pub nhs: SymTable<Box<str>>,
    pub live: usize,
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl Default for Tables {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Tables {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            names: SymTable::default(),
            addresses: SymTable::default(),
            towns: SymTable::default(),
            postcodes: SymTable::default(),
            nhs: SymTable::default(),
            live: 0,
        }
    }
}

impl Tables {
    /// Interns a record's values and counts it.
    pub fn insert(&mut self, n: &Normalized) -> Prepared {
        self.live += 1;
        let boxed = |s: &str| -> Box<str> { s.into() };
        Prepared {
            first: opt(&n.first).map_or(NONE, |s| self.names.intern(s, 0, NameInfo::new)),
            surname: opt(&n.surname).map_or(NONE, |s| self.names.intern(s, 1, NameInfo::new)),
            address: opt(&n.address).map_or(NONE, |s| self.addresses.intern(s, 0, boxed)),
            town: opt(&n.town).map_or(NONE, |s| self.towns.intern(s, 0, boxed)),
            postcode: n.postcode.as_deref().map_or(NONE, |s| self.postcodes.intern(s, 0, boxed)),
            nhs: n.nhs.as_deref().map_or(NONE, |s| self.nhs.intern(s, 0, boxed)),
            dob: n.dob,
            sex: n.sex,
        }
    }

    /// Un-counts a record (its symbols stay interned; only frequencies change).
    pub fn release(&mut self, p: &Prepared) {
        self.live = self.live.saturating_sub(1);
        self.names.release(p.first, 0);
        self.names.release(p.surname, 1);
        self.addresses.release(p.address, 0);
        self.towns.release(p.town, 0);
        self.postcodes.release(p.postcode, 0);
        self.nhs.release(p.nhs, 0);
    }

    /// Prepares a query record without changing the tables: unseen values go to an overlay.
    pub fn prepare_readonly(&self, n: &Normalized) -> (Prepared, Overlay<'_>) {
        let mut o = Overlay { base: self, names: Vec::new(), texts: Default::default() };
        let first = o.add_name(&n.first);
        let surname = o.add_name(&n.surname);
        let address = o.add_text(0, &n.address);
        let town = o.add_text(1, &n.town);
        let postcode = o.add_text(2, n.postcode.as_deref().unwrap_or(""));
        let nhs = o.add_text(3, n.nhs.as_deref().unwrap_or(""));
        let p = Prepared { first, surname, address, town, postcode, nhs, dob: n.dob, sex: n.sex };
        (p, o)
    }

    fn text_table(&self, k: usize) -> &SymTable<Box<str>> {
        match k {
            0 => &self.addresses,
            1 => &self.towns,
            2 => &self.postcodes,
            _ => &self.nhs,
        }
    }
}

/// Read access to interned values, for the tables themselves or a query overlay.
pub(crate) trait Lookup: Sync {
    fn name(&self, sym: u32) -> &NameInfo;
    /// 0 address, 1 town, 2 postcode, 3 NHS number.
    fn text(&self, kind: usize, sym: u32) -> &str;
    /// Number of live records using this value (slot 0 first name / other, 1 surname).
    fn count(&self, kind: Kind, sym: u32) -> u32;
    /// Number of live records.
    fn total(&self) -> usize;
    /// Identity of the interned names and whether a name symbol is permanent (query-only
    /// symbols of an overlay are not), for caching name comparisons.
    fn name_cache_key(&self, sym: u32) -> Option<u64>;
}

/// Which table a term-frequency count refers to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    First,
    Surname,
    Address,
    Town,
    Postcode,
}

impl Lookup for Tables {
    fn name(&self, sym: u32) -> &NameInfo {
        &self.names.info[sym as usize]
    }
    fn text(&self, kind: usize, sym: u32) -> &str {
        &self.text_table(kind).info[sym as usize]
    }
    fn count(&self, kind: Kind, sym: u32) -> u32 {
        let (counts, slot) = match kind {
            Kind::First => (&self.names.counts, 0),
            Kind::Surname => (&self.names.counts, 1),
            Kind::Address => (&self.addresses.counts, 0),
            Kind::Town => (&self.towns.counts, 0),
            Kind::Postcode => (&self.postcodes.counts, 0),
        };
        counts.get(sym as usize).map_or(0, |c| c[slot])
    }
    fn total(&self) -> usize {
        self.live
    }
    fn name_cache_key(&self, _sym: u32) -> Option<u64> {
        Some(self.id)
    }
}

/// The tables plus the values of one query record that are not in them.
pub(crate) struct Overlay<'a> {
    base: &'a Tables,
    names: Vec<NameInfo>,
    texts: [Vec<Box<str>>; 4],
}

impl Overlay<'_> {
    fn add_name(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return NONE;
        }
        if let Some(sym) = self.base.names.get(s) {
            return sym;
        }
        let base = self.base.names.len();
        if let Some(k) = self.names.iter().position(|n| &*n.text == s) {
            return base + k as u32;
        }
        self.names.push(NameInfo::new(s));
        base + self.names.len() as u32 - 1
    }

    fn add_text(&mut self, kind: usize, s: &str) -> u32 {
        if s.is_empty() {
            return NONE;
        }
        let table = self.base.text_table(kind);
        if let Some(sym) = table.get(s) {
            return sym;
        }
        let extra = &mut self.texts[kind];
        if let Some(k) = extra.iter().position(|t| &**t == s) {
            return table.len() + k as u32;
        }
        extra.push(s.into());
        table.len() + extra.len() as u32 - 1
    }
}

impl Lookup for Overlay<'_> {
    fn name(&self, sym: u32) -> &NameInfo {
        let base = self.base.names.len();
        if sym < base { self.base.name(sym) } else { &self.names[(sym - base) as usize] }
    }
    fn text(&self, kind: usize, sym: u32) -> &str {
        let base = self.base.text_table(kind).len();
        if sym < base { self.base.text(kind, sym) } else { &self.texts[kind][(sym - base) as usize] }
    }
    fn count(&self, kind: Kind, sym: u32) -> u32 {
        self.base.count(kind, sym)
    }
    fn total(&self) -> usize {
        self.base.total()
    }
    fn name_cache_key(&self, sym: u32) -> Option<u64> {
        (sym < self.base.names.len()).then_some(self.base.id)
    }
}

/// Number of compared fields.
pub const FIELDS: usize = 8;
/// Field positions in a comparison vector.
pub(crate) mod f {
    pub const FIRST: usize = 0;
    pub const SURNAME: usize = 1;
    pub const DOB: usize = 2;
    pub const SEX: usize = 3;
    pub const ADDRESS: usize = 4;
    pub const TOWN: usize = 5;
    pub const POSTCODE: usize = 6;
    pub const NHS: usize = 7;
}

/// Level numbers with a meaning outside the model (0 is always "missing").
pub(crate) mod lv {
    pub const FIRST_DIFFERENT: u8 = 8;
    pub const DOB_EXACT: u8 = 1;
    pub const DOB_ONE_DIGIT: u8 = 3;
    pub const SEX_DIFFERENT: u8 = 2;
    pub const ADDRESS_EXACT: u8 = 1;
    pub const ADDRESS_SAME_STREET: u8 = 2;
    pub const ADDRESS_JW90: u8 = 3;
    pub const POSTCODE_EXACT: u8 = 1;
    pub const POSTCODE_DISTRICT: u8 = 4;
    pub const NHS_EXACT: u8 = 1;
    pub const NHS_TYPO: u8 = 2;
    pub const NHS_DIFFERENT: u8 = 3;
}

/// Human names of the levels of each field, indexed by level (0 = missing).
pub(crate) const LEVELS: [&[&str]; FIELDS] = [
    &[
        "missing",
        "exact",
        "swapped with surname",
        "nickname",
        "similar spelling",
        "sounds alike",
        "initial only",
        "loosely similar",
        "different",
    ],
    &[
        "missing",
        "exact",
        "swapped with first name",
        "similar spelling",
        "sounds alike",
        "shares part of a double-barrelled name",
        "loosely similar",
        "different",
    ],
    &["missing", "exact", "day and month swapped", "one digit different", "year ±1", "different"],
    &["missing", "same", "different"],
    &["missing", "exact", "same street, different number", "similar", "loosely similar", "different"],
    &["missing", "exact", "similar", "different"],
    &["missing", "exact", "one character different", "same sector", "same district", "different"],
    &["missing", "exact", "one transposition or typo", "different"],
];

/// Field names as shown to people.
pub(crate) const FIELD_NAMES: [&str; FIELDS] =
    ["first name", "surname", "date of birth", "sex", "address", "town", "postcode", "NHS number"];

/// A comparison vector: one level per field, 4 bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Gamma(pub u32);

impl Gamma {
    pub fn get(self, field: usize) -> u8 {
        ((self.0 >> (4 * field)) & 0xF) as u8
    }

    fn set(&mut self, field: usize, level: u8) {
        self.0 = (self.0 & !(0xF << (4 * field))) | (u32::from(level & 0xF) << (4 * field));
    }

    /// Same address in the same place (or a near-identical address at the same postcode):
    /// household context, in which surname, date of birth and the rest are not independent
    /// of the address.
    pub fn household(self) -> bool {
        let (a, pc, town) = (self.get(f::ADDRESS), self.get(f::POSTCODE), self.get(f::TOWN));
        let same_area = match pc {
            0 => town == 0 || town == 1,
            p => p == lv::POSTCODE_EXACT || p == 2,
        };
        (a == lv::ADDRESS_EXACT && same_area) || (a == lv::ADDRESS_JW90 && pc == lv::POSTCODE_EXACT)
    }
}

fn house_number_and_street(a: &str) -> Option<(&str, &str)> {
    let (num, rest) = a.split_once(' ')?;
    num.bytes().next().filter(u8::is_ascii_digit)?;
    Some((num, rest))
}

/// Direct comparison level of two names (first-name levels when `first`, else surname levels);
/// never returns the "swapped" level, which needs both fields.
fn name_level<L: Lookup + ?Sized>(l: &L, a: u32, b: u32, first: bool) -> Option<u8> {
    if a == NONE || b == NONE {
        return None;
    }
    if a == b {
        return Some(1);
    }
    // Common names meet each other millions of times; remember their levels per thread.
    thread_local! {
        static CACHE: RefCell<(u64, FxHashMap<u64, u8>)> = RefCell::new((0, FxHashMap::default()));
    }
    let (Some(table), Some(_)) = (l.name_cache_key(a), l.name_cache_key(b)) else {
        return Some(name_level_uncached(l, a, b, first));
    };
    let key = (u64::from(a) << 32 | u64::from(b)) << 1 | u64::from(first);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != table || c.1.len() > 1 << 20 {
            c.0 = table;
            c.1.clear();
        }
        if let Some(level) = c.1.get(&key) {
            return Some(*level);
        }
        let level = name_level_uncached(l, a, b, first);
        c.1.insert(key, level);
        Some(level)
    })
}

fn name_level_uncached<L: Lookup + ?Sized>(l: &L, a: u32, b: u32, first: bool) -> u8 {
    let (x, y) = (l.name(a), l.name(b));
    let jw = compare::jaro_winkler(&x.text, &y.text);
    let sounds = || compare::sounds_alike((&x.phonetic.0, &x.phonetic.1), (&y.phonetic.0, &y.phonetic.1));
    if first {
        if compare::shares_group(&x.groups, &y.groups) {
            3
        } else if jw >= 0.92 {
            4
        } else if sounds() {
            5
        } else if (x.text.len() == 1 || y.text.len() == 1) && x.text.get(..1) == y.text.get(..1) {
            6
        } else if jw >= 0.8 {
            7
        } else {
            8
        }
    } else if jw >= 0.92 {
        3
    } else if sounds() {
        4
    } else if x.text.split(' ').any(|p| y.text.split(' ').any(|q| p == q)) {
        5
    } else if jw >= 0.8 {
        6
    } else {
        7
    }
}

/// Exact, nickname or close spelling (for recognising swapped names).
fn names_alike<L: Lookup + ?Sized>(l: &L, a: u32, b: u32) -> bool {
    if a == NONE || b == NONE {
        return false;
    }
    if a == b {
        return true;
    }
    let (x, y) = (l.name(a), l.name(b));
    // Cheap test first: this runs for most non-matching pairs. A close spelling that differs
    // in its first letter is rare enough to leave to the other fields.
    compare::shares_group(&x.groups, &y.groups)
        || (x.text.get(..1) == y.text.get(..1) && compare::jaro_winkler(&x.text, &y.text) >= 0.92)
}

/// Compares two prepared records field by field.
pub(crate) fn gamma<L: Lookup + ?Sized>(l: &L, a: &Prepared, b: &Prepared) -> Gamma {
    let mut g = Gamma(0);
    let first = name_level(l, a.first, b.first, true);
    let surname = name_level(l, a.surname, b.surname, false);
    // Swapped names (possibly with a typo or nickname on top) beat a weak direct comparison.
    let weak = |lvl: u8, strong_up_to: u8| lvl > strong_up_to;
    if let (Some(fl), Some(sl)) = (first, surname)
        && weak(fl, 4)
        && weak(sl, 1)
        && names_alike(l, a.first, b.surname)
        && names_alike(l, a.surname, b.first)
    {
        g.set(f::FIRST, 2);
        g.set(f::SURNAME, 2);
    } else {
        g.set(f::FIRST, first.unwrap_or(0));
        g.set(f::SURNAME, surname.unwrap_or(0));
    }

    if let (Some(x), Some(y)) = (a.dob, b.dob) {
        let level = match compare::compare_dob(&x, &y) {
            DobRelation::Exact => 1,
            DobRelation::DayMonthSwap => 2,
            DobRelation::OneDigit => 3,
            DobRelation::YearPlusMinusOne => 4,
            DobRelation::Different => 5,
        };
        g.set(f::DOB, level);
    }

    if let (Some(x), Some(y)) = (a.sex, b.sex) {
        g.set(f::SEX, if x == y { 1 } else { 2 });
    }

    if a.address != NONE && b.address != NONE {
        let level = if a.address == b.address {
            1
        } else {
            let (x, y) = (l.text(0, a.address), l.text(0, b.address));
            match (house_number_and_street(x), house_number_and_street(y)) {
                (Some((n1, s1)), Some((n2, s2))) if s1 == s2 && n1 != n2 => 2,
                _ => {
                    let jw = compare::jaro_winkler(x, y);
                    if jw >= 0.9 {
                        3
                    } else if jw >= 0.8 {
                        4
                    } else {
                        5
                    }
                }
            }
        };
        g.set(f::ADDRESS, level);
    }

    if a.town != NONE && b.town != NONE {
        let level = if a.town == b.town {
            1
        } else if compare::jaro_winkler(l.text(1, a.town), l.text(1, b.town)) >= 0.9 {
            2
        } else {
            3
        };
        g.set(f::TOWN, level);
    }

    if a.postcode != NONE && b.postcode != NONE {
        let level = if a.postcode == b.postcode {
            1
        } else {
            let (x, y) = (l.text(2, a.postcode), l.text(2, b.postcode));
            if compare::osa_at_most_one(x, y) {
                2
            } else if normalize::postcode_sector(x).is_some_and(|s| normalize::postcode_sector(y) == Some(s)) {
                3
            } else if normalize::postcode_district(x).is_some_and(|s| normalize::postcode_district(y) == Some(s)) {
                4
            } else {
                5
            }
        };
        g.set(f::POSTCODE, level);
    }

    if a.nhs != NONE && b.nhs != NONE {
        let level = if a.nhs == b.nhs {
            1
        } else {
            match compare::compare_nhs(l.text(3, a.nhs), l.text(3, b.nhs)) {
                NhsRelation::Exact => 1,
                NhsRelation::Transposition => 2,
                NhsRelation::Different => 3,
            }
        };
        g.set(f::NHS, level);
    }
    g
}

/// Whether one record's first name resembles the other's surname (names swapped, perhaps
/// with a typo), which makes "different first names" no evidence at all.
fn cross_related<L: Lookup + ?Sized>(l: &L, a: &Prepared, b: &Prepared) -> bool {
    let similar = |x: u32, y: u32| {
        if x == NONE || y == NONE {
            return false;
        }
        if x == y {
            return true;
        }
        let (p, q) = (l.name(x), l.name(y));
        compare::shares_group(&p.groups, &q.groups) || compare::jaro_winkler(&p.text, &q.text) >= 0.8
    };
    similar(a.first, b.surname) || similar(a.surname, b.first)
}

/// Why two records are clearly different people (see [`cannot_link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CannotLink {
    /// Shown to people in explanations.
    pub reason: &'static str,
    /// The only evidence is that the first names are unrelated (same household and date of
    /// birth; sexes not recorded as different; no conflicting valid NHS numbers). When
    /// clusters merge, this is a statement about the two people's names, which the
    /// other records of a person can contradict (see `cluster`).
    pub by_first_name_only: bool,
}

/// Clear evidence that two records are different people, whatever the total weight says.
/// These are the sibling and twin patterns that make Fellegi-Sunter over-confident: same
/// household and (nearly) the same date of birth, but unrelated first names or another sex;
/// or two different, valid NHS numbers.
pub(crate) fn cannot_link<L: Lookup + ?Sized>(l: &L, a: &Prepared, b: &Prepared, g: Gamma) -> Option<CannotLink> {
    let addr = g.get(f::ADDRESS);
    // A UK unit postcode covers about fifteen doors, so sharing one is "same place"; a code
    // that is not in UK unit form (e.g. a 4-digit Australian code for a whole suburb) is not.
    let same_unit_postcode =
        g.get(f::POSTCODE) == lv::POSTCODE_EXACT && normalize::postcode_sector(l.text(2, a.postcode)).is_some();
    let same_place = addr == lv::ADDRESS_EXACT || addr == lv::ADDRESS_JW90 || same_unit_postcode;
    let dob = g.get(f::DOB);
    let dob_close = (lv::DOB_EXACT..=lv::DOB_ONE_DIGIT).contains(&dob);
    let first = g.get(f::FIRST);
    // The same NHS number (or one a typo away) outweighs everything else here.
    let same_nhs = matches!(g.get(f::NHS), lv::NHS_EXACT | lv::NHS_TYPO);
    let different_valid_nhs = g.get(f::NHS) == lv::NHS_DIFFERENT
        && normalize::nhs_check_digit_ok(l.text(3, a.nhs))
        && normalize::nhs_check_digit_ok(l.text(3, b.nhs));
    let other_sex = g.get(f::SEX) == lv::SEX_DIFFERENT;
    if same_place && dob_close && !same_nhs && !cross_related(l, a, b) {
        if first == lv::FIRST_DIFFERENT {
            return Some(CannotLink {
                reason: "same household and date of birth, unrelated first names (twins or siblings)",
                by_first_name_only: !other_sex && !different_valid_nhs,
            });
        }
        if other_sex && matches!(first, 5 | 6 | lv::FIRST_DIFFERENT) {
            return Some(CannotLink {
                reason: "same household and date of birth, different sex and first name (twins)",
                by_first_name_only: false,
            });
        }
    }
    if different_valid_nhs {
        return Some(CannotLink { reason: "two different valid NHS numbers", by_first_name_only: false });
    }
    None
}

/// The reason two records are clearly different people, if they are (see [`cannot_link`]).
pub(crate) fn different_people<L: Lookup + ?Sized>(
    l: &L,
    a: &Prepared,
    b: &Prepared,
    g: Gamma,
) -> Option<&'static str> {
    cannot_link(l, a, b, g).map(|c| c.reason)
}

/// Whether record `by` vouches for record `who` against record `other` (which `who` is
/// "unrelated first names" with): `by` has a first name of its own and carries `who`'s
/// first name (or a nickname or close spelling of it) or its NHS number (or one a typo
/// away), and none of the three records is recorded with another sex than the others.
/// A record without a first name says nothing about a person's names and may belong to
/// either twin, so it never vouches.
pub(crate) fn vouches<L: Lookup + ?Sized>(l: &L, by: &Prepared, who: &Prepared, other: &Prepared) -> bool {
    let clash = |x: Option<Sex>, y: Option<Sex>| matches!((x, y), (Some(x), Some(y)) if x != y);
    if by.first == NONE || clash(by.sex, who.sex) || clash(by.sex, other.sex) || clash(who.sex, other.sex) {
        return false;
    }
    if names_alike(l, by.first, who.first) {
        return true;
    }
    if by.nhs == NONE || who.nhs == NONE {
        return false;
    }
    by.nhs == who.nhs
        || matches!(
            compare::compare_nhs(l.text(3, by.nhs), l.text(3, who.nhs)),
            NhsRelation::Exact | NhsRelation::Transposition
        )
}
