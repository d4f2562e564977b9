//! `Topic`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::loader::{ById, Children, ChildrenOfTopic};
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs, SortValue};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::statement::{Statement, StatementFilter};
use crate::graphql::{actor, db, loaders};
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

#[Object]
impl Topic {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(id)
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
    /// The broader topic; null at the top of the tree.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Topic>> {
        match self.0.parent_id {
            Some(parent) => Ok(load(ctx, parent).await?),
            None => Ok(None),
        }
    }
    /// The narrower topics, by name.
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
    /// Statements filed under this topic, oldest first.
    async fn statements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
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

/// Narrows a list of topics; all given conditions must hold.
#[derive(InputObject, Default, Debug)]
pub struct TopicFilter {
    /// Direct children of this topic.
    pub parent_id: Option<ID>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
}

#[derive(Default)]
pub struct TopicQuery;

#[Object]
impl TopicQuery {
    /// One topic, by id or by slug.
    async fn topic(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
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

    /// Topics by name.
    async fn topics(
        &self,
        ctx: &Context<'_>,
        filter: Option<TopicFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Topic>> {
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
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

#[derive(InputObject, Debug)]
pub struct CreateTopicInput {
    pub name: String,
    /// Made from the name when not given.
    pub slug: Option<String>,
    pub parent_id: Option<ID>,
}

#[derive(InputObject, Debug)]
pub struct UpdateTopicInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub name: Option<String>,
    pub slug: Option<String>,
    /// Null moves the topic to the top of the tree.
    pub parent_id: MaybeUndefined<ID>,
}

pub struct CreateTopicPayload(pub topic::Model);

#[Object]
impl CreateTopicPayload {
    async fn topic(&self) -> Topic {
        Topic(self.0.clone())
    }
}

pub struct UpdateTopicPayload(pub topic::Model);

#[Object]
impl UpdateTopicPayload {
    async fn topic(&self) -> Topic {
        Topic(self.0.clone())
    }
}

#[derive(Default)]
pub struct TopicMutation;

#[Object]
impl TopicMutation {
    async fn create_topic(
        &self,
        ctx: &Context<'_>,
        input: CreateTopicInput,
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

    async fn update_topic(
        &self,
        ctx: &Context<'_>,
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

    /// Refused (CONFLICT) while live child topics remain.
    async fn delete_topic(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
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
