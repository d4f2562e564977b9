//! What every editable table shares: a uuid id, an optimistic-concurrency `version`
//! and a soft-delete `deleted_at`. Generic lookups, version checks and deletes live
//! here so each resource spells only its own rules.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, Select,
};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use entity::RevisionAction;

/// An editable table: uuid primary key, `version`, `deleted_at`.
pub trait Record:
    EntityTrait<Model: Serialize + Clone + IntoActiveModel<Self::ActiveModel> + Send + Sync>
{
    /// The table's name, used in revisions and error messages.
    const NAME: &'static str;
    fn id_col() -> Self::Column;
    fn version_col() -> Self::Column;
    fn deleted_col() -> Self::Column;
    fn updated_col() -> Self::Column;
    fn id_of(model: &Self::Model) -> Uuid;
    fn version_of(model: &Self::Model) -> i32;

    /// Rows not soft-deleted.
    fn live() -> Select<Self> {
        Self::find().filter(Self::deleted_col().is_null())
    }
}

macro_rules! record {
    ($($module:ident),* $(,)?) => {$(
        impl Record for entity::$module::Entity {
            const NAME: &'static str = stringify!($module);
            fn id_col() -> Self::Column { entity::$module::Column::Id }
            fn version_col() -> Self::Column { entity::$module::Column::Version }
            fn deleted_col() -> Self::Column { entity::$module::Column::DeletedAt }
            fn updated_col() -> Self::Column { entity::$module::Column::UpdatedAt }
            fn id_of(model: &Self::Model) -> Uuid { model.id }
            fn version_of(model: &Self::Model) -> i32 { model.version }
        }
    )*};
}

record!(
    speaker,
    speaker_role,
    outlet,
    article,
    claim,
    topic,
    statement,
    appearance,
    verdict,
    link
);

/// The live record with this id, or NOT_FOUND.
pub async fn find_live<E: Record, C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<E::Model> {
    E::live()
        .filter(E::id_col().eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::not_found(E::NAME))
}

/// For reads: checks that an id names a live record, without locking it.
pub async fn ensure_live<E: Record, C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    field: &str,
) -> ApiResult<()> {
    match E::live().filter(E::id_col().eq(id)).one(db).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::unknown_reference(E::NAME, field)),
    }
}

/// Checks that an id given in the input names a live record, for a write that will
/// refer to it; `field` is the input field to blame when it does not.
///
/// The record is locked `FOR KEY SHARE` for the rest of the transaction: a delete of
/// it (which locks it `FOR UPDATE`, then looks for what refers to it) waits for this
/// write and then sees what it wrote, or this write waits for the delete and then
/// finds the record gone. Without the lock both would pass their checks and a live
/// record would refer to a deleted one.
pub async fn ensure_exists<E: Record, C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    field: &str,
) -> ApiResult<()> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::LockType;
    let found = E::live()
        .filter(E::id_col().eq(id))
        .lock(LockType::KeyShare)
        .one(db)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::unknown_reference(E::NAME, field)),
    }
}

/// Loads the live record for an update or delete, locking it for the rest of the
/// transaction and refusing a stale `version` with CONFLICT.
pub async fn lock_for_change<E: Record, C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    version: i32,
) -> ApiResult<E::Model> {
    use sea_orm::QuerySelect;
    let current = E::live()
        .filter(E::id_col().eq(id))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(ApiError::not_found(E::NAME))?;
    let at = E::version_of(&current);
    if at != version {
        return Err(ApiError::stale_version(E::NAME, at));
    }
    Ok(current)
}

/// Sets a field of an update when the patch gives it a value.
pub fn patch<V: Into<sea_orm::Value>>(field: &mut sea_orm::ActiveValue<V>, value: Option<V>) {
    if let Some(v) = value {
        *field = sea_orm::ActiveValue::Set(v);
    }
}

/// Saves the changes made to a record locked by [`lock_for_change`]: bumps its
/// version, stamps `updated_at` and writes the UPDATE revision.
pub async fn save_update<E, C>(
    txn: &C,
    actor: &Actor,
    before: &E::Model,
    mut active: E::ActiveModel,
) -> ApiResult<E::Model>
where
    E: Record,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    C: ConnectionTrait,
{
    active.set(E::version_col(), (E::version_of(before) + 1).into());
    active.set(E::updated_col(), Utc::now().into());
    let after = active.update(txn).await?;
    audit::record::<E, _>(
        txn,
        actor,
        RevisionAction::Update,
        Some(before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// Soft-deletes a record read at `version`, inside the caller's transaction: it
/// disappears from every list and lookup, and its revision keeps what it was.
pub async fn soft_delete<E: Record, C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
) -> ApiResult<E::Model> {
    let before = lock_for_change::<E, _>(txn, id, version).await?;
    let after = E::update_many()
        .col_expr(E::deleted_col(), Expr::current_timestamp())
        .col_expr(E::version_col(), Expr::col(E::version_col()).add(1))
        .filter(E::id_col().eq(id))
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::not_found(E::NAME))?;
    audit::record::<E, _>(
        txn,
        actor,
        RevisionAction::Delete,
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(after)
}

/// Refuses a value of a unique column already held by another live record, naming
/// the input field. The partial unique index still guards against a racing writer.
pub async fn ensure_unique<E: Record, C: ConnectionTrait>(
    db: &C,
    column: E::Column,
    value: &str,
    except: Option<Uuid>,
    field: &str,
) -> ApiResult<()> {
    let mut query = E::live().filter(column.eq(value));
    if let Some(id) = except {
        query = query.filter(E::id_col().ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(ApiError::bad_input(
            field,
            format!("`{value}` is already used by another {}", E::NAME),
        ));
    }
    Ok(())
}

/// Refuses to delete a record that live records still refer to.
pub async fn ensure_unreferenced<E: Record, C: ConnectionTrait>(
    db: &C,
    column: E::Column,
    id: Uuid,
    what: &str,
) -> ApiResult<()> {
    use sea_orm::PaginatorTrait;
    let count = E::live().filter(column.eq(id)).count(db).await?;
    if count > 0 {
        return Err(ApiError::Conflict {
            message: format!("still referred to by {count} {what}; delete or move them first"),
            field: Some("id".into()),
        });
    }
    Ok(())
}
