//! `Verdict`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::verdict;

pub struct Verdict(pub verdict::Model);

impl From<verdict::Model> for Verdict {
    fn from(m: verdict::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Verdict {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Verdict>> {
    Ok(loaders(ctx).load_one(ById::<verdict::Entity>::new(id)).await?.map(Verdict))
}

#[derive(Default)]
pub struct VerdictQuery;

#[Object]
impl VerdictQuery {
    async fn placeholder_verdict_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct VerdictMutation;

#[Object]
impl VerdictMutation {
    async fn placeholder_verdict_mutation(&self) -> bool {
        false
    }
}
