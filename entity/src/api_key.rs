//! `api_key`: a caller's credential. Only the public prefix and a SHA-256 hash of the
//! secret are stored; the secret is shown once, when the key is made.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ApiRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub role: ApiRole,
    pub prefix: String,
    #[serde(skip)]
    pub secret_hash: Vec<u8>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
