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
use crate::service::model;
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
    use sea_orm::ActiveEnum;
    viewer.sees_unpublished() || model::CONFIRMED_LINKS.shows(&link.status.to_value())
}

/// A typed edge from a statement to a later statement or to an article: a follow-up report,
/// a correction, a reversal of position. CONFIRMED links are public; SUGGESTED and
/// DISMISSED ones show to EDITOR and ADMIN only.
#[Object]
impl Link {
    /// Stable identifier (UUID v7, time-ordered). Use it in `link(id:)` and in
    /// `confirmLink`, `dismissLink` and `deleteLink`.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The statement the link starts from: the earlier one.
    async fn source(&self, ctx: &Context<'_>) -> Result<Statement> {
        Ok(
            crate::graphql::statement::load(ctx, self.0.source_statement_id)
                .await?
                .ok_or(ApiError::not_found("statement"))?,
        )
    }
    /// The later statement linked to; null when the target is an article.
    async fn target_statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        match self.0.target_statement_id {
            Some(id) => Ok(crate::graphql::statement::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The article linked to; null when the target is a statement.
    async fn target_article(&self, ctx: &Context<'_>) -> Result<Option<Article>> {
        match self.0.target_article_id {
            Some(id) => Ok(crate::graphql::article::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// What the target does to the source: follows it up, corrects it, reverses it, and so
    /// on.
    async fn relation(&self) -> LinkRelation {
        self.0.relation.into()
    }
    /// An editor's note on the link, or the machine's reason for a suggestion (at most
    /// 5,000 characters); null when none.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// SUGGESTED links were proposed by the machine and wait for an editor; CONFIRMED ones
    /// are settled and public; DISMISSED ones were turned down.
    async fn status(&self) -> LinkStatus {
        self.0.status.into()
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
    /// back to `confirmLink`, `dismissLink` or `deleteLink`; a stale one is a CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

#[derive(Default)]
pub struct LinkQuery;

#[Object]
impl LinkQuery {
    /// Contradiction candidates: SUGGESTED `REVERSES` links the service proposed when a
    /// speaker's stance on a claim differed from their position before (or when two of the
    /// speaker's statements with similar text took opposite stances), most recently
    /// proposed first, waiting for an editor to confirm or dismiss them. Needs an EDITOR or
    /// ADMIN key.
    async fn contradiction_candidates(
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

    /// One live link, by id; null when none matches. For ANONYMOUS and READER callers a
    /// link that is not CONFIRMED reads as null too.
    async fn link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link's id (a UUID; anything else is BAD_USER_INPUT).")] id: ID,
    ) -> Result<Option<Link>> {
        let found = link::Entity::live()
            .filter(link::Column::Id.eq(uuid("id", &id)?))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(found.filter(|l| visible(viewer(ctx), l)).map(Link))
    }
}

/// A link from a statement to exactly one target: a statement made no earlier than the
/// source, or an article. At most one live link per source, target and relation.
#[derive(InputObject, Debug)]
pub struct CreateLinkInput {
    /// The live statement the link starts from; an unknown one is NOT_FOUND.
    pub source_statement_id: ID,
    /// A live statement not certainly made before the source, and not the source itself.
    /// Give exactly one of `targetStatementId` and `targetArticleId`.
    pub target_statement_id: Option<ID>,
    /// A live article. Give exactly one of `targetStatementId` and `targetArticleId`.
    pub target_article_id: Option<ID>,
    /// What the target does to the source. The same source, target and relation twice is
    /// BAD_USER_INPUT.
    pub relation: LinkRelation,
    /// A note on the link, at most 5,000 characters; absent or blank stores none.
    pub note: Option<String>,
    #[graphql(default_with = "LinkStatus::Confirmed")]
    /// CONFIRMED by default; SUGGESTED leaves the link for an editor to settle. DISMISSED
    /// is refused: use `dismissLink`.
    pub status: LinkStatus,
}

pub struct CreateLinkPayload(pub link::Model);

/// The result of `createLink`.
#[Object]
impl CreateLinkPayload {
    /// The link as stored, at version 1.
    async fn link(&self) -> Link {
        Link(self.0.clone())
    }
}

/// Settles a suggested link read at `version`: the input of `confirmLink` and
/// `dismissLink`.
#[derive(InputObject, Debug)]
pub struct SettleLinkInput {
    /// The SUGGESTED link; one that is already CONFIRMED or DISMISSED is BAD_USER_INPUT.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// An editor's note replacing the machine's, at most 5,000 characters; absent or blank
    /// keeps the note the link has.
    pub note: Option<String>,
}

pub struct ConfirmLinkPayload(pub link::Model);

/// The result of `confirmLink`.
#[Object]
impl ConfirmLinkPayload {
    /// The link, now CONFIRMED, at its new version.
    async fn link(&self) -> Link {
        Link(self.0.clone())
    }
}

pub struct DismissLinkPayload(pub link::Model);

/// The result of `dismissLink`.
#[Object]
impl DismissLinkPayload {
    /// The link, now DISMISSED, at its new version.
    async fn link(&self) -> Link {
        Link(self.0.clone())
    }
}

#[derive(Default)]
pub struct LinkMutation;

#[Object]
impl LinkMutation {
    /// Links a statement to a later statement or to an article. Needs an EDITOR or ADMIN
    /// key.
    async fn create_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source, the target, the relation and the status.")]
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

    /// Confirms a suggested link: it becomes a link like any other, public and shown in
    /// timelines. Needs an EDITOR or ADMIN key.
    async fn confirm_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The suggestion, the version read, and optionally a note.")]
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

    /// Dismisses a suggested link: it is hidden and its pair is never proposed again. Needs
    /// an EDITOR or ADMIN key.
    async fn dismiss_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The suggestion, the version read, and optionally a note.")]
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

    /// Soft-deletes a link read at `version`. Needs an EDITOR or ADMIN key.
    async fn delete_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
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
