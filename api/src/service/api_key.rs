//! API keys: made, listed and revoked here, by the command line and by admins over
//! GraphQL. Creation and revocation write revisions like every other change; the
//! secret never reaches the database, a revision or a log.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use crate::auth::secret::{self, NewKey};
use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::validate;
use entity::{ApiRole, RevisionAction, api_key};

const ENTITY: &str = "api_key";

/// A key just made: the stored record and the whole key, to show once.
pub struct Created {
    pub key: api_key::Model,
    pub token: String,
}

/// Makes a key. The returned token is the only copy of its secret.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    name: &str,
    role: ApiRole,
) -> ApiResult<Created> {
    let name = validate::text("input.name", name, 200)?;
    let new = NewKey::generate().map_err(|e| ApiError::Internal(format!("random: {e}")))?;
    let now = Utc::now();
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        role: Set(role),
        prefix: Set(new.prefix.clone()),
        secret_hash: Set(new.secret_hash.to_vec()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = db.begin().await?;
    let key = model.insert(&txn).await?;
    revision(&txn, actor, &key, 1, RevisionAction::Create, None).await?;
    txn.commit().await?;
    Ok(Created {
        key,
        token: new.token,
    })
}

/// Every key, newest first (revoked ones included: they explain old revisions).
pub async fn list<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// Finds a key by its id or its public prefix.
pub async fn find<C: ConnectionTrait>(db: &C, id_or_prefix: &str) -> ApiResult<api_key::Model> {
    let query = if let Ok(id) = Uuid::parse_str(id_or_prefix) {
        api_key::Entity::find_by_id(id)
    } else if secret::is_prefix(id_or_prefix) {
        api_key::Entity::find().filter(api_key::Column::Prefix.eq(id_or_prefix))
    } else {
        return Err(ApiError::bad_input(
            "id",
            "give the key's id or its 12-digit prefix",
        ));
    };
    query.one(db).await?.ok_or(ApiError::not_found("api key"))
}

/// Revokes a key; revoking a revoked key changes nothing and says so by returning it
/// as it was.
pub async fn revoke<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<api_key::Model> {
    let txn = db.begin().await?;
    let before = api_key::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ApiError::not_found("api key"))?;
    if before.revoked_at.is_some() {
        txn.commit().await?;
        return Ok(before);
    }
    let now = Utc::now();
    let mut active = before.clone().into_active_model();
    active.revoked_at = Set(Some(now));
    active.updated_at = Set(now);
    let after = active.update(&txn).await?;
    revision(
        &txn,
        actor,
        &after,
        2,
        RevisionAction::Update,
        Some(&before),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Records when keys were last used, in one statement for many keys. Called from a
/// timer, never per request; a later time never goes back.
pub async fn touch<C: ConnectionTrait>(db: &C, used: &[(Uuid, DateTime<Utc>)]) -> ApiResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    let (ids, times): (Vec<Uuid>, Vec<DateTime<Utc>>) = used.iter().copied().unzip();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE api_key SET last_used_at = u.at \
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) \
         WHERE api_key.id = u.id AND (api_key.last_used_at IS NULL OR api_key.last_used_at < u.at)",
        [ids.into(), times.into()],
    ))
    .await?;
    Ok(())
}

/// The keys a verifier may accept: not revoked.
pub async fn active<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::RevokedAt.is_null())
        .all(db)
        .await?)
}

/// The active key with this prefix, if any.
pub async fn active_by_prefix<C: ConnectionTrait>(
    db: &C,
    prefix: &str,
) -> ApiResult<Option<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

async fn revision<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    key: &api_key::Model,
    version: i32,
    action: RevisionAction,
    before: Option<&api_key::Model>,
) -> ApiResult<()> {
    audit::write(
        db,
        actor,
        ENTITY,
        key.id,
        version,
        action,
        audit::snapshot(before)?,
        audit::snapshot(Some(key))?,
    )
    .await
}
