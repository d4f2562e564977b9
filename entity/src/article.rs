//! `article`: one published piece of an outlet. `url` is stored normalized, so one
//! article is stored once; broadcast and print pieces may have none.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "article")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub outlet_id: Uuid,
    pub url: Option<String>,
    pub title: String,
    pub published_at: Option<DateTimeUtc>,
    pub language: Option<String>,
    pub byline: Option<String>,
    pub archive_url: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
