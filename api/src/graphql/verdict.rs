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
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs, in_ids};
use crate::graphql::scalars::{id, uuid, uuids};
use crate::graphql::statement::Statement;
use crate::graphql::{actor, db, loaders, viewer};
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
    viewer.sees_unpublished() || verdict.status == entity::VerdictStatus::Published
}

#[Object]
impl Verdict {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The statement reviewed, when the verdict is on a statement.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        match self.0.statement_id {
            Some(id) => Ok(crate::graphql::statement::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The claim reviewed, when the verdict is on a claim.
    async fn claim(&self, ctx: &Context<'_>) -> Result<Option<Claim>> {
        match self.0.claim_id {
            Some(id) => Ok(crate::graphql::claim::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The fact-checking organisation.
    async fn reviewer(&self, ctx: &Context<'_>) -> Result<Outlet> {
        Ok(crate::graphql::outlet::load(ctx, self.0.reviewer_id)
            .await?
            .ok_or(ApiError::not_found("outlet"))?)
    }
    /// The reviewer's own words for the rating, such as "Mostly False".
    async fn rating_label(&self) -> &str {
        &self.0.rating_label
    }
    async fn rating_value(&self) -> Option<f64> {
        self.0.rating_value
    }
    async fn best_rating(&self) -> Option<f64> {
        self.0.best_rating
    }
    async fn worst_rating(&self) -> Option<f64> {
        self.0.worst_rating
    }
    /// The rating on a common scale: 0 at the worst rating, 1 at the best.
    async fn score(&self) -> Option<f64> {
        self.0.score
    }
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// Where the reviewer published the fact-check.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn status(&self) -> VerdictStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Pass this back with an update, publish or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The verdict as a schema.org `ClaimReview` (JSON-LD).
    async fn claim_review(&self, ctx: &Context<'_>) -> Result<serde_json::Value> {
        Ok(loaders(ctx)
            .load_one(ClaimReviewOf(self.0.id))
            .await?
            .ok_or(ApiError::not_found("verdict"))?)
    }
}

/// Narrows a list of verdicts; each list given must match.
#[derive(InputObject, Default, Debug)]
pub struct VerdictFilter {
    pub statement_ids: Option<Vec<ID>>,
    pub claim_ids: Option<Vec<ID>>,
    pub reviewer_ids: Option<Vec<ID>>,
    /// Any of these statuses.
    pub status: Option<Vec<VerdictStatus>>,
}

#[derive(Default)]
pub struct VerdictQuery;

#[Object]
impl VerdictQuery {
    async fn verdict(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Verdict>> {
        let found = verdict::Entity::live()
            .filter(verdict::Column::Id.eq(uuid("id", &id)?))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?;
        // An unpublished verdict reads as absent: a denial must not confirm it exists.
        Ok(found.filter(|v| visible(viewer(ctx), v)).map(Verdict))
    }

    /// Verdicts, newest first.
    async fn verdicts(
        &self,
        ctx: &Context<'_>,
        filter: Option<VerdictFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Verdict>> {
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
        if !viewer(ctx).sees_unpublished() {
            select = select.filter(verdict::Column::Status.eq(entity::VerdictStatus::Published));
        }
        let args = PageArgs::new(first, after, last, before);
        Ok(pagination::page(db(ctx), select, &Ordering::by_id(true), &args).await?)
    }
}

/// A verdict on exactly one of a statement and a claim. A rating value given without
/// its scale is on schema.org's default scale, 1 (worst) to 5 (best).
#[derive(InputObject, Debug)]
pub struct CreateVerdictInput {
    pub statement_id: Option<ID>,
    pub claim_id: Option<ID>,
    /// The reviewing outlet.
    pub reviewer_id: ID,
    pub rating_label: String,
    pub rating_value: Option<f64>,
    pub best_rating: Option<f64>,
    pub worst_rating: Option<f64>,
    pub summary: Option<String>,
    pub url: Option<String>,
    /// Defaults to now when the verdict is created PUBLISHED.
    pub published_at: Option<DateTime<Utc>>,
    #[graphql(default_with = "VerdictStatus::Draft")]
    pub status: VerdictStatus,
}

#[derive(InputObject, Debug)]
pub struct UpdateVerdictInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub statement_id: MaybeUndefined<ID>,
    pub claim_id: MaybeUndefined<ID>,
    pub reviewer_id: Option<ID>,
    pub rating_label: Option<String>,
    pub rating_value: MaybeUndefined<f64>,
    pub best_rating: MaybeUndefined<f64>,
    pub worst_rating: MaybeUndefined<f64>,
    pub summary: MaybeUndefined<String>,
    pub url: MaybeUndefined<String>,
    pub published_at: MaybeUndefined<DateTime<Utc>>,
    pub status: Option<VerdictStatus>,
}

/// Publishes a verdict read at `version`.
#[derive(InputObject, Debug)]
pub struct PublishVerdictInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    /// When the reviewer published it; defaults to the time the verdict already
    /// carries, else now.
    pub published_at: Option<DateTime<Utc>>,
}

pub struct CreateVerdictPayload(pub verdict::Model);

#[Object]
impl CreateVerdictPayload {
    async fn verdict(&self) -> Verdict {
        Verdict(self.0.clone())
    }
}

pub struct UpdateVerdictPayload(pub verdict::Model);

#[Object]
impl UpdateVerdictPayload {
    async fn verdict(&self) -> Verdict {
        Verdict(self.0.clone())
    }
}

pub struct PublishVerdictPayload(pub verdict::Model);

#[Object]
impl PublishVerdictPayload {
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
    async fn create_verdict(
        &self,
        ctx: &Context<'_>,
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

    async fn update_verdict(
        &self,
        ctx: &Context<'_>,
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

    /// Sets the verdict PUBLISHED, with its publication time.
    async fn publish_verdict(
        &self,
        ctx: &Context<'_>,
        input: PublishVerdictInput,
    ) -> Result<PublishVerdictPayload> {
        let id = uuid("input.id", &input.id)?;
        let model =
            service::verdict::publish(db(ctx), &actor(ctx), id, input.version, input.published_at)
                .await?;
        Ok(PublishVerdictPayload(model))
    }

    async fn delete_verdict(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
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
