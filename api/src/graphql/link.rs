//! `Link`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::link;

pub struct Link(pub link::Model);

impl From<link::Model> for Link {
    fn from(m: link::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Link {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Link>> {
    Ok(loaders(ctx).load_one(ById::<link::Entity>::new(id)).await?.map(Link))
}

#[derive(Default)]
pub struct LinkQuery;

#[Object]
impl LinkQuery {
    async fn placeholder_link_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct LinkMutation;

#[Object]
impl LinkMutation {
    async fn placeholder_link_mutation(&self) -> bool {
        false
    }
}
