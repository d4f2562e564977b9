//! `link`: a typed edge from a statement to a later statement or to an article.
//! Exactly one target; never to itself.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{LinkRelation, LinkStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_statement_id: Uuid,
    pub target_statement_id: Option<Uuid>,
    pub target_article_id: Option<Uuid>,
    pub relation: LinkRelation,
    pub note: Option<String>,
    pub status: LinkStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
