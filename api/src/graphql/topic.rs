//! `Topic`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::{ById, Children, ChildrenOfTopic};
use crate::graphql::pagination::{self, Conn, ListQuery, Ordering, PageArgs, SortValue};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::statement::{Statement, StatementFilter};
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::validate::escape_like;
use crate::service::{self, Record};
use entity::topic;

/// A subject heading; topics form a tree.
pub struct Topic(pub topic::Model);

impl From<topic::Model> for Topic {
    fn from(m: topic::Model) -> Self {
        Self(m)
    }
}

/// A subject heading ("Cyber security") that statements and claims are filed under. Topics
/// form a tree through `parent`. Every caller sees live topics.
#[Object]
impl Topic {
    /// Stable identifier (UUID v7, time-ordered). Use it in `topic(id:)`, `topicIds`
    /// filters and mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The heading (at most 200 characters).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Unique handle such as `cyber-security`: lower-case letters and digits in
    /// dash-separated runs, at most 100 characters. Use it in `topic(slug:)`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The id of the broader topic; null at the top of the tree.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(id)
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
    /// The broader topic; null at the top of the tree.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Topic>> {
        match self.0.parent_id {
            Some(parent) => Ok(load(ctx, parent).await?),
            None => Ok(None),
        }
    }
    /// The live narrower topics one level down, by name. Empty for a leaf.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Topic>> {
        let children = loaders(ctx)
            .load_one(Children::<ChildrenOfTopic>::new(self.0.id))
            .await
            .map_err(ApiError::from)?;
        Ok(children
            .unwrap_or_default()
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// Live statements filed directly under this topic (not under its children), oldest
    /// statement first, as a Relay connection.
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
            topic_ids: Some(vec![id(self.0.id)]),
            ..Default::default()
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(crate::graphql::statement::list(ctx, filter, None, args).await?)
    }
}

/// Narrows `topics`; all given conditions must hold, and an absent one does not narrow.
#[derive(InputObject, Default, Debug)]
pub struct TopicFilter {
    /// Only the direct children of this topic. Absent does not narrow (there is no filter
    /// for top-level topics alone).
    pub parent_id: Option<ID>,
    /// A case-insensitive part of the name; blank does not narrow.
    pub name: Option<String>,
}

/// The `topics` list: its rows and order, for the resolvers and the compiled reads.
pub fn list_query(
    filter: Option<TopicFilter>,
    _viewer: &crate::auth::Viewer,
) -> ListQuery<topic::Entity> {
    let filter = filter.unwrap_or_default();
    let mut select = topic::Entity::live();
    if let Some(parent) = &filter.parent_id {
        select = select.filter(topic::Column::ParentId.eq(uuid("filter.parentId", parent)?));
    }
    if let Some(name) = filter
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let pattern = format!("%{}%", escape_like(name));
        select = select.filter(sea_orm::sea_query::Expr::cust_with_values(
            "topic.name ILIKE $1",
            [pattern],
        ));
    }
    let ordering = Ordering::<topic::Entity> {
        column: Some(topic::Column::Name),
        key_of: |m| Some(SortValue::Text(m.name.clone())),
        descending: false,
    };
    Ok((select, ordering))
}

#[derive(Default)]
pub struct TopicQuery;

#[Object]
impl TopicQuery {
    /// One live topic, by `id` or by `slug` (exactly one); null when none matches. Open to
    /// every caller.
    async fn topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic's id. Give exactly one of `id` and `slug`.")] id: Option<ID>,
        #[graphql(desc = "The topic's slug. Give exactly one of `id` and `slug`.")] slug: Option<
            String,
        >,
    ) -> Result<Option<Topic>> {
        let query = match (id, slug) {
            (Some(id), None) => {
                topic::Entity::live().filter(topic::Column::Id.eq(uuid("id", &id)?))
            }
            (None, Some(slug)) => topic::Entity::live().filter(topic::Column::Slug.eq(slug)),
            _ => {
                return Err(
                    ApiError::bad_input("id", "give exactly one of `id` and `slug`").into(),
                );
            }
        };
        Ok(query.one(db(ctx)).await.map_err(ApiError::from)?.map(Topic))
    }

    /// Live topics at every level of the tree, alphabetically by name (then by id), as a
    /// Relay connection. Open to every caller.
    async fn topics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on parent and name; absent lists every topic.")]
        filter: Option<TopicFilter>,
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
    ) -> Result<Conn<Topic>> {
        let (select, ordering) = list_query(filter, viewer(ctx))?;
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// A new topic. A slug another live topic has is BAD_USER_INPUT.
#[derive(InputObject, Debug)]
pub struct CreateTopicInput {
    /// The heading: non-empty after trimming, at most 200 characters.
    pub name: String,
    /// Unique handle: lower-case letters and digits in dash-separated runs, at most 100
    /// characters. When absent, made from the name.
    pub slug: Option<String>,
    /// The live broader topic; absent puts the topic at the top of the tree.
    pub parent_id: Option<ID>,
}

/// Changes to a topic read at `version`. An absent field is left as it is.
#[derive(InputObject, Debug)]
pub struct UpdateTopicInput {
    /// The topic to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// A new heading (non-empty, at most 200 characters); absent keeps the current one.
    pub name: Option<String>,
    /// A new slug (unique among live topics); absent keeps the current one.
    pub slug: Option<String>,
    /// A new broader topic; `null` moves the topic to the top of the tree, absent keeps it.
    /// The topic itself or one below it is BAD_USER_INPUT (the tree would become a cycle).
    pub parent_id: MaybeUndefined<ID>,
}

pub struct CreateTopicPayload(pub topic::Model);

/// The result of `createTopic`.
#[Object]
impl CreateTopicPayload {
    /// The topic as stored, at version 1, with the slug it was given or made.
    async fn topic(&self) -> Topic {
        Topic(self.0.clone())
    }
}

pub struct UpdateTopicPayload(pub topic::Model);

/// The result of `updateTopic`.
#[Object]
impl UpdateTopicPayload {
    /// The topic after the change, at its new version.
    async fn topic(&self) -> Topic {
        Topic(self.0.clone())
    }
}

#[derive(Default)]
pub struct TopicMutation;

#[Object]
impl TopicMutation {
    /// Creates a topic. Needs an EDITOR or ADMIN key.
    async fn create_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new topic: its name, slug and parent.")] input: CreateTopicInput,
    ) -> Result<CreateTopicPayload> {
        let new = service::topic::NewTopic {
            name: input.name,
            slug: input.slug,
            parent_id: input
                .parent_id
                .as_ref()
                .map(|p| uuid("input.parentId", p))
                .transpose()?,
        };
        let model = service::topic::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateTopicPayload(model))
    }

    /// Changes a topic read at `version`, moving it in the tree when asked; a stale version
    /// is a CONFLICT. Needs an EDITOR or ADMIN key.
    async fn update_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic, the version read, and the fields to change.")]
        input: UpdateTopicInput,
    ) -> Result<UpdateTopicPayload> {
        let parent_id = match input.parent_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(p) => Some(Some(uuid("input.parentId", &p)?)),
        };
        let patch = service::topic::TopicPatch {
            name: input.name,
            slug: input.slug,
            parent_id,
        };
        let id = uuid("input.id", &input.id)?;
        let model = service::topic::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateTopicPayload(model))
    }

    /// Soft-deletes a topic read at `version`. Refused (CONFLICT) while live child topics
    /// remain; statements and claims filed under it stop listing it. Needs an EDITOR or
    /// ADMIN key.
    async fn delete_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::topic::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one topic through the batch loader.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Topic>> {
    Ok(loaders(ctx)
        .load_one(ById::<topic::Entity>::new(id))
        .await?
        .map(Topic))
}
