//! Bringing data in from outside: [`claimreview`] reads ClaimReview as fact-checkers
//! publish it, [`table`] reads spreadsheets of fact-checks (CSV) through a column
//! mapping.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

pub mod claimreview;
pub mod exchange;
pub mod import;
pub mod merge;
pub mod table;

/// A rating as a source gives it. Any part may be missing: many reviewers give a label
/// alone, some a number alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rating {
    pub label: Option<String>,
    pub value: Option<f64>,
    pub best: Option<f64>,
    pub worst: Option<f64>,
}

/// A date as published: an instant when it had a time, else a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Instant(DateTime<FixedOffset>),
    /// A time without a zone: the day is certain, the instant is not.
    Local(NaiveDateTime),
    Day(NaiveDate),
}

impl When {
    /// The day, in the zone the source gave.
    pub fn day(&self) -> NaiveDate {
        match self {
            When::Instant(at) => at.date_naive(),
            When::Local(at) => at.date(),
            When::Day(day) => *day,
        }
    }
}

/// Dates as publishers and spreadsheets write them: RFC 3339, offsets without a colon, a
/// space for the `T`, no seconds, no zone, a day alone with or without padding
/// (`2021-7-9`), or in English words (`July 28, 2022`, `Jul. 28, 2022`, `28 July 2022`).
pub fn when(value: &str) -> Option<When> {
    let value = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(When::Instant(at));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S %z",
    ] {
        if let Ok(at) = DateTime::parse_from_str(value, format) {
            return Some(When::Instant(at));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(value, format) {
            return Some(When::Local(at));
        }
    }
    [
        "%Y-%m-%d",
        "%B %d, %Y",
        "%b %d, %Y",
        "%b. %d, %Y",
        "%d %B %Y",
        "%d %b %Y",
    ]
    .iter()
    .find_map(|f| NaiveDate::parse_from_str(value, f).ok())
    .map(When::Day)
}
