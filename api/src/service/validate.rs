//! Input validators. Each takes the input field's name (a JSON path such as
//! `input.text`) so the error names the field at fault, and returns the cleaned value.

use chrono::{FixedOffset, NaiveDate, NaiveTime, Utc};
use entity::DatePrecision;
use url::Url;

use crate::error::{ApiError, ApiResult};

/// Longest statement text, in characters.
pub const MAX_STATEMENT_TEXT: usize = 10_000;
pub const MAX_NAME: usize = 300;
pub const MAX_LONG_TEXT: usize = 5_000;
pub const MAX_URL: usize = 2_048;

/// Query parameters that only track the reader and never select content.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl",
    "ocid",
];

/// The earliest and latest years a date or an instant may name. Statements older than
/// the year 1000 are out of a fact-check database's reach, and four-digit years are
/// what RFC 3339 and `YYYY-MM-DD` write (PostgreSQL has no year 0, which chrono would
/// read and write as `0000`).
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// Whether a character has no business in text: the control characters other than
/// tab, line feed and carriage return (C0 and DEL, which terminals act on, and C1,
/// which a text decoded with the wrong encoding leaves behind; NUL, which PostgreSQL
/// cannot store), and the noncharacters U+FFFE and U+FFFF (a byte-order mark read
/// the wrong way round).
pub fn is_foreign(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Refuses text holding a character that has no business in it (see [`is_foreign`]),
/// naming the first one. Every string a request brings goes through this, lookups and
/// searches as well as writes.
pub fn plain(field: &str, value: &str) -> ApiResult<()> {
    match value.char_indices().find(|(_, c)| is_foreign(*c)) {
        None => Ok(()),
        Some((at, c)) => Err(ApiError::bad_input(
            field,
            format!(
                "holds the control character U+{:04X} at byte {at}; text may hold tabs and \
                 line breaks, but no other control characters",
                u32::from(c)
            ),
        )),
    }
}

/// Required text: trimmed, non-empty, at most `max` characters, plain (see [`plain`]).
pub fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad_input(field, "must not be empty"));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(ApiError::bad_input(
            field,
            format!("is {chars} characters long; the limit is {max}"),
        ));
    }
    plain(field, trimmed)?;
    Ok(trimmed.to_owned())
}

/// Optional text: blank means absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value {
        Some(v) if !v.trim().is_empty() => text(field, v, max).map(Some),
        _ => Ok(None),
    }
}

/// A slug: lower-case ASCII letters and digits in dash-separated runs, at most 100.
pub fn slug(field: &str, value: &str) -> ApiResult<String> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(
            field,
            "must be lower-case letters and digits separated by single dashes (at most 100)",
        ))
    }
}

/// A slug made from a name, transliterated to Latin letters first: `Sergei Lavrov` →
/// `sergei-lavrov`, `Сергей Лавров` → `sergei-lavrov`, `Recep Tayyip Erdoğan` →
/// `recep-tayyip-erdogan`. None when not even the transliteration has letters or
/// digits to make one from.
pub fn slugify(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in deunicode::deunicode(name).chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 100 {
            break;
        }
    }
    let trimmed = out.trim_end_matches('-');
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The slug given, or one made from `name`.
pub fn slug_or_from(field: &str, given: Option<&str>, name: &str) -> ApiResult<String> {
    match given {
        Some(s) => slug(field, s),
        None => slugify(name)
            .ok_or_else(|| ApiError::bad_input(field, "cannot be made from the name; give one")),
    }
}

/// A language tag such as `en`, `ru` or `pt-BR`.
pub fn language(field: &str, value: &str) -> ApiResult<String> {
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(
            field,
            "must be a language tag such as `en`, `ru` or `pt-BR`",
        ))
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn country(field: &str, value: &str) -> ApiResult<String> {
    let upper = value.trim().to_ascii_uppercase();
    if upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(upper)
    } else {
        Err(ApiError::bad_input(
            field,
            "must be a two-letter country code such as `RU`",
        ))
    }
}

/// A Wikidata item id such as `Q1234`.
pub fn wikidata_id(field: &str, value: &str) -> ApiResult<String> {
    let digits = value.strip_prefix('Q').unwrap_or_default();
    if !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.len() <= 12
    {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(
            field,
            "must be a Wikidata item id such as `Q1234`",
        ))
    }
}

/// An http(s) URL in normal form, so one article is stored once: scheme and host
/// lower-cased, default port, fragment and tracking parameters (`utm_*`, `fbclid`, …)
/// dropped, the other parameters kept in their order.
pub fn normalize_url(field: &str, value: &str) -> ApiResult<String> {
    let bad = |why: &str| ApiError::bad_input(field, format!("is not a valid web address: {why}"));
    let trimmed = value.trim();
    if trimmed.len() > MAX_URL {
        return Err(bad("too long"));
    }
    let mut url = Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https addresses are accepted"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not carry credentials"));
    }
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let normalized = url.to_string();
    if normalized.len() > MAX_URL {
        return Err(bad("too long"));
    }
    Ok(normalized)
}

/// A statement's date with its precision: a MONTH date is the first of its month, a
/// YEAR date the first of January, and no statement is made in the future.
pub fn stated_on(field: &str, date: NaiveDate, precision: DatePrecision) -> ApiResult<NaiveDate> {
    use chrono::Datelike;
    match precision {
        DatePrecision::Month if date.day() != 1 => {
            return Err(ApiError::bad_input(
                field,
                "a MONTH-precision date must be the first of its month",
            ));
        }
        DatePrecision::Year if date.day() != 1 || date.month() != 1 => {
            return Err(ApiError::bad_input(
                field,
                "a YEAR-precision date must be the first of January",
            ));
        }
        _ => {}
    }
    // The earliest time zone is 14 hours ahead of UTC.
    let latest = (Utc::now() + chrono::Duration::hours(14)).date_naive();
    if date > latest {
        return Err(ApiError::bad_input(field, "is in the future"));
    }
    year(field, date.year())?;
    Ok(date)
}

/// Refuses a year outside [`YEARS`].
pub fn year(field: &str, year: i32) -> ApiResult<()> {
    if YEARS.contains(&year) {
        return Ok(());
    }
    Err(ApiError::bad_input(
        field,
        format!(
            "names the year {year}; dates lie between the years {} and {}",
            YEARS.start(),
            YEARS.end()
        ),
    ))
}

/// A time of day with its UTC offset, `HH:MM[:SS](Z|±HH:MM)`, as local time and
/// offset in minutes.
pub fn time_of_day(field: &str, value: &str) -> ApiResult<(NaiveTime, i16)> {
    let bad = || {
        ApiError::bad_input(
            field,
            "must be a time of day with its UTC offset, such as `15:04-04:00` or `07:30Z`",
        )
    };
    let value = value.trim();
    let split = value.rfind(['+', '-', 'Z']).ok_or_else(bad)?;
    let (time, offset) = value.split_at(split);
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .map_err(|_| bad())?;
    let minutes = if offset == "Z" {
        0
    } else {
        let parsed: FixedOffset = format!("2000-01-01T00:00:00{offset}")
            .parse::<chrono::DateTime<FixedOffset>>()
            .map_err(|_| bad())?
            .timezone();
        i16::try_from(parsed.local_minus_utc() / 60).map_err(|_| bad())?
    };
    if minutes.abs() > 18 * 60 {
        return Err(bad());
    }
    Ok((time, minutes))
}

/// Formats a stored time of day and offset back as `HH:MM:SS±HH:MM`.
pub fn format_time_of_day(time: NaiveTime, offset_minutes: i16) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.unsigned_abs();
    format!(
        "{}{sign}{:02}:{:02}",
        time.format("%H:%M:%S"),
        abs / 60,
        abs % 60
    )
}

/// The largest magnitude of a rating or an end of its scale. Real scales run 1–5,
/// 0–10 or 0–100; a bound keeps the score's arithmetic `(value − worst) / (best −
/// worst)` finite.
pub const MAX_RATING: f64 = 1_000_000.0;

/// A rating on the reviewer's own scale (schema.org ClaimReview): a value needs both
/// ends of its scale, the ends differ, and the value lies between them.
pub fn rating(
    field: &str,
    value: Option<f64>,
    best: Option<f64>,
    worst: Option<f64>,
) -> ApiResult<()> {
    for (name, v) in [
        ("ratingValue", value),
        ("bestRating", best),
        ("worstRating", worst),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v.abs() > MAX_RATING) {
            return Err(ApiError::bad_input(
                format!("{field}.{name}"),
                format!("must be a number between -{MAX_RATING} and {MAX_RATING}"),
            ));
        }
    }
    if let (Some(b), Some(w)) = (best, worst)
        && b == w
    {
        return Err(ApiError::bad_input(
            format!("{field}.bestRating"),
            "must differ from worstRating",
        ));
    }
    let Some(v) = value else { return Ok(()) };
    let (Some(b), Some(w)) = (best, worst) else {
        return Err(ApiError::bad_input(
            format!("{field}.ratingValue"),
            "needs bestRating and worstRating",
        ));
    };
    if v < b.min(w) || v > b.max(w) {
        return Err(ApiError::bad_input(
            format!("{field}.ratingValue"),
            format!("{v} lies outside the scale from {w} to {b}"),
        ));
    }
    Ok(())
}

/// An optional web address in normal form; blank means absent.
pub fn optional_url(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| normalize_url(field, v))
        .transpose()
}

/// An optional language tag; blank means absent.
pub fn optional_language(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| language(field, v))
        .transpose()
}

/// Escapes `%`, `_` and `\\` for a LIKE pattern.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_lose_tracking_fragment_and_case() {
        let n = normalize_url(
            "u",
            "HTTPS://TASS.com:443/politics/943510?utm_source=x&id=7&fbclid=1#top",
        )
        .unwrap();
        assert_eq!(n, "https://tass.com/politics/943510?id=7");
        assert_eq!(
            normalize_url("u", "http://Example.org/A?utm_medium=m").unwrap(),
            "http://example.org/A"
        );
    }

    #[test]
    fn urls_refuse_other_schemes_and_garbage() {
        for bad in [
            "ftp://x.org/a",
            "javascript:alert(1)",
            "not a url",
            "https://",
            "https://u:p@x.org/",
        ] {
            assert!(normalize_url("u", bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn precision_must_match_the_date() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(stated_on("d", d("2017-07-01"), DatePrecision::Month).is_ok());
        assert!(stated_on("d", d("2017-07-09"), DatePrecision::Month).is_err());
        assert!(stated_on("d", d("2017-01-01"), DatePrecision::Year).is_ok());
        assert!(stated_on("d", d("2017-03-01"), DatePrecision::Year).is_err());
        assert!(stated_on("d", d("2999-01-01"), DatePrecision::Day).is_err());
    }

    #[test]
    fn times_of_day_round_trip() {
        let (t, off) = time_of_day("t", "15:04-04:00").unwrap();
        assert_eq!(format_time_of_day(t, off), "15:04:00-04:00");
        assert_eq!(time_of_day("t", "07:30:15Z").unwrap().1, 0);
        assert_eq!(time_of_day("t", "07:30+05:30").unwrap().1, 330);
        assert!(time_of_day("t", "25:00Z").is_err());
        assert!(time_of_day("t", "12:00").is_err());
    }

    #[test]
    fn ratings_lie_on_their_scale() {
        assert!(rating("r", Some(2.0), Some(5.0), Some(1.0)).is_ok());
        assert!(rating("r", Some(0.0), Some(5.0), Some(1.0)).is_err());
        assert!(
            rating("r", Some(4.0), Some(1.0), Some(5.0)).is_ok(),
            "reversed scales are allowed"
        );
        assert!(rating("r", Some(1.0), None, None).is_err());
        assert!(rating("r", None, Some(1e308), Some(-1e308)).is_err());
        assert!(rating("r", Some(50.0), Some(100.0), Some(0.0)).is_ok());
        assert!(rating("r", None, Some(3.0), Some(3.0)).is_err());
    }

    #[test]
    fn slugs_are_made_from_names_in_any_script() {
        assert_eq!(slugify("Сергей Лавров").as_deref(), Some("sergei-lavrov"));
        assert_eq!(
            slugify("Recep Tayyip Erdoğan").as_deref(),
            Some("recep-tayyip-erdogan")
        );
        assert_eq!(slugify("习近平").as_deref(), Some("xi-jin-ping"));
        assert_eq!(slugify("«…»"), None);
    }

    #[test]
    fn slugs_are_made_from_ascii_names() {
        assert_eq!(slugify("Sergei Lavrov").as_deref(), Some("sergei-lavrov"));
        assert_eq!(
            slugify("  U.S. Congress — members ").as_deref(),
            Some("u-s-congress-members")
        );
    }

    proptest! {
        #[test]
        fn normalized_urls_are_fixed_points(host in "[a-zA-Z][a-zA-Z0-9]{0,10}\\.(com|org|ru)", path in "(/[a-zA-Z0-9_]{1,8}){0,3}",
                                            q in proptest::option::of("[a-z]{1,5}=[a-z0-9]{1,5}"), utm in any::<bool>()) {
            let mut raw = format!("https://{host}{path}");
            let mut params = Vec::new();
            if let Some(q) = &q { params.push(q.clone()); }
            if utm { params.push("utm_source=feed".into()); }
            if !params.is_empty() { raw = format!("{raw}?{}", params.join("&")); }
            let once = normalize_url("u", &raw).unwrap();
            prop_assert_eq!(normalize_url("u", &once).unwrap(), once.clone());
            prop_assert!(!once.contains("utm_"));
            let prefix = format!("https://{}", host.to_ascii_lowercase());
            prop_assert!(once.starts_with(&prefix));
        }

        #[test]
        fn slugs_made_by_slugify_are_valid(name in "\\PC{0,120}") {
            if let Some(s) = slugify(&name) {
                prop_assert!(slug("s", &s).is_ok(), "{} is not a valid slug", s);
            }
        }

        #[test]
        fn text_is_trimmed_and_bounded(s in "\\PC{0,50}", max in 1usize..40) {
            match text("t", &s, max) {
                Ok(t) => {
                    prop_assert!(!t.is_empty() && t.chars().count() <= max);
                    prop_assert_eq!(t.as_str(), s.trim());
                }
                Err(e) => prop_assert_eq!(e.code(), "BAD_USER_INPUT"),
            }
        }
    }
}
