//! [`Timescale`]: the compact duration strings used by policy files ("4wh", "45wd", "3mo").
//!
//! The grammar is documented on the parent module; keep the two in step.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A policy duration: working hours/minutes/days, or elapsed or calendar time in London.
///
/// Written and (de)serialised as `<amount><unit>`, e.g. `"4wh"`, `"1wd"`, `"6w"`, `"3mo"`.
/// Apply one with [`Calendar::add`](super::Calendar::add).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Timescale {
    /// `Nwh`: N working hours (09:00–17:00 on working days).
    WorkingHours(u32),
    /// `Nwm`: N working minutes, for timescales finer than an hour.
    WorkingMinutes(u32),
    /// `Nwd`: N working days (same local clock time N working days later).
    WorkingDays(u32),
    /// `Nh`: N elapsed hours of real time, ignoring working hours.
    Hours(u32),
    /// `Nd`: N calendar days, local wall clock preserved.
    Days(u32),
    /// `Nw`: N calendar weeks, local wall clock preserved.
    Weeks(u32),
    /// `Nmo`: N calendar months, local wall clock preserved, day clamped to month end.
    Months(u32),
}

impl Timescale {
    /// The largest amount [`FromStr`] accepts: generous for policy, far from jiff's limits.
    pub const MAX_AMOUNT: u32 = 100_000;

    /// The number before the unit.
    pub fn amount(self) -> u32 {
        match self {
            Self::WorkingHours(n)
            | Self::WorkingMinutes(n)
            | Self::WorkingDays(n)
            | Self::Hours(n)
            | Self::Days(n)
            | Self::Weeks(n)
            | Self::Months(n) => n,
        }
    }

    /// The unit suffix as written ("wh", "wm", "wd", "h", "d", "w", "mo").
    pub fn unit(self) -> &'static str {
        match self {
            Self::WorkingHours(_) => "wh",
            Self::WorkingMinutes(_) => "wm",
            Self::WorkingDays(_) => "wd",
            Self::Hours(_) => "h",
            Self::Days(_) => "d",
            Self::Weeks(_) => "w",
            Self::Months(_) => "mo",
        }
    }

    /// True for the units counted in working time (wh, wm, wd).
    pub fn is_working_time(self) -> bool {
        matches!(self, Self::WorkingHours(_) | Self::WorkingMinutes(_) | Self::WorkingDays(_))
    }
}

// Sent as its text, so the schema is a string of the same grammar as `FromStr` reads.
impl utoipa::PartialSchema for Timescale {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]+(wh|wm|wd|h|d|w|mo)$"))
            .description(Some(
                "A duration: a whole number and a unit: wh, wm, wd (working hours, minutes, days), \
                 h (elapsed hours), d, w, mo (calendar days, weeks, months), e.g. 4wh or 45wd",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Timescale {}

/// Why a timescale string was rejected; every variant quotes the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimescaleParseError {
    /// No leading whole number, or nothing at all.
    #[error(
        "invalid timescale {text:?}: expected a whole number followed by a unit \
         (wh, wm, wd, h, d, w or mo), e.g. \"4wh\""
    )]
    Malformed {
        /// The rejected input.
        text: String,
    },
    /// A number followed by something that is not a known unit.
    #[error("invalid timescale {text:?}: unknown unit {unit:?} (expected wh, wm, wd, h, d, w or mo)")]
    UnknownUnit {
        /// The rejected input.
        text: String,
        /// The part after the number.
        unit: String,
    },
    /// The number exceeds [`Timescale::MAX_AMOUNT`].
    #[error("invalid timescale {text:?}: amount is larger than {max}")]
    TooLarge {
        /// The rejected input.
        text: String,
        /// The limit that was exceeded.
        max: u32,
    },
}

impl FromStr for Timescale {
    type Err = TimescaleParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Strict on purpose: policy files are reviewed text, and silently accepting
        // " 4 WH" or "+4wh" would hide typos rather than catch them.
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        if digits.is_empty() {
            return Err(TimescaleParseError::Malformed { text: text.into() });
        }
        let too_large = || TimescaleParseError::TooLarge { text: text.into(), max: Self::MAX_AMOUNT };
        // Only ASCII digits remain, so the only possible parse failure is overflow.
        let n: u32 = digits.parse().map_err(|_| too_large())?;
        if n > Self::MAX_AMOUNT {
            return Err(too_large());
        }
        Ok(match unit {
            "wh" => Self::WorkingHours(n),
            "wm" => Self::WorkingMinutes(n),
            "wd" => Self::WorkingDays(n),
            "h" => Self::Hours(n),
            "d" => Self::Days(n),
            "w" => Self::Weeks(n),
            "mo" => Self::Months(n),
            "" => return Err(TimescaleParseError::Malformed { text: text.into() }),
            other => {
                return Err(TimescaleParseError::UnknownUnit { text: text.into(), unit: other.into() });
            }
        })
    }
}

impl fmt::Display for Timescale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount(), self.unit())
    }
}

impl TryFrom<String> for Timescale {
    type Error = TimescaleParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Timescale> for String {
    fn from(t: Timescale) -> Self {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_round_trips() {
        let cases = [
            ("4wh", Timescale::WorkingHours(4)),
            ("90wm", Timescale::WorkingMinutes(90)),
            ("1wd", Timescale::WorkingDays(1)),
            ("45wd", Timescale::WorkingDays(45)),
            ("24h", Timescale::Hours(24)),
            ("10d", Timescale::Days(10)),
            ("6w", Timescale::Weeks(6)),
            ("3mo", Timescale::Months(3)),
            ("0d", Timescale::Days(0)),
            ("100000wd", Timescale::WorkingDays(100_000)),
        ];
        for (text, expected) in cases {
            let parsed: Timescale = text.parse().expect(text);
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
        // Leading zeros are tolerated but normalised on output.
        assert_eq!("007d".parse(), Ok(Timescale::Days(7)));
        assert_eq!(Timescale::Days(7).to_string(), "7d");
    }

    #[test]
    fn rejects_bad_text_naming_it() {
        let bad =
            ["", "wd", "4", "4 wh", " 4wh", "4wh ", "4WH", "+4wh", "-1wd", "1.5wh", "4m", "4y", "4wdx", "4 ", "1e3d"];
        for text in bad {
            let err = text.parse::<Timescale>().expect_err(text);
            assert!(err.to_string().contains(&format!("{text:?}")), "error for {text:?} names it: {err}");
        }
        assert_eq!(
            "4m".parse::<Timescale>(),
            Err(TimescaleParseError::UnknownUnit { text: "4m".into(), unit: "m".into() })
        );
        assert!(matches!("100001wd".parse::<Timescale>(), Err(TimescaleParseError::TooLarge { .. })));
        assert!(matches!("99999999999999999999wd".parse::<Timescale>(), Err(TimescaleParseError::TooLarge { .. })));
    }

    #[test]
    fn serde_uses_the_string_form() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Policy {
            due: Timescale,
            review: Vec<Timescale>,
        }
        let p: Policy = serde_json::from_str(r#"{"due":"4wh","review":["6w","3mo"]}"#).expect("parses");
        assert_eq!(
            p,
            Policy { due: Timescale::WorkingHours(4), review: vec![Timescale::Weeks(6), Timescale::Months(3)] }
        );
        assert_eq!(serde_json::to_string(&p).expect("serialises"), r#"{"due":"4wh","review":["6w","3mo"]}"#);
        let err = serde_json::from_str::<Policy>(r#"{"due":"4hours","review":[]}"#).expect_err("bad unit");
        assert!(err.to_string().contains("\"4hours\""), "{err}");
    }
}
