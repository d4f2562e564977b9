//! `stance`: how one statement bears on one claim; at most one per pair. Stances are
//! edited as part of their statement and recorded in its revisions.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::StanceKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "stance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub statement_id: Uuid,
    pub claim_id: Uuid,
    pub stance: StanceKind,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
