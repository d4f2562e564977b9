//! `Article`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};

use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::ById;
use crate::graphql::outlet::Outlet;
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs};
use crate::graphql::scalars::{id, uuid, uuids};
use crate::graphql::statement::{Statement, StatementFilter};
use crate::graphql::{actor, db, loaders};
use crate::service::{self, Record};
use entity::article;

/// One published piece of an outlet: a web page, a broadcast, a print article.
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
    async fn outlet_id(&self) -> ID {
        id(self.0.outlet_id)
    }
    /// The address in normal form (lower-case scheme and host, no fragment, no
    /// tracking parameters); null for a broadcast or print piece without one.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
    async fn byline(&self) -> Option<&str> {
        self.0.byline.as_deref()
    }
    /// A copy in a web archive.
    async fn archive_url(&self) -> Option<&str> {
        self.0.archive_url.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Pass this back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Outlet> {
        let outlet = crate::graphql::outlet::load(ctx, self.0.outlet_id).await?;
        Ok(outlet.ok_or(ApiError::not_found("outlet"))?)
    }
    /// The statements this article reported, oldest first.
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Statement>> {
        let filter = StatementFilter {
            article_ids: Some(vec![id(self.0.id)]),
            ..Default::default()
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(crate::graphql::statement::list(ctx, filter, None, args).await?)
    }
}

/// Narrows a list of articles; all given conditions must hold.
#[derive(InputObject, Default, Debug)]
pub struct ArticleFilter {
    /// Articles of any of these outlets.
    pub outlet_ids: Option<Vec<ID>>,
    /// Published at or after this instant.
    pub published_from: Option<DateTime<Utc>>,
    /// Published at or before this instant.
    pub published_to: Option<DateTime<Utc>>,
    pub language: Option<String>,
}

#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// One article, by id or by address (any spelling that normalizes to the stored one).
    async fn article(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        url: Option<String>,
    ) -> Result<Option<Article>> {
        let found = match (id, url) {
            (Some(id), None) => article::Entity::live()
                .filter(article::Column::Id.eq(uuid("id", &id)?))
                .one(db(ctx))
                .await
                .map_err(ApiError::from)?,
            (None, Some(url)) => service::article::find_by_url(db(ctx), &url).await?,
            _ => {
                return Err(ApiError::bad_input("id", "give exactly one of `id` and `url`").into());
            }
        };
        Ok(found.map(Article))
    }

    /// Articles, newest first.
    async fn articles(
        &self,
        ctx: &Context<'_>,
        filter: Option<ArticleFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Article>> {
        let filter = filter.unwrap_or_default();
        let mut select = article::Entity::live();
        if let Some(ids) = &filter.outlet_ids {
            let ids = uuids("filter.outletIds", ids)?;
            select = select.filter(article::Column::OutletId.is_in(ids));
        }
        if let (Some(from), Some(to)) = (filter.published_from, filter.published_to)
            && to < from
        {
            return Err(
                ApiError::bad_input("filter.publishedTo", "is before publishedFrom").into(),
            );
        }
        if let Some(from) = filter.published_from {
            select = select.filter(article::Column::PublishedAt.gte(from));
        }
        if let Some(to) = filter.published_to {
            select = select.filter(article::Column::PublishedAt.lte(to));
        }
        if let Some(language) = filter
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            select = select.filter(article::Column::Language.eq(language));
        }
        let ordering = Ordering::<article::Entity>::by_id(true);
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

#[derive(InputObject, Debug)]
pub struct CreateArticleInput {
    pub outlet_id: ID,
    /// Stored normalized; unique among articles.
    pub url: Option<String>,
    pub title: String,
    pub published_at: Option<DateTime<Utc>>,
    pub language: Option<String>,
    pub byline: Option<String>,
    pub archive_url: Option<String>,
}

#[derive(InputObject, Debug)]
pub struct UpdateArticleInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub outlet_id: Option<ID>,
    pub url: MaybeUndefined<String>,
    pub title: Option<String>,
    pub published_at: MaybeUndefined<DateTime<Utc>>,
    pub language: MaybeUndefined<String>,
    pub byline: MaybeUndefined<String>,
    pub archive_url: MaybeUndefined<String>,
}

pub struct CreateArticlePayload(pub article::Model);

#[Object]
impl CreateArticlePayload {
    async fn article(&self) -> Article {
        Article(self.0.clone())
    }
}

pub struct UpdateArticlePayload(pub article::Model);

#[Object]
impl UpdateArticlePayload {
    async fn article(&self) -> Article {
        Article(self.0.clone())
    }
}

#[derive(Default)]
pub struct ArticleMutation;

#[Object]
impl ArticleMutation {
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        input: CreateArticleInput,
    ) -> Result<CreateArticlePayload> {
        let new = service::article::NewArticle {
            outlet_id: uuid("input.outletId", &input.outlet_id)?,
            url: input.url,
            title: input.title,
            published_at: input.published_at,
            language: input.language,
            byline: input.byline,
            archive_url: input.archive_url,
        };
        let model = service::article::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateArticlePayload(model))
    }

    async fn update_article(
        &self,
        ctx: &Context<'_>,
        input: UpdateArticleInput,
    ) -> Result<UpdateArticlePayload> {
        let patch = service::article::ArticlePatch {
            outlet_id: input
                .outlet_id
                .as_ref()
                .map(|o| uuid("input.outletId", o))
                .transpose()?,
            url: input.url.into(),
            title: input.title,
            published_at: input.published_at.into(),
            language: input.language.into(),
            byline: input.byline.into(),
            archive_url: input.archive_url.into(),
        };
        let id = uuid("input.id", &input.id)?;
        let model =
            service::article::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateArticlePayload(model))
    }

    /// Refused (CONFLICT) while live appearances or links refer to the article.
    async fn delete_article(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::article::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one article through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Article>> {
    Ok(loaders(ctx)
        .load_one(ById::<article::Entity>::new(id))
        .await?
        .map(Article))
}
