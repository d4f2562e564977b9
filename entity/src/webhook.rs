//! `webhook`: a URL that receives events of the chosen types (of one watchlist's
//! records, when it names one), signed with its secret.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub watchlist_id: Option<Uuid>,
    /// `whsec_` and the base64 of the signing key; shown once, when the webhook is made.
    #[serde(skip)]
    pub secret: String,
    pub created_by: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
