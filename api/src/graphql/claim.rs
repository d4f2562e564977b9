//! `Claim`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::QueryFilter;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::Stance;
use crate::graphql::loader::{ById, Children, TopicsOfClaim, VerdictsOfClaim};
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs};
use crate::graphql::scalars::{id, uuid, uuids};
use crate::graphql::search::SimilarStatement;
use crate::graphql::statement::{Statement, StatementFilter, StatementOrder};
use crate::graphql::topic::Topic;
use crate::graphql::verdict::Verdict;
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::{self, Record};
use entity::{claim, statement, topic};

/// A checkable proposition, independent of who says it ("Russia and the U.S. will
/// set up a joint cyber security working group").
pub struct Claim(pub claim::Model);

impl From<claim::Model> for Claim {
    fn from(m: claim::Model) -> Self {
        Self(m)
    }
}

#[Object]
impl Claim {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn slug(&self) -> Option<&str> {
        self.0.slug.as_deref()
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
    /// The live topics the claim is filed under, by name.
    async fn topics(&self, ctx: &Context<'_>) -> Result<Vec<Topic>> {
        let filed = loaders(ctx)
            .load_one(Children::<TopicsOfClaim>::new(self.0.id))
            .await?
            .unwrap_or_default();
        let found = loaders(ctx)
            .load_many(filed.iter().map(|f| ById::<topic::Entity>::new(f.topic_id)))
            .await?;
        let mut topics: Vec<topic::Model> = found.into_values().collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(topics.into_iter().map(Topic::from).collect())
    }
    /// Statements that take a stance on this claim.
    #[expect(clippy::too_many_arguments, reason = "Relay arguments")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatementFilter>,
        order_by: Option<StatementOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Statement>> {
        let mut filter = filter.unwrap_or_default();
        filter.claim_ids = Some(vec![id(self.0.id)]);
        Ok(crate::graphql::statement::list(
            ctx,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await?)
    }
    /// Every speaker's latest position on the claim, with how many times it changed,
    /// most recent first.
    async fn positions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::position::SpeakerPosition>> {
        Ok(crate::graphql::position::claim_positions(ctx, self.0.id).await?)
    }
    /// Everything that happened around the claim, oldest first (see `timeline`).
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<crate::graphql::timeline::TimelineEventKind>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<crate::graphql::pagination::Conn<crate::graphql::timeline::TimelineEvent>> {
        let filter = crate::graphql::timeline::TimelineFilter {
            claim_ids: Some(vec![id(self.0.id)]),
            kinds,
            ..Default::default()
        };
        Ok(crate::graphql::timeline::page(ctx, filter, first, after, None).await?)
    }
    /// Statements that take no stance on the claim yet and whose text holds a stretch
    /// like the claim's (trigram word similarity, from 0.3 to 1, default 0.5), most
    /// similar first: candidates for `attachStatementsToClaim`.
    async fn matching_statements(
        &self,
        ctx: &Context<'_>,
        min_similarity: Option<f64>,
        first: Option<i32>,
    ) -> Result<Vec<SimilarStatement>> {
        Ok(
            crate::graphql::search::matching_statements(ctx, &self.0, min_similarity, first)
                .await?,
        )
    }
    /// Fact-checks of the claim itself (not of statements about it), oldest first.
    async fn verdicts(&self, ctx: &Context<'_>) -> Result<Vec<Verdict>> {
        let verdicts = loaders(ctx)
            .load_one(Children::<VerdictsOfClaim>::new(self.0.id))
            .await?;
        Ok(verdicts
            .unwrap_or_default()
            .into_iter()
            .filter(|v| crate::graphql::verdict::visible(viewer(ctx), v))
            .map(Verdict::from)
            .collect())
    }
}

/// Narrows a list of claims.
#[derive(InputObject, Default, Debug)]
pub struct ClaimFilter {
    /// Claims filed under any of these topics.
    pub topic_ids: Option<Vec<ID>>,
    /// Case-insensitive part of the text.
    pub text: Option<String>,
}

#[derive(Default)]
pub struct ClaimQuery;

#[Object]
impl ClaimQuery {
    /// One claim, by id or by slug.
    async fn claim(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
        #[graphql(desc = "Answer as the database stood at this instant.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> Result<Option<Claim>> {
        let found = crate::graphql::common::lookup::<claim::Entity>(
            ctx,
            id,
            slug,
            claim::Column::Slug,
            as_of,
        )
        .await?;
        Ok(found.map(Claim))
    }

    /// Claims, newest first.
    async fn claims(
        &self,
        ctx: &Context<'_>,
        filter: Option<ClaimFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Claim>> {
        let filter = filter.unwrap_or_default();
        let mut select = claim::Entity::live();
        if let Some(ids) = &filter.topic_ids {
            select = select.filter(service::claim::in_topics(&uuids("filter.topicIds", ids)?));
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            select = select.filter(service::claim::text_matches(text));
        }
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &Ordering::by_id(true), &args).await?)
    }
}

#[derive(InputObject, Debug)]
pub struct CreateClaimInput {
    pub text: String,
    pub slug: Option<String>,
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
}

#[derive(InputObject, Debug)]
pub struct UpdateClaimInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub text: Option<String>,
    pub slug: MaybeUndefined<String>,
    /// Replaces the topics the claim is filed under.
    pub topic_ids: Option<Vec<ID>>,
}

pub struct CreateClaimPayload(pub claim::Model);

#[Object]
impl CreateClaimPayload {
    async fn claim(&self) -> Claim {
        Claim(self.0.clone())
    }
}

pub struct UpdateClaimPayload(pub claim::Model);

#[Object]
impl UpdateClaimPayload {
    async fn claim(&self) -> Claim {
        Claim(self.0.clone())
    }
}

#[derive(InputObject, Debug)]
pub struct AttachStatementsToClaimInput {
    pub claim_id: ID,
    /// Statements taking no stance on the claim yet (at most 100).
    pub statement_ids: Vec<ID>,
    /// The stance each of them takes.
    pub stance: Stance,
}

pub struct AttachStatementsToClaimPayload {
    claim_id: Uuid,
    statements: Vec<statement::Model>,
}

#[Object]
impl AttachStatementsToClaimPayload {
    async fn claim(&self, ctx: &Context<'_>) -> Result<Option<Claim>> {
        Ok(load(ctx, self.claim_id).await?)
    }
    /// The statements, at their new versions, in the order given.
    async fn statements(&self) -> Vec<Statement> {
        self.statements
            .iter()
            .cloned()
            .map(Statement::from)
            .collect()
    }
}

#[derive(Default)]
pub struct ClaimMutation;

#[Object]
impl ClaimMutation {
    async fn create_claim(
        &self,
        ctx: &Context<'_>,
        input: CreateClaimInput,
    ) -> Result<CreateClaimPayload> {
        let new = service::claim::NewClaim {
            text: input.text,
            slug: input.slug,
            topic_ids: uuids("input.topicIds", &input.topic_ids)?,
        };
        let model = service::claim::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateClaimPayload(model))
    }

    async fn update_claim(
        &self,
        ctx: &Context<'_>,
        input: UpdateClaimInput,
    ) -> Result<UpdateClaimPayload> {
        let patch = service::claim::ClaimPatch {
            text: input.text,
            slug: input.slug.into(),
            topic_ids: input
                .topic_ids
                .as_deref()
                .map(|ids| uuids("input.topicIds", ids))
                .transpose()?,
        };
        let id = uuid("input.id", &input.id)?;
        let model = service::claim::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateClaimPayload(model))
    }

    /// Gives each statement a stance on the claim, all or none: each becomes a new
    /// version of the statement, with its revision.
    async fn attach_statements_to_claim(
        &self,
        ctx: &Context<'_>,
        input: AttachStatementsToClaimInput,
    ) -> Result<AttachStatementsToClaimPayload> {
        let claim_id = uuid("input.claimId", &input.claim_id)?;
        let ids = uuids("input.statementIds", &input.statement_ids)?;
        let statements = service::search::similar::attach(
            db(ctx),
            &actor(ctx),
            claim_id,
            &ids,
            input.stance.into(),
        )
        .await?;
        Ok(AttachStatementsToClaimPayload {
            claim_id,
            statements,
        })
    }

    /// Refused (CONFLICT) while live statements take a stance on the claim or live
    /// verdicts rate it.
    async fn delete_claim(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::claim::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one claim through the batch loader.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Claim>> {
    Ok(loaders(ctx)
        .load_one(ById::<claim::Entity>::new(id))
        .await?
        .map(Claim))
}
