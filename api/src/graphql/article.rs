//! `Article`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};

use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::ById;
use crate::graphql::outlet::Outlet;
use crate::graphql::pagination::{self, Conn, ListQuery, Ordering, PageArgs};
use crate::graphql::scalars::{id, uuid, uuids};
use crate::graphql::statement::{Statement, StatementFilter};
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::{self, Record};
use entity::article;

/// One published piece of an outlet: a web page, a broadcast, a print article.
pub struct Article(pub article::Model);

impl From<article::Model> for Article {
    fn from(m: article::Model) -> Self {
        Self(m)
    }
}

/// One published piece of an outlet (a web page, a broadcast, a print article) that
/// reported statements. Stored once per normalized address. Every caller sees live
/// articles.
#[Object]
impl Article {
    /// Stable identifier (UUID v7, time-ordered). Use it in `article(id:)`, `articleIds`
    /// filters, appearances and links.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The id of the outlet that published the article (see `outlet`).
    async fn outlet_id(&self) -> ID {
        id(self.0.outlet_id)
    }
    /// The address in normal form (lower-case scheme and host, default port, no fragment,
    /// no `utm_*` or other tracking parameters), unique among live articles; null for a
    /// broadcast or print piece without one.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    /// The headline (at most 1,000 characters). `search` also finds statements through the
    /// headlines of articles that reported them.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// When the outlet published the article (UTC); null when unknown.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// The article's language as a language tag such as `en`; null when not recorded.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }
    /// The author credit as printed (at most 500 characters); null when none.
    async fn byline(&self) -> Option<&str> {
        self.0.byline.as_deref()
    }
    /// A copy in a web archive (an http(s) address in normal form), for when the original
    /// disappears; null when none.
    async fn archive_url(&self) -> Option<&str> {
        self.0.archive_url.as_deref()
    }
    /// When the record was entered into ClaimTrack (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed (UTC); equal to `createdAt` until the first change.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version: 1 at creation, one more on every change. Pass it
    /// back as `version` in update and delete inputs; a stale one is a CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The outlet that published the article.
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Outlet> {
        let outlet = crate::graphql::outlet::load(ctx, self.0.outlet_id).await?;
        Ok(outlet.ok_or(ApiError::not_found("outlet"))?)
    }
    /// The live statements this article reported (through appearances), oldest statement
    /// first, as a Relay connection.
    async fn statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size counted from the start of the list: 0 to 100; 20 when neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after (an `edges.cursor` or `pageInfo.endCursor` of this list); opaque, and refused for another list or ordering."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted from the end of the list, paging backward: 0 to 100. Give `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor to stop before (an `edges.cursor` or `pageInfo.startCursor` of this list); alone or with `last` it pages backward. Give `after` or `before`, not both."
        )]
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

/// Narrows `articles`; all given conditions must hold, and an absent one does not narrow.
#[derive(InputObject, Default, Debug)]
pub struct ArticleFilter {
    /// Articles of any of these outlets; an empty list matches none.
    pub outlet_ids: Option<Vec<ID>>,
    /// Published at or after this instant. Articles without `publishedAt` are left out when
    /// either bound is given.
    pub published_from: Option<DateTime<Utc>>,
    /// Published at or before this instant; not before `publishedFrom` (BAD_USER_INPUT).
    pub published_to: Option<DateTime<Utc>>,
    /// Articles in this language, by exact tag (`en` does not match `en-GB`); blank does
    /// not narrow.
    pub language: Option<String>,
}

#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// One live article, by `id` or by address (exactly one); null when none matches. Open
    /// to every caller.
    async fn article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's id. Give exactly one of `id` and `url`.")] id: Option<ID>,
        #[graphql(
            desc = "The article's address in any spelling that normalizes to the stored one (case of scheme and host, fragment, tracking parameters); not an http(s) address is BAD_USER_INPUT. Give exactly one of `id` and `url`."
        )]
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

    /// Live articles, most recently entered first (the order they were added to ClaimTrack,
    /// not their publication dates), as a Relay connection. Open to every caller.
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Conditions on outlet, publication time and language; absent lists every article."
        )]
        filter: Option<ArticleFilter>,
        #[graphql(
            desc = "Page size counted from the start of the list: 0 to 100; 20 when neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after (an `edges.cursor` or `pageInfo.endCursor` of this list); opaque, and refused for another list or ordering."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted from the end of the list, paging backward: 0 to 100. Give `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor to stop before (an `edges.cursor` or `pageInfo.startCursor` of this list); alone or with `last` it pages backward. Give `after` or `before`, not both."
        )]
        before: Option<String>,
    ) -> Result<Conn<Article>> {
        let (select, ordering) = list_query(filter, viewer(ctx))?;
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// The `articles` list: its rows and order, for the resolvers and the compiled reads.
pub fn list_query(
    filter: Option<ArticleFilter>,
    _viewer: &crate::auth::Viewer,
) -> ListQuery<article::Entity> {
    let filter = filter.unwrap_or_default();
    let mut select = article::Entity::live();
    if let Some(ids) = &filter.outlet_ids {
        let ids = uuids("filter.outletIds", ids)?;
        select = select.filter(article::Column::OutletId.is_in(ids));
    }
    if let (Some(from), Some(to)) = (filter.published_from, filter.published_to)
        && to < from
    {
        return Err(ApiError::bad_input(
            "filter.publishedTo",
            "is before publishedFrom",
        ));
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
    Ok((select, Ordering::<article::Entity>::by_id(true)))
}

/// A new article. An address another live article already has is BAD_USER_INPUT naming that
/// article, so the client can use it instead.
#[derive(InputObject, Debug)]
pub struct CreateArticleInput {
    /// The live outlet that published it; an unknown one is NOT_FOUND.
    pub outlet_id: ID,
    /// The address, http or https (at most 2,048 characters); stored in normal form and
    /// unique among live articles. Absent for a broadcast or print piece without one.
    pub url: Option<String>,
    /// The headline: non-empty after trimming, at most 1,000 characters.
    pub title: String,
    /// When the outlet published it; absent when unknown.
    pub published_at: Option<DateTime<Utc>>,
    /// The article's language tag such as `en`, `ru` or `pt-BR`; absent or blank stores
    /// none.
    pub language: Option<String>,
    /// The author credit, at most 500 characters; absent or blank stores none.
    pub byline: Option<String>,
    /// A copy in a web archive (http or https); absent or blank stores none.
    pub archive_url: Option<String>,
}

/// Changes to an article read at `version`. An absent field is left as it is; `null` clears
/// a clearable one.
#[derive(InputObject, Debug)]
pub struct UpdateArticleInput {
    /// The article to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// Moves the article to another live outlet; absent keeps it.
    pub outlet_id: Option<ID>,
    /// A new address (normalized, unique among live articles); `null` or blank clears it,
    /// absent keeps it.
    pub url: MaybeUndefined<String>,
    /// A new headline (non-empty, at most 1,000 characters); absent keeps the current one.
    pub title: Option<String>,
    /// A new publication time; `null` makes it unknown, absent keeps it.
    pub published_at: MaybeUndefined<DateTime<Utc>>,
    /// A new language tag; `null` or blank clears it, absent keeps it.
    pub language: MaybeUndefined<String>,
    /// A new author credit (at most 500 characters); `null` or blank clears it, absent
    /// keeps it.
    pub byline: MaybeUndefined<String>,
    /// A new web-archive address; `null` or blank clears it, absent keeps it.
    pub archive_url: MaybeUndefined<String>,
}

pub struct CreateArticlePayload(pub article::Model);

/// The result of `createArticle`.
#[Object]
impl CreateArticlePayload {
    /// The article as stored, at version 1, its address normalized.
    async fn article(&self) -> Article {
        Article(self.0.clone())
    }
}

pub struct UpdateArticlePayload(pub article::Model);

/// The result of `updateArticle`.
#[Object]
impl UpdateArticlePayload {
    /// The article after the change, at its new version.
    async fn article(&self) -> Article {
        Article(self.0.clone())
    }
}

#[derive(Default)]
pub struct ArticleMutation;

#[Object]
impl ArticleMutation {
    /// Creates an article of an outlet. Needs an EDITOR or ADMIN key.
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new article: its outlet, title, and optionally address, publication time, language, byline and archive copy."
        )]
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

    /// Changes an article read at `version`; a stale version is a CONFLICT. Needs an EDITOR
    /// or ADMIN key.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article, the version read, and the fields to change.")]
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

    /// Soft-deletes an article read at `version`. Refused (CONFLICT) while live appearances
    /// or links refer to it. Needs an EDITOR or ADMIN key.
    async fn delete_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
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
