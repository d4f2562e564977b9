//! Scalars of the contract: `Date` (YYYY-MM-DD), `DateTime` (RFC 3339, from
//! async-graphql's chrono support), `ID` as a UUID string, `JSON`.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not a date in the form YYYY-MM-DD"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
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
