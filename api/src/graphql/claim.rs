//! `Claim`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::claim;

pub struct Claim(pub claim::Model);

impl From<claim::Model> for Claim {
    fn from(m: claim::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Claim {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Claim>> {
    Ok(loaders(ctx).load_one(ById::<claim::Entity>::new(id)).await?.map(Claim))
}

#[derive(Default)]
pub struct ClaimQuery;

#[Object]
impl ClaimQuery {
    async fn placeholder_claim_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct ClaimMutation;

#[Object]
impl ClaimMutation {
    async fn placeholder_claim_mutation(&self) -> bool {
        false
    }
}
