//! `revision`: the append-only audit trail. One row per change, written in the same
//! transaction as the change, with the record before and after as JSON.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::RevisionAction;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "revision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub version: i32,
    pub action: RevisionAction,
    pub actor_key_id: Option<Uuid>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
