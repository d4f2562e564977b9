//! The audit trail of one record, for editors: every version, who made it (the API
//! key) and when, with the record before and after.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::ApiError;
use crate::graphql::api_key::ApiKey;
use crate::graphql::db;
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::scalars::uuid;
use entity::{api_key, revision};

const REVISIONS_CURSOR: &str = "revisions";

/// What a change did to a record.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::RevisionAction")]
pub enum RevisionAction {
    /// The record was created; `before` is null, `after` holds it.
    Create,
    /// The record was changed; `before` and `after` hold it as it was and as it became.
    Update,
    /// A soft delete: the record is hidden, its content kept (`after` carries its
    /// `deleted_at`).
    Delete,
    /// A hard delete by an ADMIN: the record is gone and its other revisions' content
    /// blanked; `reason` says why.
    Purge,
}

/// One change to one record.
pub struct Revision {
    row: revision::Model,
    key: Option<Arc<api_key::Model>>,
}

/// One change to one record, from the append-only audit trail written in the same
/// transaction as the change. Visible to EDITOR and ADMIN only, through `revisions`.
#[Object]
impl Revision {
    /// Stable identifier (UUID v7, time-ordered).
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// The table the record lives in: `speaker`, `speaker_role`, `outlet`, `article`,
    /// `claim`, `topic`, `statement`, `appearance`, `verdict`, `link` or `api_key`.
    async fn entity_type(&self) -> &str {
        &self.row.entity_type
    }
    /// The id of the record changed.
    async fn entity_id(&self) -> ID {
        ID(self.row.entity_id.to_string())
    }
    /// The record's version after this change.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// What the change did: CREATE, UPDATE, DELETE or PURGE.
    async fn action(&self) -> RevisionAction {
        self.row.action.into()
    }
    /// The key the change was made with; null for changes made by the service itself (demo
    /// data, command-line tools).
    async fn actor_key(&self) -> Option<ApiKey> {
        self.key.as_deref().cloned().map(ApiKey)
    }
    /// When the change was made (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// The record before the change, as JSON with the database's column names (a
    /// statement's also lists its `stances` and `topic_ids`, a claim's its `topic_ids`).
    /// Null for CREATE and PURGE, and once a purge blanked it (see `redactedAt`).
    async fn before(&self) -> Option<&serde_json::Value> {
        self.row.before.as_ref()
    }
    /// The record after the change, in the same form as `before`. Null for PURGE, and once
    /// a purge blanked it.
    async fn after(&self) -> Option<&serde_json::Value> {
        self.row.after.as_ref()
    }
    /// Why the record was purged (PURGE revisions only); null otherwise.
    async fn reason(&self) -> Option<&str> {
        self.row.reason.as_deref()
    }
    /// When a purge blanked this revision's `before` and `after`; null while they are
    /// intact.
    async fn redacted_at(&self) -> Option<DateTime<Utc>> {
        self.row.redacted_at
    }
}

#[derive(Default)]
pub struct RevisionQuery;

#[Object]
impl RevisionQuery {
    /// The audit trail of one record, oldest change first (by version), paged forward;
    /// deleted and purged records keep theirs. Empty for an id nothing was recorded for.
    /// Needs an EDITOR or ADMIN key.
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The id of any record: speaker, role, outlet, article, claim, topic, statement, appearance, verdict, link or API key."
        )]
        entity_id: ID,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after: `pageInfo.endCursor` of the previous page of this list (opaque). This list pages forward only."
        )]
        after: Option<String>,
    ) -> Result<Conn<Revision>> {
        let entity_id = uuid("entityId", &entity_id)?;
        let limit = pagination::forward_limit(first)?;
        let after: Option<i32> = after
            .as_deref()
            .map(|c| pagination::decode_key("after", REVISIONS_CURSOR, c))
            .transpose()?;
        let mut select = revision::Entity::find().filter(revision::Column::EntityId.eq(entity_id));
        if let Some(version) = after {
            select = select.filter(revision::Column::Version.gt(version));
        }
        let rows = select
            .order_by_asc(revision::Column::Version)
            .limit(limit as u64 + 1)
            .all(db(ctx))
            .await
            .map_err(ApiError::from)?;
        let keys = actor_keys(ctx, &rows).await?;
        let total = TotalCount::from_statement(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT COUNT(*) FROM revision WHERE entity_id = $1",
            [entity_id.into()],
        ));
        Ok(pagination::forward_connection(
            REVISIONS_CURSOR,
            rows,
            limit,
            after.is_some(),
            total,
            |row| row.version,
            |row| Revision {
                key: row.actor_key_id.and_then(|id| keys.get(&id).cloned()),
                row,
            },
        ))
    }
}

/// The keys that made these revisions, in one query.
async fn actor_keys(
    ctx: &Context<'_>,
    rows: &[revision::Model],
) -> Result<HashMap<uuid::Uuid, Arc<api_key::Model>>> {
    let ids: Vec<_> = rows.iter().filter_map(|r| r.actor_key_id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(api_key::Entity::find()
        .filter(api_key::Column::Id.is_in(ids))
        .all(db(ctx))
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|k| (k.id, Arc::new(k)))
        .collect())
}
