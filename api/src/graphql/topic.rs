//! `Topic`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::topic;

pub struct Topic(pub topic::Model);

impl From<topic::Model> for Topic {
    fn from(m: topic::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Topic {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Topic>> {
    Ok(loaders(ctx).load_one(ById::<topic::Entity>::new(id)).await?.map(Topic))
}

#[derive(Default)]
pub struct TopicQuery;

#[Object]
impl TopicQuery {
    async fn placeholder_topic_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct TopicMutation;

#[Object]
impl TopicMutation {
    async fn placeholder_topic_mutation(&self) -> bool {
        false
    }
}
