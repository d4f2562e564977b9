//! `revision`: the append-only audit trail. One row per change, written in the same
//! transaction as the change, with the record before and after as JSON. A purge
//! blanks the content of the purged record's revisions and nothing else.

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
    /// Why the record was purged (PURGE revisions only).
    pub reason: Option<String>,
    /// When a purge blanked this revision's `before` and `after`.
    pub redacted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
