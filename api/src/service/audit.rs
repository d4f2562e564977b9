//! The audit trail: every change writes one `revision` row, in the same transaction
//! as the change, with the record before and after as JSON.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::Record;
use entity::{RevisionAction, revision};

/// Who makes a change: the API key behind the request, when there is one.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub key_id: Option<Uuid>,
}

impl Actor {
    /// Changes made by the service itself (demo data, imports from the command line).
    pub fn system() -> Self {
        Self::default()
    }
}

/// Writes the revision of one change to a record of `E`.
pub async fn record<E: Record, C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: RevisionAction,
    before: Option<&E::Model>,
    after: Option<&E::Model>,
) -> ApiResult<()> {
    let current = after
        .or(before)
        .ok_or_else(|| ApiError::Internal("revision without a record".into()))?;
    write(
        db,
        actor,
        E::NAME,
        E::id_of(current),
        E::version_of(current),
        action,
        snapshot(before)?,
        snapshot(after)?,
    )
    .await
}

/// Writes a revision for a record whose snapshot carries more than its own row (a
/// statement with its stances and topics).
#[expect(
    clippy::too_many_arguments,
    reason = "one column each; a struct would only rename them"
)]
pub async fn write<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    entity_type: &str,
    entity_id: Uuid,
    version: i32,
    action: RevisionAction,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ApiResult<()> {
    let mut row = row(actor, entity_type, entity_id, version, action);
    row.before = Set(before);
    row.after = Set(after);
    revision::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Writes the PURGE revision of a record whose row is gone: no content, the reason.
pub async fn purged<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    entity_type: &str,
    entity_id: Uuid,
    version: i32,
    reason: &str,
) -> ApiResult<()> {
    let mut row = row(
        actor,
        entity_type,
        entity_id,
        version,
        RevisionAction::Purge,
    );
    row.reason = Set(Some(reason.to_owned()));
    revision::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A revision without content, stamped now.
fn row(
    actor: &Actor,
    entity_type: &str,
    entity_id: Uuid,
    version: i32,
    action: RevisionAction,
) -> revision::ActiveModel {
    let now = Utc::now();
    revision::ActiveModel {
        id: Set(Uuid::now_v7()),
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(entity_id),
        version: Set(version),
        action: Set(action),
        actor_key_id: Set(actor.key_id),
        before: Set(None),
        after: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        reason: Set(None),
        redacted_at: Set(None),
    }
}

pub fn snapshot<T: Serialize>(value: Option<&T>) -> ApiResult<Option<serde_json::Value>> {
    value
        .map(|v| serde_json::to_value(v).map_err(|e| ApiError::Internal(format!("snapshot: {e}"))))
        .transpose()
}
