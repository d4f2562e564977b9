//! `speaker`: a person, organisation or group that makes statements.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SpeakerKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "speaker")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub kind: SpeakerKind,
    pub description: Option<String>,
    pub wikidata_id: Option<String>,
    pub aliases: Vec<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
