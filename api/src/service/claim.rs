//! Claims: checkable propositions, independent of who says them, filed under topics.
//! Slugs are unique among live claims; a claim that live statements take a stance on,
//! or that live verdicts rate, cannot be deleted.

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession,
    TransactionTrait,
};
use serde::Serialize;
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::Record;
use crate::service::audit::{self, Actor};
use crate::service::record::{self, ensure_unique};
use crate::service::validate;
use entity::{RevisionAction, claim, claim_topic, stance, statement, topic, verdict};

/// Longest claim text, in characters.
pub const MAX_CLAIM_TEXT: usize = 2_000;
/// Most topics one claim may be filed under.
pub const MAX_TOPICS: usize = 50;

#[derive(Debug, Clone)]
pub struct NewClaim {
    pub text: String,
    pub slug: Option<String>,
    pub topic_ids: Vec<Uuid>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
/// `topic_ids` replaces the whole set.
#[derive(Debug, Clone, Default)]
pub struct ClaimPatch {
    pub text: Option<String>,
    pub slug: Option<Option<String>>,
    pub topic_ids: Option<Vec<Uuid>>,
}

/// What a claim's revision records: the row and the topics it is filed under.
#[derive(Serialize)]
struct Snapshot<'a> {
    #[serde(flatten)]
    claim: &'a claim::Model,
    topic_ids: &'a [Uuid],
}

fn snapshot(claim: &claim::Model, topic_ids: &[Uuid]) -> ApiResult<Option<serde_json::Value>> {
    audit::snapshot(Some(&Snapshot { claim, topic_ids }))
}

/// Caps the topic list and drops repeats, keeping each id's first position (so an
/// unknown id is blamed at the index the client sent it).
fn topic_list(ids: &[Uuid]) -> ApiResult<Vec<(usize, Uuid)>> {
    if ids.len() > MAX_TOPICS {
        return Err(ApiError::bad_input(
            "input.topicIds",
            format!("at most {MAX_TOPICS} topics"),
        ));
    }
    let mut out: Vec<(usize, Uuid)> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if !out.iter().any(|(_, seen)| seen == id) {
            out.push((i, *id));
        }
    }
    Ok(out)
}

/// Checks in one query that every topic is live, naming the first unknown one.
async fn ensure_topics<C: ConnectionTrait>(db: &C, topics: &[(usize, Uuid)]) -> ApiResult<()> {
    if topics.is_empty() {
        return Ok(());
    }
    let found: Vec<Uuid> = topic::Entity::live()
        .select_only()
        .column(topic::Column::Id)
        .filter(topic::Column::Id.is_in(topics.iter().map(|(_, id)| *id)))
        .into_tuple()
        .all(db)
        .await?;
    match topics.iter().find(|(_, id)| !found.contains(id)) {
        Some((i, _)) => Err(ApiError::unknown_reference(
            topic::Entity::NAME,
            format!("input.topicIds[{i}]"),
        )),
        None => Ok(()),
    }
}

/// The ids of the topics a claim is filed under, in id order.
async fn topic_ids_of<C: ConnectionTrait>(db: &C, claim_id: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(claim_topic::Entity::find()
        .select_only()
        .column(claim_topic::Column::TopicId)
        .filter(claim_topic::Column::ClaimId.eq(claim_id))
        .order_by_asc(claim_topic::Column::TopicId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Files a claim under exactly these topics; returns their ids in id order.
async fn set_topics<C: ConnectionTrait>(
    db: &C,
    claim_id: Uuid,
    topics: &[(usize, Uuid)],
) -> ApiResult<Vec<Uuid>> {
    claim_topic::Entity::delete_many()
        .filter(claim_topic::Column::ClaimId.eq(claim_id))
        .exec(db)
        .await?;
    let mut ids: Vec<Uuid> = topics.iter().map(|(_, id)| *id).collect();
    ids.sort_unstable();
    if !ids.is_empty() {
        let now = Utc::now();
        claim_topic::Entity::insert_many(ids.iter().map(|topic_id| claim_topic::ActiveModel {
            claim_id: Set(claim_id),
            topic_id: Set(*topic_id),
            created_at: Set(now),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(ids)
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewClaim,
) -> ApiResult<claim::Model> {
    let text = validate::text("input.text", &input.text, MAX_CLAIM_TEXT)?;
    let slug = input
        .slug
        .as_deref()
        .map(|s| validate::slug("input.slug", s))
        .transpose()?;
    let topics = topic_list(&input.topic_ids)?;

    let txn = db.begin().await?;
    if let Some(slug) = &slug {
        ensure_unique::<claim::Entity, _>(&txn, claim::Column::Slug, slug, None, "input.slug")
            .await?;
    }
    ensure_topics(&txn, &topics).await?;
    let now = Utc::now();
    let model = claim::ActiveModel {
        id: Set(Uuid::now_v7()),
        text: Set(text),
        slug: Set(slug),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let topic_ids = set_topics(&txn, model.id, &topics).await?;
    audit::write(
        &txn,
        actor,
        claim::Entity::NAME,
        model.id,
        model.version,
        RevisionAction::Create,
        None,
        snapshot(&model, &topic_ids)?,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

#[instrument(skip(db))]
pub async fn update<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
    patch: ClaimPatch,
) -> ApiResult<claim::Model> {
    let text = patch
        .text
        .as_deref()
        .map(|t| validate::text("input.text", t, MAX_CLAIM_TEXT))
        .transpose()?;
    let slug = patch
        .slug
        .map(|s| {
            s.as_deref()
                .map(|s| validate::slug("input.slug", s))
                .transpose()
        })
        .transpose()?;
    let topics = patch.topic_ids.as_deref().map(topic_list).transpose()?;

    let txn = db.begin().await?;
    let before = record::lock_for_change::<claim::Entity, _>(&txn, id, version).await?;
    if let Some(Some(slug)) = &slug {
        ensure_unique::<claim::Entity, _>(&txn, claim::Column::Slug, slug, Some(id), "input.slug")
            .await?;
    }
    if let Some(topics) = &topics {
        ensure_topics(&txn, topics).await?;
    }
    let topics_before = topic_ids_of(&txn, id).await?;
    let mut active = before.clone().into_active_model();
    record::patch(&mut active.text, text);
    record::patch(&mut active.slug, slug);
    active.version = Set(before.version + 1);
    active.updated_at = Set(Utc::now());
    let after = active.update(&txn).await?;
    let topics_after = match &topics {
        Some(topics) => set_topics(&txn, id, topics).await?,
        None => topics_before.clone(),
    };
    audit::write(
        &txn,
        actor,
        claim::Entity::NAME,
        id,
        after.version,
        RevisionAction::Update,
        snapshot(&before, &topics_before)?,
        snapshot(&after, &topics_after)?,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes a claim that no live statement takes a stance on and no live verdict
/// rates. Its topic filing stays, so the revision and an undelete keep it.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<claim::Model> {
    let txn = db.begin().await?;
    // Written out rather than through `record::soft_delete` so the revision carries
    // the topics, like every other revision of a claim.
    let before = record::lock_for_change::<claim::Entity, _>(&txn, id, version).await?;
    ensure_no_stances(&txn, id).await?;
    record::ensure_unreferenced::<verdict::Entity, _>(
        &txn,
        verdict::Column::ClaimId,
        id,
        "verdicts",
    )
    .await?;
    let topic_ids = topic_ids_of(&txn, id).await?;
    let mut active = before.clone().into_active_model();
    active.deleted_at = Set(Some(Utc::now()));
    active.version = Set(before.version + 1);
    let after = active.update(&txn).await?;
    audit::write(
        &txn,
        actor,
        claim::Entity::NAME,
        id,
        after.version,
        RevisionAction::Delete,
        snapshot(&before, &topic_ids)?,
        snapshot(&after, &topic_ids)?,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Refuses (CONFLICT) while live statements take a stance on the claim. Stances have
/// no `deleted_at` of their own: they live and die with their statement.
async fn ensure_no_stances<C: ConnectionTrait>(db: &C, claim_id: Uuid) -> ApiResult<()> {
    let to_statement = stance::Entity::belongs_to(statement::Entity)
        .from(stance::Column::StatementId)
        .to(statement::Column::Id)
        .into();
    let count = stance::Entity::find()
        .join(JoinType::InnerJoin, to_statement)
        .filter(stance::Column::ClaimId.eq(claim_id))
        .filter(statement::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    if count > 0 {
        return Err(ApiError::Conflict {
            message: format!(
                "{count} statements take a stance on this claim; delete or move them first"
            ),
            field: Some("id".into()),
        });
    }
    Ok(())
}

/// Matches a claim whose text contains `part`, ignoring case.
pub fn text_matches(part: &str) -> Expr {
    let pattern = format!("%{}%", validate::escape_like(part));
    Expr::cust_with_values("claim.text ILIKE $1", [pattern])
}

/// Matches a claim filed under any of `topic_ids`.
pub fn in_topics(topic_ids: &[Uuid]) -> Expr {
    claim::Column::Id.in_subquery(
        Query::select()
            .column(claim_topic::Column::ClaimId)
            .from(claim_topic::Entity)
            .and_where(claim_topic::Column::TopicId.is_in(topic_ids.iter().copied()))
            .to_owned(),
    )
}
