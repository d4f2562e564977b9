//! `Claim`: object, lookups and list, create/update/delete.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::QueryFilter;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::Stance;
use crate::graphql::loader::{ById, Children, TopicsOfClaim, VerdictsOfClaim};
use crate::graphql::pagination::{self, Conn, ListQuery, Ordering, PageArgs};
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

/// A checkable proposition, independent of who says it ("Russia and the U.S. will set up a
/// joint cyber security working group"). Statements take a stance on it; verdicts may rate
/// it directly. Every caller sees live claims.
#[Object]
impl Claim {
    /// Stable identifier (UUID v7, time-ordered). Use it in `claim(id:)`, `claimIds`
    /// filters, stances and mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The proposition, worded to be checked true or false (at most 2,000 characters).
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Unique handle such as `russia-us-cyber-security-working-group`, for `claim(slug:)`
    /// and `claimSlugs` filters; null when the claim was given none (claims get no slug
    /// made for them).
    async fn slug(&self) -> Option<&str> {
        self.0.slug.as_deref()
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
    /// The live topics the claim is filed under, by name. Empty when it is filed under
    /// none.
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
    /// Live statements that take a stance on this claim (any stance, unless `filter.stance`
    /// names one), oldest first unless `orderBy` says otherwise, as a Relay connection.
    #[expect(clippy::too_many_arguments, reason = "Relay arguments")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Further conditions, as in `statements(filter:)`; its `claimIds` is replaced by this claim."
        )]
        filter: Option<StatementFilter>,
        #[graphql(desc = "Order of the list; STATED_ON_ASC (oldest statement first) when absent.")]
        order_by: Option<StatementOrder>,
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
    /// Every speaker's latest position on the claim, with how many positions they took and
    /// how many times their stance changed; the most recent latest position first. Reported
    /// statements count as positions of the reported speaker. Empty when no statement takes
    /// a stance on the claim.
    async fn positions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::position::SpeakerPosition>> {
        Ok(crate::graphql::position::claim_positions(ctx, self.0.id).await?)
    }
    /// Everything that happened around the claim, oldest first, as in
    /// `timeline(filter: {claimIds: [id]})`: statements taking a stance on it, verdicts
    /// published on those statements and on the claim itself, confirmed follow-ups and
    /// position changes.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these kinds of events; absent lists all four, an empty list none.")]
        kinds: Option<Vec<crate::graphql::timeline::TimelineEventKind>>,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after: `pageInfo.endCursor` of the previous page of this list (opaque). This list pages forward only."
        )]
        after: Option<String>,
    ) -> Result<crate::graphql::pagination::Conn<crate::graphql::timeline::TimelineEvent>> {
        let filter = crate::graphql::timeline::TimelineFilter {
            claim_ids: Some(vec![id(self.0.id)]),
            kinds,
            ..Default::default()
        };
        Ok(crate::graphql::timeline::page(ctx, filter, first, after, None).await?)
    }
    /// Live statements that take no stance on the claim yet and whose text holds a stretch
    /// like the claim's (trigram word similarity), most similar first: candidates for
    /// `attachStatementsToClaim`. Empty when none reaches `minSimilarity`. Up to 10,000
    /// statements the list is exact; in a larger collection candidates are statements
    /// holding every word of the claim, every word but one, or (when those fall short of
    /// a page) one of its rarest words, at most 600 of each, and every similarity listed
    /// is exact: a paraphrase with few of the claim's words as written can be missed.
    async fn matching_statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Lowest trigram word similarity listed, from 0.3 to 1 (BAD_USER_INPUT outside); default 0.5."
        )]
        min_similarity: Option<f64>,
        #[graphql(desc = "How many statements to list at most: 0 to 100, default 20.")]
        first: Option<i32>,
    ) -> Result<Vec<SimilarStatement>> {
        Ok(
            crate::graphql::search::matching_statements(ctx, &self.0, min_similarity, first)
                .await?,
        )
    }
    /// Fact-checks of the claim itself (not of statements about it), oldest first.
    /// ANONYMOUS and READER callers see PUBLISHED verdicts only; EDITOR and ADMIN see every
    /// status.
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

/// Narrows `claims`; all given conditions must hold, and an absent one does not narrow.
#[derive(InputObject, Default, Debug)]
pub struct ClaimFilter {
    /// Claims filed directly under any of these topics (not under their subtopics); an
    /// empty list matches none.
    pub topic_ids: Option<Vec<ID>>,
    /// A case-insensitive part of the claim's text; blank does not narrow.
    pub text: Option<String>,
}

#[derive(Default)]
pub struct ClaimQuery;

#[Object]
impl ClaimQuery {
    /// One live claim, by `id` or by `slug` (exactly one); null when none matches. With
    /// `asOf`, the claim as it stood then: null when it did not exist yet or was deleted by
    /// then. Open to every caller.
    async fn claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim's id. Give exactly one of `id` and `slug`.")] id: Option<ID>,
        #[graphql(
            desc = "The claim's slug, such as `russia-us-cyber-security-working-group`. Give exactly one of `id` and `slug`."
        )]
        slug: Option<String>,
        #[graphql(
            desc = "Answer as the database stood at this instant (RFC 3339), rebuilt from the revisions; absent means now."
        )]
        as_of: Option<DateTime<Utc>>,
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

    /// Live claims, most recently entered first, as a Relay connection. Open to every
    /// caller.
    async fn claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Conditions on topics and text; absent lists every claim.")]
        filter: Option<ClaimFilter>,
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
    ) -> Result<Conn<Claim>> {
        let (select, ordering) = list_query(filter, viewer(ctx))?;
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// The `claims` list: its rows and order, for the resolvers and the compiled reads.
pub fn list_query(
    filter: Option<ClaimFilter>,
    _viewer: &crate::auth::Viewer,
) -> ListQuery<claim::Entity> {
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
    Ok((select, Ordering::by_id(true)))
}

/// A new claim. A slug another live claim has is BAD_USER_INPUT.
#[derive(InputObject, Debug)]
pub struct CreateClaimInput {
    /// The proposition: non-empty after trimming, at most 2,000 characters.
    pub text: String,
    /// Unique handle: lower-case letters and digits in dash-separated runs, at most 100
    /// characters. Absent leaves the claim without one (none is made from the text).
    pub slug: Option<String>,
    #[graphql(default)]
    /// Live topics to file the claim under, at most 50; repeats are dropped. Empty by
    /// default.
    pub topic_ids: Vec<ID>,
}

/// Changes to a claim read at `version`. An absent field is left as it is.
#[derive(InputObject, Debug)]
pub struct UpdateClaimInput {
    /// The claim to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// New text (non-empty, at most 2,000 characters); absent keeps the current one.
    /// Statements keep their stances on the claim.
    pub text: Option<String>,
    /// A new slug (unique among live claims); `null` removes it, absent keeps it.
    pub slug: MaybeUndefined<String>,
    /// Replaces the topics the claim is filed under (at most 50); an empty list unfiles it,
    /// absent keeps them.
    pub topic_ids: Option<Vec<ID>>,
}

pub struct CreateClaimPayload(pub claim::Model);

/// The result of `createClaim`.
#[Object]
impl CreateClaimPayload {
    /// The claim as stored, at version 1.
    async fn claim(&self) -> Claim {
        Claim(self.0.clone())
    }
}

pub struct UpdateClaimPayload(pub claim::Model);

/// The result of `updateClaim`.
#[Object]
impl UpdateClaimPayload {
    /// The claim after the change, at its new version.
    async fn claim(&self) -> Claim {
        Claim(self.0.clone())
    }
}

/// Statements to give one stance on one claim, such as the candidates
/// `Claim.matchingStatements` lists.
#[derive(InputObject, Debug)]
pub struct AttachStatementsToClaimInput {
    /// The live claim; an unknown one is NOT_FOUND.
    pub claim_id: ID,
    /// Live statements that take no stance on the claim yet: 1 to 100, each once. One that
    /// already takes a stance on it, or already takes 50 stances, is BAD_USER_INPUT and
    /// nothing is written.
    pub statement_ids: Vec<ID>,
    /// The stance each of them takes on the claim.
    pub stance: Stance,
}

pub struct AttachStatementsToClaimPayload {
    claim_id: Uuid,
    statements: Vec<statement::Model>,
}

/// The result of `attachStatementsToClaim`.
#[Object]
impl AttachStatementsToClaimPayload {
    /// The claim the statements now take a stance on.
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
    /// Creates a claim. Needs an EDITOR or ADMIN key.
    async fn create_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new claim: its text, slug and topics.")] input: CreateClaimInput,
    ) -> Result<CreateClaimPayload> {
        let new = service::claim::NewClaim {
            text: input.text,
            slug: input.slug,
            topic_ids: uuids("input.topicIds", &input.topic_ids)?,
        };
        let model = service::claim::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateClaimPayload(model))
    }

    /// Changes a claim read at `version`; a stale version is a CONFLICT. Needs an EDITOR or
    /// ADMIN key.
    async fn update_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim, the version read, and the fields to change.")]
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

    /// Gives each statement a stance on the claim, all or none: each becomes a new version
    /// of the statement, with its revision, as `updateStatement` would make it
    /// (contradiction candidates included). No `version` is asked: each statement's current
    /// one is used. Needs an EDITOR or ADMIN key.
    async fn attach_statements_to_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim, the statements and the stance.")]
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

    /// Soft-deletes a claim read at `version`. Refused (CONFLICT) while live statements
    /// take a stance on it or live verdicts rate it. Needs an EDITOR or ADMIN key.
    async fn delete_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
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
