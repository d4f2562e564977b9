//! Topics: subject headings forming a tree through `parent_id`. Slugs are unique among
//! live topics; a parent must exist and never lies below its child (no cycles); a
//! topic with live child topics cannot be deleted.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, IntoActiveModel, Statement,
    TransactionSession, TransactionTrait,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::record::{self, ensure_unique};
use crate::service::validate;
use entity::{RevisionAction, topic};

/// Longest topic name, in characters.
pub const MAX_TOPIC_NAME: usize = 200;

#[derive(Debug, Clone)]
pub struct NewTopic {
    pub name: String,
    /// Made from the name when not given.
    pub slug: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TopicPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
}

#[instrument(skip(db))]
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: NewTopic,
) -> ApiResult<topic::Model> {
    let name = validate::text("input.name", &input.name, MAX_TOPIC_NAME)?;
    let slug = validate::slug_or_from("input.slug", input.slug.as_deref(), &name)?;

    let txn = db.begin().await?;
    ensure_unique::<topic::Entity, _>(&txn, topic::Column::Slug, &slug, None, "input.slug").await?;
    if let Some(parent) = input.parent_id {
        record::ensure_exists::<topic::Entity, _>(&txn, parent, "input.parentId").await?;
    }
    let now = Utc::now();
    let model = topic::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        slug: Set(slug),
        parent_id: Set(input.parent_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record::<topic::Entity, _>(&txn, actor, RevisionAction::Create, None, Some(&model))
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
    patch: TopicPatch,
) -> ApiResult<topic::Model> {
    let name = patch
        .name
        .as_deref()
        .map(|n| validate::text("input.name", n, MAX_TOPIC_NAME))
        .transpose()?;
    let slug = patch
        .slug
        .as_deref()
        .map(|s| validate::slug("input.slug", s))
        .transpose()?;
    if patch.parent_id == Some(Some(id)) {
        return Err(ApiError::bad_input(
            "input.parentId",
            "a topic cannot be its own parent",
        ));
    }

    let txn = db.begin().await?;
    let before = record::lock_for_change::<topic::Entity, _>(&txn, id, version).await?;
    if let Some(slug) = &slug {
        ensure_unique::<topic::Entity, _>(&txn, topic::Column::Slug, slug, Some(id), "input.slug")
            .await?;
    }
    if let Some(Some(parent)) = patch.parent_id {
        record::ensure_exists::<topic::Entity, _>(&txn, parent, "input.parentId").await?;
        ensure_not_below(&txn, id, parent).await?;
    }
    let mut active = before.clone().into_active_model();
    record::patch(&mut active.name, name);
    record::patch(&mut active.slug, slug);
    record::patch(&mut active.parent_id, patch.parent_id);
    let after = record::save_update::<topic::Entity, _>(&txn, actor, &before, active).await?;
    txn.commit().await?;
    Ok(after)
}

/// Soft-deletes a topic that has no live child topics.
#[instrument(skip(db))]
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<topic::Model> {
    let txn = db.begin().await?;
    let deleted = record::soft_delete::<topic::Entity, _>(&txn, actor, id, version).await?;
    record::ensure_unreferenced::<topic::Entity, _>(
        &txn,
        topic::Column::ParentId,
        id,
        "child topics",
    )
    .await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Refuses `parent` as the new parent of `id` when walking up from `parent` reaches
/// `id`: the tree would become a cycle.
///
/// Two concurrent moves could each pass this check and together close a cycle, so
/// every re-parenting first takes one transaction-scoped advisory lock: moves queue
/// behind each other and each sees the tree the previous one committed.
async fn ensure_not_below<C: ConnectionTrait>(txn: &C, id: Uuid, parent: Uuid) -> ApiResult<()> {
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('claimtrack.topic_tree'))")
        .await?;
    // UNION (not UNION ALL) stops the walk even if the stored tree had a cycle.
    let sql = r#"
        WITH RECURSIVE up (id, parent_id) AS (
            SELECT id, parent_id FROM topic WHERE id = $1
          UNION
            SELECT t.id, t.parent_id FROM topic t JOIN up ON t.id = up.parent_id
        )
        SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS cycle
    "#;
    let statement =
        Statement::from_sql_and_values(DbBackend::Postgres, sql, [parent.into(), id.into()]);
    let cycle = match txn.query_one_raw(statement).await? {
        Some(row) => row.try_get::<bool>("", "cycle")?,
        None => false,
    };
    if cycle {
        return Err(ApiError::bad_input(
            "input.parentId",
            "this topic lies above the chosen parent; moving it there would make a cycle",
        ));
    }
    Ok(())
}
