//! `statement`: what a speaker said on a date, as reported by articles.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{DatePrecision, StatementKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "statement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub speaker_id: Uuid,
    pub text: String,
    pub kind: StatementKind,
    pub stated_on: Date,
    pub stated_on_precision: DatePrecision,
    /// Local time of day, when known; together with `stated_utc_offset_minutes`.
    pub stated_time: Option<Time>,
    pub stated_utc_offset_minutes: Option<i16>,
    /// Generated column: the UTC instant, when the time of day is known.
    #[sea_orm(ignore_insert, ignore_update)]
    #[serde(default)]
    pub stated_at_utc: Option<DateTime>,
    pub venue: Option<String>,
    pub context: Option<String>,
    pub language: String,
    pub reported_by_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
