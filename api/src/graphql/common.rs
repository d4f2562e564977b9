//! Inputs and payloads every resource shares.

use async_graphql::{ID, InputObject, SimpleObject};

/// Deletes a record read at `version`. The delete is soft: the record disappears from
/// every lookup and list, and its revisions keep what it was (ADMIN's `purgeRecord`
/// removes it for good). A stale version is a CONFLICT; an unknown or already deleted
/// id is NOT_FOUND.
#[derive(InputObject, Debug)]
pub struct DeleteInput {
    /// The id of the record to delete.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
}

/// What a delete did.
#[derive(SimpleObject, Debug)]
pub struct DeletePayload {
    /// The id of the record deleted, as given.
    pub deleted_id: ID,
    /// The record's version after deletion (the version read plus one); its DELETE
    /// revision in `revisions(entityId:)` carries it, and `purgeRecord` takes it.
    pub version: i32,
}

/// Looks a record up by exactly one of `id` and `slug`; with `as_of`, as it stood
/// then (rebuilt from its revisions).
pub async fn lookup<E>(
    ctx: &async_graphql::Context<'_>,
    id: Option<ID>,
    slug: Option<String>,
    slug_col: E::Column,
    as_of: Option<chrono::DateTime<chrono::Utc>>,
) -> crate::error::ApiResult<Option<E::Model>>
where
    E: crate::service::Record,
    E::Model: serde::de::DeserializeOwned,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let db = crate::graphql::db(ctx);
    match (id, slug, as_of) {
        (Some(id), None, None) => {
            let id = crate::graphql::scalars::uuid("id", &id)?;
            Ok(E::live().filter(E::id_col().eq(id)).one(db).await?)
        }
        (None, Some(slug), None) => Ok(E::live().filter(slug_col.eq(slug)).one(db).await?),
        (Some(id), None, Some(at)) => {
            crate::service::as_of::record(db, crate::graphql::scalars::uuid("id", &id)?, at).await
        }
        (None, Some(slug), Some(at)) => {
            crate::service::as_of::by_slug(db, E::NAME, &slug, at).await
        }
        _ => Err(crate::error::ApiError::bad_input(
            "id",
            "give exactly one of `id` and `slug`",
        )),
    }
}
