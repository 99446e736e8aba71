//! The shipped England & Wales bank-holiday list and its parser.
//!
//! The list is a committed text file embedded at compile time, so the service never
//! depends on gov.uk being reachable and every build answers the same way.

use jiff::civil::Date;
use std::collections::BTreeMap;

/// The embedded data file (path is relative to this file, i.e. `<crate>/data/`).
pub(super) const ENGLAND_AND_WALES_TXT: &str = include_str!("../../data/bank_holidays_england_and_wales.txt");

/// Parses a holiday list: one `YYYY-MM-DD [# name]` per line; blank and `#` lines skipped.
///
/// Returns the offending line on failure so a bad edit to the data file is easy to find.
pub(super) fn parse(text: &str) -> Result<BTreeMap<Date, String>, String> {
    let mut out = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (date_text, name) = match line.split_once('#') {
            Some((d, n)) => (d.trim(), n.trim()),
            None => (line, ""),
        };
        let date: Date = date_text.parse().map_err(|e| format!("line {}: {raw:?}: {e}", index + 1))?;
        if out.insert(date, name.to_owned()).is_some() {
            return Err(format!("line {}: {raw:?}: duplicate date", index + 1));
        }
    }
    Ok(out)
}

/// The shipped list, parsed; the data is compiled in, so failure is a build defect.
pub(super) fn england_and_wales() -> BTreeMap<Date, String> {
    // The file is embedded at compile time and a unit test parses it, so this cannot
    // fail in a build that passed its tests.
    parse(ENGLAND_AND_WALES_TXT).expect("data/bank_holidays_england_and_wales.txt is malformed (see unit tests)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Weekday, date};
    use std::collections::BTreeSet;

    fn shipped() -> BTreeMap<Date, String> {
        parse(ENGLAND_AND_WALES_TXT).expect("shipped data parses")
    }

    #[test]
    fn shipped_data_parses_sorted_unique_and_weekdays_only() {
        // Sortedness is checked on the raw line order, since the map would hide it.
        let dates: Vec<Date> = ENGLAND_AND_WALES_TXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split('#').next().unwrap_or_default().trim().parse().expect("date"))
            .collect();
        assert!(dates.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert_eq!(dates.len(), shipped().len());
        for (d, name) in shipped() {
            assert!(!matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday), "{d} ({name}) is a weekend");
            assert!(!name.is_empty(), "{d} has a name");
        }
    }

    #[test]
    fn shipped_data_covers_2015_to_2035_with_expected_counts() {
        let data = shipped();
        for year in 2015..=2035 {
            let n = data.keys().filter(|d| d.year() == year).count();
            let expected = match year {
                2022 => 10, // Platinum Jubilee (extra) + State Funeral
                2023 => 9,  // Coronation
                _ => 8,     // 2020's VE Day replaced the early May holiday: still 8
            };
            assert_eq!(n, expected, "holidays in {year}");
        }
        assert_eq!(data.keys().next(), Some(&date(2015, 1, 1)));
        assert_eq!(data.keys().next_back(), Some(&date(2035, 12, 26)));
    }

    #[test]
    fn known_gov_uk_dates_present() {
        let data = shipped();
        let known = [
            // 2015–2027 from the gov.uk lists.
            date(2015, 4, 3),
            date(2015, 12, 28),
            date(2016, 3, 25),
            date(2016, 12, 27),
            date(2017, 1, 2),
            date(2018, 3, 30),
            date(2019, 4, 22),
            date(2020, 5, 8),
            date(2020, 12, 28),
            date(2021, 5, 31),
            date(2021, 12, 27),
            date(2021, 12, 28),
            date(2022, 1, 3),
            date(2022, 6, 2),
            date(2022, 6, 3),
            date(2022, 9, 19),
            date(2022, 12, 27),
            date(2023, 1, 2),
            date(2023, 5, 8),
            date(2024, 3, 29),
            date(2024, 4, 1),
            date(2025, 4, 18),
            date(2025, 4, 21),
            date(2026, 4, 3),
            date(2026, 4, 6),
            date(2026, 5, 4),
            date(2026, 5, 25),
            date(2026, 8, 31),
            date(2026, 12, 25),
            date(2026, 12, 28),
            date(2027, 3, 26),
            date(2027, 3, 29),
            date(2027, 12, 27),
            date(2027, 12, 28),
        ];
        for d in known {
            assert!(data.contains_key(&d), "{d} missing");
        }
        let not_holidays = [
            date(2020, 5, 4),  // moved to VE Day
            date(2022, 5, 30), // spring holiday moved to 2 June
            date(2026, 12, 26),
            date(2027, 12, 25),
        ];
        for d in not_holidays {
            assert!(!data.contains_key(&d), "{d} should not be a holiday");
        }
    }

    /// Anonymous Gregorian computus (Meeus/Jones/Butcher).
    fn easter_sunday(y: i16) -> Date {
        let y32 = i32::from(y);
        let a = y32 % 19;
        let b = y32 / 100;
        let c = y32 % 100;
        let d = b / 4;
        let e = b % 4;
        let f = (b + 8) / 25;
        let g = (b - f + 1) / 3;
        let h = (19 * a + b - d - g + 15) % 30;
        let i = c / 4;
        let k = c % 4;
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let month = (h + l - 7 * m + 114) / 31;
        let day = (h + l - 7 * m + 114) % 31 + 1;
        Date::new(y, month as i8, day as i8).expect("valid Easter")
    }

    fn nth_monday(y: i16, month: i8, nth: i32) -> Date {
        date(y, month, 1).nth_weekday_of_month(nth as i8, Weekday::Monday).expect("monday exists")
    }

    /// The statutory rules alone, without any one-off proclamation.
    fn by_rules(y: i16) -> BTreeSet<Date> {
        let mut s = BTreeSet::new();
        let ny = date(y, 1, 1);
        s.insert(match ny.weekday() {
            Weekday::Saturday => date(y, 1, 3),
            Weekday::Sunday => date(y, 1, 2),
            _ => ny,
        });
        let easter = easter_sunday(y);
        s.insert(easter.checked_sub(jiff::Span::new().days(2)).expect("gf"));
        s.insert(easter.checked_add(jiff::Span::new().days(1)).expect("em"));
        s.insert(nth_monday(y, 5, 1));
        s.insert(nth_monday(y, 5, -1));
        s.insert(nth_monday(y, 8, -1));
        match date(y, 12, 25).weekday() {
            Weekday::Saturday => {
                s.insert(date(y, 12, 27));
                s.insert(date(y, 12, 28));
            }
            Weekday::Sunday => {
                s.insert(date(y, 12, 26));
                s.insert(date(y, 12, 27));
            }
            Weekday::Friday => {
                s.insert(date(y, 12, 25));
                s.insert(date(y, 12, 28));
            }
            _ => {
                s.insert(date(y, 12, 25));
                s.insert(date(y, 12, 26));
            }
        }
        s
    }

    #[test]
    fn computus_matches_known_easters() {
        assert_eq!(easter_sunday(2019), date(2019, 4, 21));
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
        assert_eq!(easter_sunday(2026), date(2026, 4, 5));
        assert_eq!(easter_sunday(2035), date(2035, 3, 25));
    }

    #[test]
    fn shipped_data_equals_rules_plus_known_one_offs() {
        let data = shipped();
        for y in 2015..=2035 {
            let mut expected = by_rules(y);
            match y {
                2020 => {
                    expected.remove(&date(2020, 5, 4));
                    expected.insert(date(2020, 5, 8));
                }
                2022 => {
                    expected.remove(&date(2022, 5, 30));
                    expected.insert(date(2022, 6, 2));
                    expected.insert(date(2022, 6, 3));
                    expected.insert(date(2022, 9, 19));
                }
                2023 => {
                    expected.insert(date(2023, 5, 8));
                }
                _ => {}
            }
            let actual: BTreeSet<Date> = data.keys().copied().filter(|d| d.year() == y).collect();
            assert_eq!(actual, expected, "year {y}");
        }
    }

    #[test]
    fn parser_reports_bad_lines() {
        let err = parse("2026-01-01 # ok\n2026-13-01 # bad\n").expect_err("bad month");
        assert!(err.contains("line 2"), "{err}");
        let err = parse("2026-01-01\n2026-01-01\n").expect_err("duplicate");
        assert!(err.contains("duplicate"), "{err}");
        let ok = parse("# header\n\n  2026-01-01   # New Year \n2026-04-03\n").expect("ok");
        assert_eq!(ok.get(&date(2026, 1, 1)).map(String::as_str), Some("New Year"));
        assert_eq!(ok.get(&date(2026, 4, 3)).map(String::as_str), Some(""));
    }
}
