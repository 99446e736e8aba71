//! Normalisation of the raw fields of a person record.
//!
//! Every function here is total: bad input gives an empty string or `None`, never a panic.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, strips diacritics, drops apostrophes, turns other punctuation into spaces
/// and collapses whitespace: `"  O'Brien-SMITH "` → `"obrien smith"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        // Apostrophes join ("O'Brien" is written "OBrien" as often as "O Brien").
        if matches!(c, '\'' | '\u{2019}' | '`' | '\u{2018}') {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// A personal name: folded, with hyphens and other punctuation as single spaces.
pub fn name(s: &str) -> String {
    fold(s)
}

/// Full forms of UK street-type abbreviations (the last word of a street address).
const STREET_TYPES: &[(&str, &str)] = &[
    ("rd", "road"),
    ("st", "street"),
    ("str", "street"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("ln", "lane"),
    ("cl", "close"),
    ("dr", "drive"),
    ("gdns", "gardens"),
    ("gdn", "gardens"),
    ("cres", "crescent"),
    ("cresc", "crescent"),
    ("pl", "place"),
    ("terr", "terrace"),
    ("ter", "terrace"),
    ("tce", "terrace"),
    ("gr", "grove"),
    ("gro", "grove"),
    ("ct", "court"),
    ("sq", "square"),
    ("pde", "parade"),
    ("hwy", "highway"),
    ("mt", "mount"),
];

/// A street address: folded, with street-type abbreviations expanded ("12 High St" →
/// "12 high street"). "St" before another word is "saint" ("St Johns Rd" → "saint johns road").
pub fn address(s: &str) -> String {
    let folded = fold(s);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let last = words.len().saturating_sub(1);
    let mut out = String::with_capacity(folded.len() + 8);
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let expanded = if *w == "st" && i != last {
            "saint"
        } else {
            STREET_TYPES.iter().find(|(ab, _)| ab == w).map_or(*w, |(_, full)| *full)
        };
        out.push_str(expanded);
    }
    out
}

/// A UK postcode in canonical form ("sw1a1aa" → "SW1A 1AA"). Strings that do not look like a
/// postcode (inward code digit-letter-letter, outward code 2–4 characters) are returned
/// upper-cased without spaces, so they still compare exactly; empty input gives `None`.
pub fn postcode(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    if compact.is_empty() {
        return None;
    }
    let n = compact.len();
    let b = compact.as_bytes();
    let looks_uk = (5..=7).contains(&n)
        && b[n - 3].is_ascii_digit()
        && b[n - 2].is_ascii_alphabetic()
        && b[n - 1].is_ascii_alphabetic()
        && b[0].is_ascii_alphabetic();
    if looks_uk { Some(format!("{} {}", &compact[..n - 3], &compact[n - 3..])) } else { Some(compact) }
}

/// The postcode district (outward code): "SW1A 1AA" → "SW1A". `None` if not canonical.
pub fn postcode_district(pc: &str) -> Option<&str> {
    pc.split_once(' ').map(|(out, _)| out)
}

/// The postcode sector: "SW1A 1AA" → "SW1A 1". `None` if not canonical.
pub fn postcode_sector(pc: &str) -> Option<&str> {
    let (out, inward) = pc.split_once(' ')?;
    if inward.is_empty() { None } else { pc.get(..out.len() + 2) }
}

/// NHS number digits only (spaces and dashes dropped). Lengths other than 10 are kept (6–12
/// digits) so that a digit dropped or doubled by a typo still compares, and so that other
/// national identifiers can use the same column; anything else is `None`.
pub fn nhs_number(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (6..=12).contains(&digits.len()).then_some(digits)
}

/// Whether a 10-digit NHS number passes the Modulus 11 check.
pub fn nhs_check_digit_ok(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 10 || digits.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(x, w)| x * w).sum();
    let check = 11 - sum % 11;
    match check {
        11 => d[9] == 0,
        10 => false,
        c => d[9] == c,
    }
}

/// A date of birth. Deliberately lenient: months and days up to 99 are kept, because a
/// one-digit typo ("2011-13-04") is still strong evidence when compared digit by digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dob {
    /// Four-digit year.
    pub year: u16,
    /// Month, normally 1–12.
    pub month: u8,
    /// Day, normally 1–31.
    pub day: u8,
}

impl Dob {
    /// The eight digits yyyymmdd, for digit-level comparison.
    pub fn digits(&self) -> [u8; 8] {
        let y = self.year;
        [
            (y / 1000 % 10) as u8,
            (y / 100 % 10) as u8,
            (y / 10 % 10) as u8,
            (y % 10) as u8,
            self.month / 10,
            self.month % 10,
            self.day / 10,
            self.day % 10,
        ]
    }

    /// Whether month and day form a plausible calendar date (ignoring leap years).
    pub fn is_calendar_date(&self) -> bool {
        (1..=12).contains(&self.month) && (1..=31).contains(&self.day)
    }
}

impl std::fmt::Display for Dob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Parses "2011-03-04", "04/03/2011", "4/3/2011", "4.3.2011", "04-03-2011" (UK day first)
/// and "20110304"; a time part after a space or "T" is ignored.
pub fn date(s: &str) -> Option<Dob> {
    let s = s.trim();
    let s = s.split([' ', 'T']).next().unwrap_or("");
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let num = |p: &str| -> Option<u32> {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) { None } else { p.parse().ok() }
    };
    let (y, m, d) = match parts.as_slice() {
        [one] if one.len() == 8 && one.bytes().all(|b| b.is_ascii_digit()) => {
            (num(&one[..4])?, num(&one[4..6])?, num(&one[6..])?)
        }
        [a, b, c] if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        [a, b, c] if c.len() == 4 => (num(c)?, num(b)?, num(a)?),
        _ => return None,
    };
    if !(1000..=2999).contains(&y) || !(1..=99).contains(&m) || !(1..=99).contains(&d) {
        return None;
    }
    Some(Dob { year: y as u16, month: m as u8, day: d as u8 })
}

/// Recorded sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// "M", "male", "boy", "F", "female", "girl" (any case); anything else is unknown.
pub fn sex(s: &str) -> Option<Sex> {
    match fold(s).as_str() {
        "m" | "male" | "boy" | "man" => Some(Sex::Male),
        "f" | "female" | "girl" | "woman" => Some(Sex::Female),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_handles_case_diacritics_punctuation_whitespace() {
        assert_eq!(fold("  ZOË   Brontë "), "zoe bronte");
        assert_eq!(fold("O'Brien-SMITH"), "obrien smith");
        assert_eq!(fold("José\tÁlvarez"), "jose alvarez");
        assert_eq!(fold("..."), "");
        assert_eq!(name("Mary-Jane"), "mary jane");
    }

    #[test]
    fn address_expands_street_types() {
        assert_eq!(address("12 High St"), "12 high street");
        assert_eq!(address("3, Oak Rd."), "3 oak road");
        assert_eq!(address("7 St Johns Ave"), "7 saint johns avenue");
        assert_eq!(address("1 Elm Gdns"), "1 elm gardens");
        assert_eq!(address("9 Rose Cres"), "9 rose crescent");
        assert_eq!(address("10 Downing Street"), "10 downing street");
    }

    #[test]
    fn postcode_canonical_sector_district() {
        assert_eq!(postcode("sw1a1aa").as_deref(), Some("SW1A 1AA"));
        assert_eq!(postcode(" SW1A  1AA ").as_deref(), Some("SW1A 1AA"));
        assert_eq!(postcode("b11 2ab").as_deref(), Some("B11 2AB"));
        assert_eq!(postcode("m1 1ae").as_deref(), Some("M1 1AE"));
        assert_eq!(postcode("not a pc").as_deref(), Some("NOTAPC"));
        assert_eq!(postcode("  "), None);
        assert_eq!(postcode_sector("SW1A 1AA"), Some("SW1A 1"));
        assert_eq!(postcode_district("SW1A 1AA"), Some("SW1A"));
        assert_eq!(postcode_sector("NOTAPC"), None);
    }

    #[test]
    fn nhs_digits_and_check() {
        assert_eq!(nhs_number("943 476 5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs_number("943-476-5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs_number("12345"), None);
        assert_eq!(nhs_number("n/a"), None);
        assert_eq!(nhs_number("943 476 591").as_deref(), Some("943476591"));
        assert!(nhs_check_digit_ok("9434765919"));
        assert!(!nhs_check_digit_ok("9434765918"));
        // A transposition breaks the check digit.
        assert!(!nhs_check_digit_ok("9434765991"));
        assert!(!nhs_check_digit_ok("943476591"));
    }

    #[test]
    fn dates_in_all_formats() {
        let d = Dob { year: 2011, month: 3, day: 4 };
        assert_eq!(date("2011-03-04"), Some(d));
        assert_eq!(date("04/03/2011"), Some(d));
        assert_eq!(date("4/3/2011"), Some(d));
        assert_eq!(date("20110304"), Some(d));
        assert_eq!(date("04-03-2011"), Some(d));
        assert_eq!(date("2011-03-04T00:00:00"), Some(d));
        assert_eq!(date(""), None);
        assert_eq!(date("yesterday"), None);
        assert_eq!(date("2011-00-04"), None);
        // A typo'd month is kept so that it can still match digit by digit.
        assert_eq!(date("2011-13-04"), Some(Dob { year: 2011, month: 13, day: 4 }));
        assert_eq!(d.digits(), [2, 0, 1, 1, 0, 3, 0, 4]);
        assert_eq!(d.to_string(), "2011-03-04");
    }

    #[test]
    fn sex_values() {
        assert_eq!(sex("M"), Some(Sex::Male));
        assert_eq!(sex("female"), Some(Sex::Female));
        assert_eq!(sex("U"), None);
        assert_eq!(sex(""), None);
    }
}
