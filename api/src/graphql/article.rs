//! `Article`: object, lookups and mutations.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::loader::ById;
use crate::graphql::loaders;
use crate::graphql::scalars::id;
use entity::article;

pub struct Article(pub article::Model);

impl From<article::Model> for Article {
    fn from(m: article::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Article {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
}

/// Loads one record through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Article>> {
    Ok(loaders(ctx).load_one(ById::<article::Entity>::new(id)).await?.map(Article))
}

#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    async fn placeholder_article_query(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct ArticleMutation;

#[Object]
impl ArticleMutation {
    async fn placeholder_article_mutation(&self) -> bool {
        false
    }
}
