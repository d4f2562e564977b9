//! `Verdict`: object (with its schema.org ClaimReview), lookups and list,
//! create/update/delete and publish.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::graphql::claim::Claim;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::VerdictStatus;
use crate::graphql::loader::{ById, ClaimReviewOf};
use crate::graphql::outlet::Outlet;
use crate::graphql::pagination::{self, Conn, ListQuery, Ordering, PageArgs, in_ids};
use crate::graphql::scalars::{id, uuid, uuids};
use crate::graphql::statement::Statement;
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::model;
use crate::service::{self, Record};
use entity::verdict;

/// A fact-check of a statement or of a claim by a reviewing outlet, on the reviewer's
/// own rating scale.
pub struct Verdict(pub verdict::Model);

impl From<verdict::Model> for Verdict {
    fn from(m: verdict::Model) -> Self {
        Self(m)
    }
}

/// Whether the caller may see a verdict: published ones are public; drafts, those in
/// review and retracted ones only editors see.
pub fn visible(viewer: &Viewer, verdict: &verdict::Model) -> bool {
    use sea_orm::ActiveEnum;
    viewer.sees_unpublished() || model::PUBLISHED_VERDICTS.shows(&verdict.status.to_value())
}

/// A fact-check of a statement or of a claim by a reviewing outlet, on the reviewer's own
/// rating scale (schema.org ClaimReview semantics). ANONYMOUS and READER callers see
/// PUBLISHED verdicts only; EDITOR and ADMIN see every status.
#[Object]
impl Verdict {
    /// Stable identifier (UUID v7, time-ordered). Use it in `verdict(id:)` and in
    /// mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The statement reviewed; null for a verdict on a claim.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        match self.0.statement_id {
            Some(id) => Ok(crate::graphql::statement::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The claim reviewed; null for a verdict on a statement.
    async fn claim(&self, ctx: &Context<'_>) -> Result<Option<Claim>> {
        match self.0.claim_id {
            Some(id) => Ok(crate::graphql::claim::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The outlet (fact-checking organisation) that published the verdict.
    async fn reviewer(&self, ctx: &Context<'_>) -> Result<Outlet> {
        Ok(crate::graphql::outlet::load(ctx, self.0.reviewer_id)
            .await?
            .ok_or(ApiError::not_found("outlet"))?)
    }
    /// The reviewer's own words for the rating, such as "Mostly False" (at most 200
    /// characters).
    async fn rating_label(&self) -> &str {
        &self.0.rating_label
    }
    /// The numeric rating on the reviewer's scale, between `worstRating` and `bestRating`
    /// (schema.org `ratingValue`); null when the reviewer gave only a label.
    async fn rating_value(&self) -> Option<f64> {
        self.0.rating_value
    }
    /// The best value of the reviewer's scale (schema.org `bestRating`); 5, schema.org's
    /// default, when a value came without a scale. Null when no scale is known.
    async fn best_rating(&self) -> Option<f64> {
        self.0.best_rating
    }
    /// The worst value of the reviewer's scale (schema.org `worstRating`); 1, schema.org's
    /// default, when a value came without a scale. Null when no scale is known.
    async fn worst_rating(&self) -> Option<f64> {
        self.0.worst_rating
    }
    /// The rating on a common scale from 0 (the reviewer's worst rating) to 1 (its best):
    /// `(ratingValue - worstRating) / (bestRating - worstRating)`. Null without a numeric
    /// rating (rating band UNRATED). Rating bands split it into fifths.
    async fn score(&self) -> Option<f64> {
        self.0.score
    }
    /// The reviewer's summary of its finding (at most 10,000 characters); null when none.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// Where the reviewer published the fact-check, in normal form; null when not known.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    /// When the reviewer published the verdict (UTC). Always set on a PUBLISHED verdict
    /// (the moment of publishing when no time was given); may be null on the others.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// DRAFT, IN_REVIEW, PUBLISHED or RETRACTED; only PUBLISHED verdicts are public.
    async fn status(&self) -> VerdictStatus {
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
    /// back as `version` to update, publish or delete; a stale one is a CONFLICT.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The verdict as a schema.org `ClaimReview` object (JSON-LD), as
    /// `GET /claimreview.json` serves published ones; values that are not known are left
    /// out rather than sent as null.
    async fn claim_review(&self, ctx: &Context<'_>) -> Result<serde_json::Value> {
        Ok(loaders(ctx)
            .load_one(ClaimReviewOf(self.0.id))
            .await?
            .ok_or(ApiError::not_found("verdict"))?)
    }
}

/// Narrows `verdicts`; each list given must match (any of its entries; an empty list
/// matches none), and an absent one does not narrow.
#[derive(InputObject, Default, Debug)]
pub struct VerdictFilter {
    /// Verdicts on any of these statements. Together with `claimIds` nothing matches: a
    /// verdict rates one or the other.
    pub statement_ids: Option<Vec<ID>>,
    /// Verdicts on any of these claims themselves (not on statements about them).
    pub claim_ids: Option<Vec<ID>>,
    /// Verdicts by any of these reviewing outlets.
    pub reviewer_ids: Option<Vec<ID>>,
    /// Verdicts in any of these statuses. ANONYMOUS and READER callers only ever get
    /// PUBLISHED ones, whatever this says.
    pub status: Option<Vec<VerdictStatus>>,
}

#[derive(Default)]
pub struct VerdictQuery;

#[Object]
impl VerdictQuery {
    /// One live verdict, by id; null when none matches. For ANONYMOUS and READER callers an
    /// unpublished verdict reads as null too, so a denial never confirms it exists.
    async fn verdict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The verdict's id (a UUID; anything else is BAD_USER_INPUT).")] id: ID,
    ) -> Result<Option<Verdict>> {
        let found = verdict::Entity::live()
            .filter(verdict::Column::Id.eq(uuid("id", &id)?))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?;
        // An unpublished verdict reads as absent: a denial must not confirm it exists.
        Ok(found.filter(|v| visible(viewer(ctx), v)).map(Verdict))
    }

    /// Live verdicts, most recently entered first, as a Relay connection. ANONYMOUS and
    /// READER callers see PUBLISHED ones only; EDITOR and ADMIN see every status.
    async fn verdicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Conditions on subject, reviewer and status; absent lists every verdict the caller may see."
        )]
        filter: Option<VerdictFilter>,
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
    ) -> Result<Conn<Verdict>> {
        let (select, ordering) = list_query(filter, viewer(ctx))?;
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &ordering, &args).await?)
    }
}

/// The `verdicts` list as `viewer` sees it: its rows and order, for the resolvers and
/// the compiled reads.
pub fn list_query(filter: Option<VerdictFilter>, viewer: &Viewer) -> ListQuery<verdict::Entity> {
    let filter = filter.unwrap_or_default();
    let ids = |field: &str, ids: &Option<Vec<ID>>| {
        ids.as_deref().map(|ids| uuids(field, ids)).transpose()
    };
    let statement_ids = ids("filter.statementIds", &filter.statement_ids)?;
    let claim_ids = ids("filter.claimIds", &filter.claim_ids)?;
    let reviewer_ids = ids("filter.reviewerIds", &filter.reviewer_ids)?;
    let mut select = verdict::Entity::live();
    select = in_ids(
        select,
        verdict::Column::StatementId,
        statement_ids.as_deref(),
    );
    select = in_ids(select, verdict::Column::ClaimId, claim_ids.as_deref());
    select = in_ids(select, verdict::Column::ReviewerId, reviewer_ids.as_deref());
    if let Some(status) = filter.status {
        select = select.filter(
            verdict::Column::Status.is_in(status.into_iter().map(entity::VerdictStatus::from)),
        );
    }
    if !viewer.sees_unpublished() {
        select = select.filter(sea_orm::sea_query::Expr::cust(
            model::PUBLISHED_VERDICTS.condition("verdict"),
        ));
    }
    Ok((select, Ordering::by_id(true)))
}

/// A verdict on exactly one of a statement and a claim. A rating value given without its
/// scale is on schema.org's default scale, 1 (worst) to 5 (best).
#[derive(InputObject, Debug)]
pub struct CreateVerdictInput {
    /// The live statement reviewed. Give exactly one of `statementId` and `claimId`.
    pub statement_id: Option<ID>,
    /// The live claim reviewed. Give exactly one of `statementId` and `claimId`.
    pub claim_id: Option<ID>,
    /// The live outlet that reviewed it; an unknown one is NOT_FOUND.
    pub reviewer_id: ID,
    /// The reviewer's words for the rating, such as `Mostly False`: non-empty after
    /// trimming, at most 200 characters.
    pub rating_label: String,
    /// The numeric rating, between `worstRating` and `bestRating`; absent for a label-only
    /// verdict (rating band UNRATED).
    pub rating_value: Option<f64>,
    /// The best value of the scale, different from `worstRating`, at most 1,000,000 in
    /// magnitude; 5 when absent and a `ratingValue` is given.
    pub best_rating: Option<f64>,
    /// The worst value of the scale, at most 1,000,000 in magnitude; 1 when absent and a
    /// `ratingValue` is given.
    pub worst_rating: Option<f64>,
    /// The reviewer's summary, at most 10,000 characters; absent or blank stores none.
    pub summary: Option<String>,
    /// Where the reviewer published it, an http(s) address; stored in normal form. Absent
    /// or blank stores none.
    pub url: Option<String>,
    /// When the reviewer published it. Defaults to now when the verdict is created
    /// PUBLISHED; absent leaves an unpublished verdict without one.
    pub published_at: Option<DateTime<Utc>>,
    #[graphql(default_with = "VerdictStatus::Draft")]
    /// The verdict's status; DRAFT by default. PUBLISHED makes it public at once.
    pub status: VerdictStatus,
}

/// Changes to a verdict read at `version`. An absent field is left as it is; `null` clears
/// a clearable one. Rules that span fields (exactly one subject, a value on its scale, a
/// publication time for a PUBLISHED verdict) are checked on the merged verdict.
#[derive(InputObject, Debug)]
pub struct UpdateVerdictInput {
    /// The verdict to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// A live statement to review instead; `null` removes the statement (then `claimId`
    /// must name a claim), absent keeps it.
    pub statement_id: MaybeUndefined<ID>,
    /// A live claim to review instead; `null` removes the claim (then `statementId` must
    /// name a statement), absent keeps it.
    pub claim_id: MaybeUndefined<ID>,
    /// Another live reviewing outlet; absent keeps it.
    pub reviewer_id: Option<ID>,
    /// A new label (non-empty, at most 200 characters); absent keeps it.
    pub rating_label: Option<String>,
    /// A new numeric rating on the scale; `null` makes the verdict label-only, absent keeps
    /// it.
    pub rating_value: MaybeUndefined<f64>,
    /// A new best value of the scale; `null` clears it (5 is used while a rating value
    /// remains), absent keeps it.
    pub best_rating: MaybeUndefined<f64>,
    /// A new worst value of the scale; `null` clears it (1 is used while a rating value
    /// remains), absent keeps it.
    pub worst_rating: MaybeUndefined<f64>,
    /// A new summary (at most 10,000 characters); `null` or blank clears it, absent keeps
    /// it.
    pub summary: MaybeUndefined<String>,
    /// A new address of the fact-check; `null` or blank clears it, absent keeps it.
    pub url: MaybeUndefined<String>,
    /// A new publication time; `null` clears it (refused for a PUBLISHED verdict), absent
    /// keeps it.
    pub published_at: MaybeUndefined<DateTime<Utc>>,
    /// A new status, such as IN_REVIEW or RETRACTED; absent keeps it. PUBLISHED without a
    /// publication time stamps it now.
    pub status: Option<VerdictStatus>,
}

/// Publishes a verdict read at `version`.
#[derive(InputObject, Debug)]
pub struct PublishVerdictInput {
    /// The verdict to publish.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// When the reviewer published it; defaults to the time the verdict already carries,
    /// else now.
    pub published_at: Option<DateTime<Utc>>,
}

pub struct CreateVerdictPayload(pub verdict::Model);

/// The result of `createVerdict`.
#[Object]
impl CreateVerdictPayload {
    /// The verdict as stored, at version 1, with its computed `score`.
    async fn verdict(&self) -> Verdict {
        Verdict(self.0.clone())
    }
}

pub struct UpdateVerdictPayload(pub verdict::Model);

/// The result of `updateVerdict`.
#[Object]
impl UpdateVerdictPayload {
    /// The verdict after the change, at its new version.
    async fn verdict(&self) -> Verdict {
        Verdict(self.0.clone())
    }
}

pub struct PublishVerdictPayload(pub verdict::Model);

/// The result of `publishVerdict`.
#[Object]
impl PublishVerdictPayload {
    /// The verdict, now PUBLISHED with its publication time, at its new version.
    async fn verdict(&self) -> Verdict {
        Verdict(self.0.clone())
    }
}

/// Reads an optional id argument that may also be cleared.
fn maybe_uuid(field: &str, value: MaybeUndefined<ID>) -> ApiResult<Option<Option<Uuid>>> {
    Option::<Option<ID>>::from(value)
        .map(|v| v.map(|id| uuid(field, &id)).transpose())
        .transpose()
}

#[derive(Default)]
pub struct VerdictMutation;

#[Object]
impl VerdictMutation {
    /// Records a fact-check of a statement or a claim, DRAFT unless `status` says
    /// otherwise. Needs an EDITOR or ADMIN key.
    async fn create_verdict(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new verdict: its subject, reviewer, rating, and optionally summary, address, publication time and status."
        )]
        input: CreateVerdictInput,
    ) -> Result<CreateVerdictPayload> {
        let new = service::verdict::NewVerdict {
            statement_id: input
                .statement_id
                .map(|id| uuid("input.statementId", &id))
                .transpose()?,
            claim_id: input
                .claim_id
                .map(|id| uuid("input.claimId", &id))
                .transpose()?,
            reviewer_id: uuid("input.reviewerId", &input.reviewer_id)?,
            rating_label: input.rating_label,
            rating_value: input.rating_value,
            best_rating: input.best_rating,
            worst_rating: input.worst_rating,
            summary: input.summary,
            url: input.url,
            published_at: input.published_at,
            status: input.status.into(),
        };
        let model = service::verdict::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateVerdictPayload(model))
    }

    /// Changes a verdict read at `version`, its status included (RETRACTED withdraws a
    /// published one); a stale version is a CONFLICT. Needs an EDITOR or ADMIN key.
    async fn update_verdict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The verdict, the version read, and the fields to change.")]
        input: UpdateVerdictInput,
    ) -> Result<UpdateVerdictPayload> {
        let patch = service::verdict::VerdictPatch {
            statement_id: maybe_uuid("input.statementId", input.statement_id)?,
            claim_id: maybe_uuid("input.claimId", input.claim_id)?,
            reviewer_id: input
                .reviewer_id
                .map(|id| uuid("input.reviewerId", &id))
                .transpose()?,
            rating_label: input.rating_label,
            rating_value: input.rating_value.into(),
            best_rating: input.best_rating.into(),
            worst_rating: input.worst_rating.into(),
            summary: input.summary.into(),
            url: input.url.into(),
            published_at: input.published_at.into(),
            status: input.status.map(Into::into),
        };
        let id = uuid("input.id", &input.id)?;
        let model =
            service::verdict::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateVerdictPayload(model))
    }

    /// Sets the verdict PUBLISHED, with its publication time: from then on every caller
    /// sees it, scorecards count it and timelines show it. Needs an EDITOR or ADMIN key.
    async fn publish_verdict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The verdict, the version read, and optionally its publication time.")]
        input: PublishVerdictInput,
    ) -> Result<PublishVerdictPayload> {
        let id = uuid("input.id", &input.id)?;
        let model =
            service::verdict::publish(db(ctx), &actor(ctx), id, input.version, input.published_at)
                .await?;
        Ok(PublishVerdictPayload(model))
    }

    /// Soft-deletes a verdict read at `version`. Needs an EDITOR or ADMIN key.
    async fn delete_verdict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The verdict and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::verdict::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }
}

/// Loads one verdict through the batch loader.
pub async fn load(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<Verdict>> {
    Ok(loaders(ctx)
        .load_one(ById::<verdict::Entity>::new(id))
        .await?
        .map(Verdict))
}
