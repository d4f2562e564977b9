//! Verdicts: fact-checks of a statement or of a claim by a reviewing outlet, on the
//! reviewer's own rating scale (schema.org ClaimReview semantics). PostgreSQL derives
//! the normalized `score`; a PUBLISHED verdict always has its `published_at`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, IntoActiveModel,
    TransactionSession, TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::record;
use crate::service::validate;
use entity::{RevisionAction, VerdictStatus, claim, outlet, statement, verdict};

/// Longest rating label ("Mostly False"), in characters.
pub const MAX_RATING_LABEL: usize = 200;
/// Longest summary, in characters.
pub const MAX_SUMMARY: usize = 10_000;
/// schema.org's default scale when a rating comes without one.
pub const DEFAULT_BEST_RATING: f64 = 5.0;
pub const DEFAULT_WORST_RATING: f64 = 1.0;

#[derive(Debug, Clone)]
pub struct NewVerdict {
    pub statement_id: Option<Uuid>,
    pub claim_id: Option<Uuid>,
    pub reviewer_id: Uuid,
    pub rating_label: String,
    pub rating_value: Option<f64>,
    pub best_rating: Option<f64>,
    pub worst_rating: Option<f64>,
    pub summary: Option<String>,
    pub url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub status: VerdictStatus,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct VerdictPatch {
    pub statement_id: Option<Option<Uuid>>,
    pub claim_id: Option<Option<Uuid>>,
    pub reviewer_id: Option<Uuid>,
    pub rating_label: Option<String>,
    pub rating_value: Option<Option<f64>>,
    pub best_rating: Option<Option<f64>>,
    pub worst_rating: Option<Option<f64>>,
    pub summary: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub published_at: Option<Option<DateTime<Utc>>>,
    pub status: Option<VerdictStatus>,
}

/// A verdict rates exactly one thing: a statement or a claim.
fn ensure_one_subject(statement_id: Option<Uuid>, claim_id: Option<Uuid>) -> ApiResult<()> {
    if statement_id.is_some() == claim_id.is_some() {
        return Err(ApiError::bad_input(
            "input.statementId",
            "give exactly one of `statementId` and `claimId`",
        ));
    }
    Ok(())
}

/// The rating with schema.org's defaults filled in (a value without a scale is on
/// 1..5), checked to lie on its scale.
fn rating(
    value: Option<f64>,
    best: Option<f64>,
    worst: Option<f64>,
) -> ApiResult<(Option<f64>, Option<f64>)> {
    let (best, worst) = match value {
        Some(_) => (
            best.or(Some(DEFAULT_BEST_RATING)),
            worst.or(Some(DEFAULT_WORST_RATING)),
        ),
        None => (best, worst),
    };
    validate::rating("input", value, best, worst)?;
    Ok((best, worst))
}

/// A PUBLISHED verdict carries its publication time; when none is known it is now.
fn publication(status: VerdictStatus, at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (status, at) {
        (VerdictStatus::Published, None) => Some(Utc::now()),
        (_, at) => at,
    }
}

fn url(value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| validate::normalize_url("input.url", v))
        .transpose()
}

async fn ensure_subject<C: ConnectionTrait>(
    db: &C,
    statement_id: Option<Uuid>,
    claim_id: Option<Uuid>,
) -> ApiResult<()> {
    if let Some(id) = statement_id {
        record::ensure_exists::<statement::Entity, _>(db, id, "input.statementId").await?;
    }
    if let Some(id) = claim_id {
        record::ensure_exists::<claim::Entity, _>(db, id, "input.claimId").await?;
    }
    Ok(())
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewVerdict,
) -> ApiResult<verdict::Model> {
    ensure_one_subject(input.statement_id, input.claim_id)?;
    let rating_label = validate::text("input.ratingLabel", &input.rating_label, MAX_RATING_LABEL)?;
    let (best_rating, worst_rating) =
        rating(input.rating_value, input.best_rating, input.worst_rating)?;
    let summary = validate::optional_text("input.summary", input.summary.as_deref(), MAX_SUMMARY)?;
    let url = url(input.url.as_deref())?;
    let status = input.status;
    let published_at = publication(status, input.published_at);

    let txn = db.begin().await?;
    ensure_subject(&txn, input.statement_id, input.claim_id).await?;
    record::ensure_exists::<outlet::Entity, _>(&txn, input.reviewer_id, "input.reviewerId").await?;
    let now = Utc::now();
    let model = verdict::ActiveModel {
        id: Set(Uuid::now_v7()),
        statement_id: Set(input.statement_id),
        claim_id: Set(input.claim_id),
        reviewer_id: Set(input.reviewer_id),
        rating_label: Set(rating_label),
        rating_value: Set(input.rating_value),
        best_rating: Set(best_rating),
        worst_rating: Set(worst_rating),
        score: NotSet,
        summary: Set(summary),
        url: Set(url),
        published_at: Set(published_at),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<verdict::Entity, _>(&txn, actor, RevisionAction::Create, None, Some(&model))
        .await?;
    txn.commit().await?;
    Ok(model)
}

/// Applies a patch. Rules that span fields (one subject, a value on its scale, a
/// publication time for a PUBLISHED verdict) are checked on the merged record.
#[instrument(skip(db))]
pub async fn update<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
    patch: VerdictPatch,
) -> ApiResult<verdict::Model> {
    let rating_label = patch
        .rating_label
        .as_deref()
        .map(|l| validate::text("input.ratingLabel", l, MAX_RATING_LABEL))
        .transpose()?;
    let summary = patch
        .summary
        .map(|s| validate::optional_text("input.summary", s.as_deref(), MAX_SUMMARY))
        .transpose()?;
    let url = patch.url.map(|u| url(u.as_deref())).transpose()?;

    let txn = db.begin().await?;
    let before = record::lock_for_change::<verdict::Entity, _>(&txn, id, version).await?;
    let statement_id = patch.statement_id.unwrap_or(before.statement_id);
    let claim_id = patch.claim_id.unwrap_or(before.claim_id);
    ensure_one_subject(statement_id, claim_id)?;
    let rating_value = patch.rating_value.unwrap_or(before.rating_value);
    let (best_rating, worst_rating) = rating(
        rating_value,
        patch.best_rating.unwrap_or(before.best_rating),
        patch.worst_rating.unwrap_or(before.worst_rating),
    )?;
    let status = patch.status.unwrap_or(before.status);
    if status == VerdictStatus::Published && patch.published_at == Some(None) {
        return Err(ApiError::bad_input(
            "input.publishedAt",
            "a PUBLISHED verdict needs its publication time",
        ));
    }
    let published_at = publication(status, patch.published_at.unwrap_or(before.published_at));
    ensure_subject(
        &txn,
        patch
            .statement_id
            .flatten()
            .filter(|s| Some(*s) != before.statement_id),
        patch
            .claim_id
            .flatten()
            .filter(|c| Some(*c) != before.claim_id),
    )
    .await?;
    if let Some(reviewer_id) = patch.reviewer_id {
        record::ensure_exists::<outlet::Entity, _>(&txn, reviewer_id, "input.reviewerId").await?;
    }

    let mut active = before.clone().into_active_model();
    active.statement_id = Set(statement_id);
    active.claim_id = Set(claim_id);
    record::patch(&mut active.reviewer_id, patch.reviewer_id);
    record::patch(&mut active.rating_label, rating_label);
    active.rating_value = Set(rating_value);
    active.best_rating = Set(best_rating);
    active.worst_rating = Set(worst_rating);
    record::patch(&mut active.summary, summary);
    record::patch(&mut active.url, url);
    active.published_at = Set(published_at);
    active.status = Set(status);
    let after = record::save_update::<verdict::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Publishes a verdict read at `version`: status PUBLISHED, published at the time
/// given, else the publication time it already carries, else now.
#[instrument(skip(db))]
pub async fn publish<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
    published_at: Option<DateTime<Utc>>,
) -> ApiResult<verdict::Model> {
    let txn = db.begin().await?;
    let before = record::lock_for_change::<verdict::Entity, _>(&txn, id, version).await?;
    let mut active = before.clone().into_active_model();
    active.status = Set(VerdictStatus::Published);
    active.published_at = Set(publication(
        VerdictStatus::Published,
        published_at.or(before.published_at),
    ));
    let after = record::save_update::<verdict::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes a verdict read at `version`.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<verdict::Model> {
    let txn = db.begin().await?;
    let deleted = record::soft_delete::<verdict::Entity, _>(&txn, actor, id, version).await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Verdicts as schema.org `ClaimReview` (JSON-LD), the form fact-checkers publish and
/// search engines read: `SELECT id, review` (text) over the verdict `v` (live, matching
/// `filter`), its reviewer `o`, the statement `s` or claim `c` it rates, and the
/// statement's speaker `p`. Unknown values are left out rather than sent as null. The
/// one definition behind `Verdict.claimReview`, `export --format claimreview` and
/// `GET /claimreview.json`.
pub fn claim_review_sql(filter: &str) -> String {
    format!(
        "SELECT v.id, jsonb_strip_nulls(jsonb_build_object( \
            '@context', 'https://schema.org', \
            '@type', 'ClaimReview', \
            'url', v.url, \
            'datePublished', to_char(v.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), \
            'claimReviewed', coalesce(s.text, c.text), \
            'inLanguage', s.language, \
            'reviewBody', v.summary, \
            'author', jsonb_build_object('@type', 'Organization', 'name', o.name, 'url', o.homepage), \
            'reviewRating', jsonb_build_object('@type', 'Rating', 'alternateName', v.rating_label, \
                'ratingValue', v.rating_value, 'bestRating', v.best_rating, 'worstRating', v.worst_rating), \
            'itemReviewed', jsonb_build_object( \
                '@type', 'Claim', \
                'datePublished', to_char(s.stated_on, 'YYYY-MM-DD'), \
                'author', CASE WHEN p.id IS NOT NULL THEN jsonb_build_object( \
                    '@type', CASE p.kind WHEN 'PERSON' THEN 'Person' ELSE 'Organization' END, \
                    'name', p.name, \
                    'sameAs', 'https://www.wikidata.org/wiki/' || p.wikidata_id) END, \
                'firstAppearance', (SELECT jsonb_build_object('@type', 'CreativeWork', 'url', a.url) \
                    FROM appearance x JOIN article a ON a.id = x.article_id AND a.deleted_at IS NULL \
                    WHERE x.statement_id = s.id AND x.first AND x.deleted_at IS NULL AND a.url IS NOT NULL \
                    LIMIT 1), \
                'appearance', (SELECT jsonb_agg(jsonb_build_object('@type', 'CreativeWork', 'url', a.url) \
                                                ORDER BY a.url) \
                    FROM appearance x JOIN article a ON a.id = x.article_id AND a.deleted_at IS NULL \
                    WHERE x.statement_id = s.id AND x.deleted_at IS NULL AND a.url IS NOT NULL)) \
         ))::text AS review \
         FROM verdict v \
         JOIN outlet o ON o.id = v.reviewer_id \
         LEFT JOIN statement s ON s.id = v.statement_id AND s.deleted_at IS NULL \
         LEFT JOIN claim c ON c.id = v.claim_id AND c.deleted_at IS NULL \
         LEFT JOIN speaker p ON p.id = s.speaker_id AND p.deleted_at IS NULL \
         WHERE v.deleted_at IS NULL AND {filter}"
    )
}
