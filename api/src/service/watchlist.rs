//! Watchlists: an API key's saved lists of speakers, claims and topics. A watchlist
//! belongs to the key that made it; other keys (ADMIN included) do not see it, so a
//! newsroom's interests stay its own.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::service::event::Following;
use crate::service::record::ensure_exists;
use crate::service::validate;
use entity::{claim, speaker, topic, watchlist};

/// Most ids of one kind a watchlist holds.
pub const MAX_ITEMS: usize = 1000;

/// Most watchlists one key keeps.
pub const MAX_WATCHLISTS: u64 = 100;

/// What to add to (or take off) a watchlist.
#[derive(Debug, Clone, Default)]
pub struct Items {
    pub speaker_ids: Vec<Uuid>,
    pub claim_ids: Vec<Uuid>,
    pub topic_ids: Vec<Uuid>,
}

/// What a watchlist follows, as the event log matches it.
pub fn following(list: &watchlist::Model) -> Following {
    Following {
        speaker_ids: list.speaker_ids.clone(),
        claim_ids: list.claim_ids.clone(),
        topic_ids: list.topic_ids.clone(),
    }
}

fn owner(viewer: &Viewer) -> ApiResult<Uuid> {
    viewer
        .key
        .as_ref()
        .map(|k| k.key_id)
        .ok_or(ApiError::Unauthenticated)
}

/// The caller's watchlist `id`; NOT_FOUND for another key's.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<watchlist::Model> {
    let key = owner(viewer)?;
    watchlist::Entity::find_by_id(id)
        .filter(watchlist::Column::KeyId.eq(key))
        .one(db)
        .await?
        .ok_or(ApiError::not_found("watchlist"))
}

/// The caller's watchlists, by name.
pub async fn list<C: ConnectionTrait>(db: &C, viewer: &Viewer) -> ApiResult<Vec<watchlist::Model>> {
    let key = owner(viewer)?;
    Ok(watchlist::Entity::find()
        .filter(watchlist::Column::KeyId.eq(key))
        .order_by_asc(watchlist::Column::Name)
        .all(db)
        .await?)
}

/// Checks that every id names a live record, blaming `{field}.speakerIds[i]` and so on.
async fn check<C: ConnectionTrait>(db: &C, field: &str, items: &Items) -> ApiResult<()> {
    for (name, ids) in [
        ("speakerIds", &items.speaker_ids),
        ("claimIds", &items.claim_ids),
        ("topicIds", &items.topic_ids),
    ] {
        if ids.len() > MAX_ITEMS {
            return Err(ApiError::bad_input(
                format!("{field}.{name}"),
                format!("at most {MAX_ITEMS} ids"),
            ));
        }
    }
    for (i, id) in items.speaker_ids.iter().enumerate() {
        ensure_exists::<speaker::Entity, _>(db, *id, &format!("{field}.speakerIds[{i}]")).await?;
    }
    for (i, id) in items.claim_ids.iter().enumerate() {
        ensure_exists::<claim::Entity, _>(db, *id, &format!("{field}.claimIds[{i}]")).await?;
    }
    for (i, id) in items.topic_ids.iter().enumerate() {
        ensure_exists::<topic::Entity, _>(db, *id, &format!("{field}.topicIds[{i}]")).await?;
    }
    Ok(())
}

/// `existing` with `added`, each id once, in the order first given.
fn merged(existing: &[Uuid], added: &[Uuid]) -> ApiResult<Vec<Uuid>> {
    let mut out = existing.to_vec();
    for id in added {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    if out.len() > MAX_ITEMS {
        return Err(ApiError::bad_input(
            "input",
            format!("a watchlist holds at most {MAX_ITEMS} ids of each kind"),
        ));
    }
    Ok(out)
}

/// Makes a watchlist for the caller's key. A name the key already uses is a CONFLICT.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    name: &str,
    items: Items,
) -> ApiResult<watchlist::Model> {
    let key = owner(viewer)?;
    let name = validate::text("input.name", name, 200)?;
    let txn = db.begin().await?;
    // One creation at a time per key, so that concurrent ones cannot all pass the cap.
    crate::service::jobs::lock(&txn, &format!("claimtrack.watchlists.{key}")).await?;
    let kept = sea_orm::PaginatorTrait::count(
        watchlist::Entity::find().filter(watchlist::Column::KeyId.eq(key)),
        &txn,
    )
    .await?;
    if kept >= MAX_WATCHLISTS {
        return Err(ApiError::bad_input(
            "input",
            format!("a key keeps at most {MAX_WATCHLISTS} watchlists"),
        ));
    }
    check(&txn, "input", &items).await?;
    let taken = watchlist::Entity::find()
        .filter(watchlist::Column::KeyId.eq(key))
        .filter(watchlist::Column::Name.eq(name.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(ApiError::Conflict {
            message: format!("this key already has a watchlist named {name:?}"),
            field: Some("input.name".into()),
        });
    }
    let now = Utc::now();
    let model = watchlist::ActiveModel {
        id: Set(Uuid::now_v7()),
        key_id: Set(key),
        name: Set(name),
        speaker_ids: Set(merged(&[], &items.speaker_ids)?),
        claim_ids: Set(merged(&[], &items.claim_ids)?),
        topic_ids: Set(merged(&[], &items.topic_ids)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict {
            message: "this key already has a watchlist of that name".into(),
            field: Some("input.name".into()),
        },
        _ => e.into(),
    })?;
    txn.commit().await?;
    Ok(model)
}

/// Adds ids to one of the caller's watchlists (ids already on it stay once). Two
/// additions at once both land: the row is locked while it changes.
pub async fn add<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    id: Uuid,
    items: Items,
) -> ApiResult<watchlist::Model> {
    let txn = db.begin().await?;
    check(&txn, "input", &items).await?;
    let key = owner(viewer)?;
    let list = watchlist::Entity::find_by_id(id)
        .filter(watchlist::Column::KeyId.eq(key))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::unknown_reference("watchlist", "input.watchlistId"))?;
    let mut active: watchlist::ActiveModel = list.clone().into();
    active.speaker_ids = Set(merged(&list.speaker_ids, &items.speaker_ids)?);
    active.claim_ids = Set(merged(&list.claim_ids, &items.claim_ids)?);
    active.topic_ids = Set(merged(&list.topic_ids, &items.topic_ids)?);
    active.updated_at = Set(Utc::now());
    let model = active.update(&txn).await?;
    txn.commit().await?;
    Ok(model)
}

/// Takes ids off one of the caller's watchlists.
pub async fn remove<C: ConnectionTrait>(
    db: &C,
    viewer: &Viewer,
    id: Uuid,
    items: Items,
) -> ApiResult<watchlist::Model> {
    let key = owner(viewer)?;
    let strip = |column: &str, ids: &[Uuid]| {
        Expr::cust_with_values(
            format!("ARRAY(SELECT x FROM unnest({column}) x WHERE x <> ALL($1))"),
            [ids.to_vec()],
        )
    };
    let updated = watchlist::Entity::update_many()
        .col_expr(
            watchlist::Column::SpeakerIds,
            strip("speaker_ids", &items.speaker_ids),
        )
        .col_expr(
            watchlist::Column::ClaimIds,
            strip("claim_ids", &items.claim_ids),
        )
        .col_expr(
            watchlist::Column::TopicIds,
            strip("topic_ids", &items.topic_ids),
        )
        .col_expr(watchlist::Column::UpdatedAt, Expr::current_timestamp())
        .filter(watchlist::Column::Id.eq(id))
        .filter(watchlist::Column::KeyId.eq(key))
        .exec_with_returning(db)
        .await?;
    updated
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::unknown_reference("watchlist", "input.watchlistId"))
}

/// Deletes one of the caller's watchlists. One a webhook delivers from is a CONFLICT:
/// delete the webhook first.
pub async fn delete<C: ConnectionTrait>(db: &C, viewer: &Viewer, id: Uuid) -> ApiResult<bool> {
    let key = owner(viewer)?;
    let done = watchlist::Entity::delete_many()
        .filter(watchlist::Column::Id.eq(id))
        .filter(watchlist::Column::KeyId.eq(key))
        .exec(db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::Conflict {
                message: "a webhook delivers this watchlist's events; delete the webhook first"
                    .into(),
                field: Some("id".into()),
            },
            _ => e.into(),
        })?;
    if done.rows_affected == 0 {
        return Err(ApiError::unknown_reference("watchlist", "id"));
    }
    Ok(true)
}
