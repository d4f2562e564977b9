//! Scalars of the contract: `Date` (YYYY-MM-DD), `DateTime` (RFC 3339, from
//! async-graphql's chrono support), `ID` as a UUID string, `JSON`.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::validate;

/// A calendar date, `YYYY-MM-DD` exactly (two digits for the month and the day), in
/// the years [`validate::YEARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date without time or time zone, written `YYYY-MM-DD` exactly
/// (`2017-07-24`; RFC 3339 full-date), between the years 1000 and 9999. A date of
/// MONTH or YEAR precision is the first day of its period.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        let shaped = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|_| shaped)
            .ok_or_else(|| {
                InputValueError::custom(format!("`{s}` is not a date in the form YYYY-MM-DD"))
            })?;
        validate::year("", date.year())
            .map_err(|e| InputValueError::custom(format!("`{s}`: {e}")))?;
        Ok(Date(date))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// Reads a UUID from an `ID` argument; `field` names the argument in the error.
pub fn uuid(field: &str, id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "is not a valid ID"))
}

/// Reads a list of UUIDs, naming the position of a bad one.
pub fn uuids(field: &str, ids: &[ID]) -> ApiResult<Vec<Uuid>> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| uuid(&format!("{field}[{i}]"), id))
        .collect()
}

pub fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_take_exactly_the_form_they_are_written_in() {
        let parse = |s: &str| Date::parse(Value::String(s.into())).map(|d| d.0);
        assert_eq!(
            parse("2017-07-01").ok(),
            NaiveDate::from_ymd_opt(2017, 7, 1)
        );
        for bad in [
            "2017-7-1",
            "2017-07-1",
            "+2017-07-01",
            "17-07-01",
            "2017-02-30",
            "0000-01-01",
            "0999-12-31",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
