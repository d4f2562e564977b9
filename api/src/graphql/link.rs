//! `Link`: object, lookup, create and delete.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::graphql::article::Article;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::{LinkRelation, LinkStatus};
use crate::graphql::loader::ById;
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs};
use crate::graphql::scalars::{id, uuid};
use crate::graphql::statement::Statement;
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::{self, Record};
use entity::link;

/// A typed edge from a statement to a later statement or to an article: a follow-up
/// report, a correction, a reversal of position.
pub struct Link(pub link::Model);

impl From<link::Model> for Link {
    fn from(m: link::Model) -> Self {
        Self(m)
    }
}

/// Whether the caller may see a link: confirmed ones are public; machine suggestions
/// (and dismissed ones) only editors see.
pub fn visible(viewer: &Viewer, link: &link::Model) -> bool {
    viewer.sees_unpublished() || link.status == entity::LinkStatus::Confirmed
}

#[Object]
impl Link {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The statement the link starts from.
    async fn source(&self, ctx: &Context<'_>) -> Result<Statement> {
        Ok(
            crate::graphql::statement::load(ctx, self.0.source_statement_id)
                .await?
                .ok_or(ApiError::not_found("statement"))?,
        )
    }
    /// The later statement linked to, when the target is a statement.
    async fn target_statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        match self.0.target_statement_id {
            Some(id) => Ok(crate::graphql::statement::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The article linked to, when the target is an article.
    async fn target_article(&self, ctx: &Context<'_>) -> Result<Option<Article>> {
        match self.0.target_article_id {
            Some(id) => Ok(crate::graphql::article::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    async fn relation(&self) -> LinkRelation {
        self.0.relation.into()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// SUGGESTED links were proposed by the machine and wait for an editor.
    async fn status(&self) -> LinkStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Pass this back with a delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

#[derive(Default)]
pub struct LinkQuery;

#[Object]
impl LinkQuery {
    /// Contradiction candidates: SUGGESTED `REVERSES` links the service proposed when
    /// a speaker's stance on a claim differed from an earlier one, newest first,
    /// waiting for an editor to confirm or dismiss them.
    async fn contradiction_candidates(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Link>> {
        let select = link::Entity::live()
            .filter(link::Column::Status.eq(entity::LinkStatus::Suggested))
            .filter(link::Column::Relation.eq(entity::LinkRelation::Reverses));
        Ok(pagination::page(
            db(ctx),
            select,
            &Ordering::by_id(true),
            &PageArgs::new(first, after, last, before),
        )
        .await?)
    }

    async fn link(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Link>> {
        let found = link::Entity::live()
            .filter(link::Column::Id.eq(uuid("id", &id)?))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(found.filter(|l| visible(viewer(ctx), l)).map(Link))
    }
}

/// A link from a statement to exactly one target: a statement made no earlier than
/// the source, or an article.
#[derive(InputObject, Debug)]
pub struct CreateLinkInput {
    pub source_statement_id: ID,
    pub target_statement_id: Option<ID>,
    pub target_article_id: Option<ID>,
    pub relation: LinkRelation,
    pub note: Option<String>,
    #[graphql(default_with = "LinkStatus::Confirmed")]
    pub status: LinkStatus,
}

pub struct CreateLinkPayload(pub link::Model);

#[Object]
impl CreateLinkPayload {
    async fn link(&self) -> Link {
        Link(self.0.clone())
    }
}

/// Settles a suggested link read at `version`.
#[derive(InputObject, Debug)]
pub struct SettleLinkInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    /// An editor's note, replacing the machine's.
    pub note: Option<String>,
}

pub struct ConfirmLinkPayload(pub link::Model);

#[Object]
impl ConfirmLinkPayload {
    async fn link(&self) -> Link {
        Link(self.0.clone())
    }
}

pub struct DismissLinkPayload(pub link::Model);

#[Object]
impl DismissLinkPayload {
    async fn link(&self) -> Link {
        Link(self.0.clone())
    }
}

#[derive(Default)]
pub struct LinkMutation;

#[Object]
impl LinkMutation {
    async fn create_link(
        &self,
        ctx: &Context<'_>,
        input: CreateLinkInput,
    ) -> Result<CreateLinkPayload> {
        let new = service::link::NewLink {
            source_statement_id: uuid("input.sourceStatementId", &input.source_statement_id)?,
            target_statement_id: input
                .target_statement_id
                .map(|id| uuid("input.targetStatementId", &id))
                .transpose()?,
            target_article_id: input
                .target_article_id
                .map(|id| uuid("input.targetArticleId", &id))
                .transpose()?,
            relation: input.relation.into(),
            note: input.note,
            status: input.status.into(),
        };
        let model = service::link::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateLinkPayload(model))
    }

    /// Confirms a suggested link: it becomes a link like any other.
    async fn confirm_link(
        &self,
        ctx: &Context<'_>,
        input: SettleLinkInput,
    ) -> Result<ConfirmLinkPayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::link::settle(
            db(ctx),
            &actor(ctx),
            id,
            input.version,
            entity::LinkStatus::Confirmed,
            input.note,
        )
        .await?;
        Ok(ConfirmLinkPayload(model))
    }

    /// Dismisses a suggested link: it is hidden and its pair is never proposed again.
    async fn dismiss_link(
        &self,
        ctx: &Context<'_>,
        input: SettleLinkInput,
    ) -> Result<DismissLinkPayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::link::settle(
            db(ctx),
            &actor(ctx),
            id,
            input.version,
            entity::LinkStatus::Dismissed,
            input.note,
        )
        .await?;
        Ok(DismissLinkPayload(model))
    }

    async fn delete_link(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::link::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one link through the batch loader.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Link>> {
    Ok(loaders(ctx)
        .load_one(ById::<link::Entity>::new(id))
        .await?
        .map(Link))
}
