//! Who is calling (`viewer`), and the admin's view of API keys: list, create (the
//! secret is returned once), revoke.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::auth::{KeyStore, Role};
use crate::error::ApiError;
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::scalars::uuid;
use crate::graphql::{actor, db, viewer};
use crate::service;
use entity::api_key;

const KEYS_CURSOR: &str = "api_keys";

/// What a key may do; each role includes the ones before it.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "entity::ApiRole")]
pub enum ApiRole {
    /// Reads published data, under the key's own rate limit.
    Reader,
    /// Writes, and sees drafts and suggestions.
    Editor,
    /// Also manages keys and removes records for good.
    Admin,
}

/// A caller's role: a key's, or ANONYMOUS without one. Each role may do everything the ones
/// before it may.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ViewerRole {
    /// No key: reads published data, when the server allows anonymous reading (it does by
    /// default).
    Anonymous,
    /// A READER key: reads what ANONYMOUS callers read, under the key's own rate limit.
    Reader,
    /// An EDITOR key: also writes, and sees unpublished verdicts, suggested links and
    /// revisions.
    Editor,
    /// An ADMIN key: also manages API keys and purges records for good.
    Admin,
}

impl From<Role> for ViewerRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Anonymous => Self::Anonymous,
            Role::Reader => Self::Reader,
            Role::Editor => Self::Editor,
            Role::Admin => Self::Admin,
        }
    }
}

/// The caller of this request.
pub struct Viewer(crate::auth::Viewer);

/// The caller of this request: its role and key.
#[Object]
impl Viewer {
    /// The caller's role; ANONYMOUS when the request carries no key.
    async fn role(&self) -> ViewerRole {
        self.0.role.into()
    }
    /// The name of the key the request was made with; null for ANONYMOUS.
    async fn key_name(&self) -> Option<&str> {
        self.0.key.as_ref().map(|k| k.key_name.as_str())
    }
    /// The public prefix of that key (`ct_<prefix>_…`); null for ANONYMOUS.
    async fn key_prefix(&self) -> Option<&str> {
        self.0.key.as_ref().map(|k| k.prefix.as_str())
    }
    /// Whether unpublished verdicts, suggested and dismissed links, and revisions are
    /// visible to this caller: true for EDITOR and ADMIN.
    async fn sees_unpublished(&self) -> bool {
        self.0.sees_unpublished()
    }
}

/// An API key. Its secret is never stored; only the public prefix identifies it.
pub struct ApiKey(pub api_key::Model);

/// An API key. Its secret is never stored; only the public prefix identifies it. ADMIN
/// callers list and manage keys; EDITOR and ADMIN see the key behind each revision.
#[Object]
impl ApiKey {
    /// Stable identifier (UUID v7, time-ordered). Use it in `revokeApiKey`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who or what the key is for, such as "Newsroom dashboard".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the key may do: READER, EDITOR or ADMIN.
    async fn role(&self) -> ApiRole {
        self.0.role.into()
    }
    /// The public part of the key (`ct_<prefix>_…`).
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// When the key was last used (UTC), to within a few seconds; null when it never was.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When the key was revoked (UTC); null while it is active. Requests with a revoked key
    /// fail.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// When the key was made (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// Who is calling: the role and key of this request. Always open, even when anonymous
    /// reading is off.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(viewer(ctx).clone())
    }

    /// Every API key, newest first, revoked ones included. Needs an ADMIN key.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after: `pageInfo.endCursor` of the previous page of this list (opaque). This list pages forward only."
        )]
        after: Option<String>,
    ) -> Result<Conn<ApiKey>> {
        let limit = pagination::forward_limit(first)?;
        let after: Option<Uuid> = after
            .as_deref()
            .map(|c| pagination::decode_key("after", KEYS_CURSOR, c))
            .transpose()?;
        let mut select = api_key::Entity::find();
        if let Some(after) = after {
            select = select.filter(api_key::Column::Id.lt(after));
        }
        let rows = select
            .order_by_desc(api_key::Column::Id)
            .limit(limit as u64 + 1)
            .all(db(ctx))
            .await
            .map_err(ApiError::from)?;
        let total = TotalCount::from_statement(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT COUNT(*) FROM api_key",
        ));
        Ok(pagination::forward_connection(
            KEYS_CURSOR,
            rows,
            limit,
            after.is_some(),
            total,
            |row| row.id,
            ApiKey,
        ))
    }
}

/// A new API key; the payload shows its secret, once.
#[derive(InputObject, Debug)]
pub struct CreateApiKeyInput {
    /// Who or what the key is for ("Newsroom dashboard"): non-empty after trimming, at most
    /// 200 characters.
    pub name: String,
    /// What the key may do: READER, EDITOR or ADMIN.
    pub role: ApiRole,
}

/// The API key to revoke.
#[derive(InputObject, Debug)]
pub struct RevokeApiKeyInput {
    /// The key's id (not its prefix); an unknown one is NOT_FOUND.
    pub id: ID,
}

pub struct CreateApiKeyPayload(service::api_key::Created);

/// The result of `createApiKey`: the key, and its secret shown this once.
#[Object]
impl CreateApiKeyPayload {
    /// The key as stored, without its secret.
    async fn api_key(&self) -> ApiKey {
        ApiKey(self.0.key.clone())
    }
    /// The whole key, `ct_<prefix>_<secret>`. Shown this once: store it now.
    async fn secret(&self) -> &str {
        &self.0.token
    }
}

pub struct RevokeApiKeyPayload(api_key::Model);

/// The result of `revokeApiKey`.
#[Object]
impl RevokeApiKeyPayload {
    /// The key with its `revokedAt`. Revoking a revoked key changes nothing and returns it
    /// as it was.
    async fn api_key(&self) -> ApiKey {
        ApiKey(self.0.clone())
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Makes a key; its secret is in the payload and nowhere else. Needs an ADMIN key.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's name and role.")] input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        let created =
            service::api_key::create(db(ctx), &actor(ctx), &input.name, input.role.into()).await?;
        ctx.data_unchecked::<KeyStore>().admit(&created.key);
        Ok(CreateApiKeyPayload(created))
    }

    /// Revokes a key: requests made with it fail from now on. Needs an ADMIN key.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key to revoke.")] input: RevokeApiKeyInput,
    ) -> Result<RevokeApiKeyPayload> {
        let id = uuid("input.id", &input.id)?;
        let key = service::api_key::revoke(db(ctx), &actor(ctx), id).await?;
        ctx.data_unchecked::<KeyStore>().forget(&key.prefix);
        Ok(RevokeApiKeyPayload(key))
    }
}
