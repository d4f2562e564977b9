//! DataLoaders: every object-to-object field loads through these, so a page of N
//! items costs one query per relation, not N (`WHERE id = ANY($1)`). The id list is
//! one array parameter, so each relation has one SQL text whatever the batch size,
//! prepared once per connection.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use std::str::FromStr;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, ModelTrait, QueryFilter,
    Select,
};
use uuid::Uuid;

use crate::error::ApiError;
use crate::service::{Record, model};
use entity::{
    appearance, claim_topic, link, speaker_role, stance, statement_topic, topic, verdict,
};

/// The batch loader over the connection pool. No cache: batches form within one
/// tick of one request, and nothing stale outlives it.
pub struct Db(pub DatabaseConnection);

pub type Loaders = DataLoader<Db>;

/// Most keys one batch query binds.
const MAX_BATCH_SIZE: usize = 500;

pub fn loaders(db: DatabaseConnection) -> Loaders {
    loaders_spawning(db, tokio::spawn)
}

/// Loaders whose batch tasks are started by `spawner` (to carry a request's span and
/// counters into them).
///
/// A batch starts without waiting: it holds the keys asked for before its task first
/// runs, and on the request's worker that is once every field pending at this depth
/// has been polled, so siblings still share one query. async-graphql's default 1 ms
/// wait added a millisecond per nesting level to every request, and a wake-up from
/// its timer thread.
pub fn loaders_spawning<S, R>(db: DatabaseConnection, spawner: S) -> Loaders
where
    S: Fn(futures::future::BoxFuture<'static, ()>) -> R + Send + Sync + 'static,
{
    DataLoader::new(Db(db), spawner)
        .max_batch_size(MAX_BATCH_SIZE)
        .delay(Duration::ZERO)
}

pub type LoadError = Arc<ApiError>;

/// A live record of `E` by id.
pub struct ById<E>(pub Uuid, PhantomData<fn() -> E>);

impl<E> ById<E> {
    pub fn new(id: Uuid) -> Self {
        Self(id, PhantomData)
    }
}

impl<E> Clone for ById<E> {
    fn clone(&self) -> Self {
        Self::new(self.0)
    }
}
impl<E> PartialEq for ById<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for ById<E> {}
impl<E> Hash for ById<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// The live records `ids` names, in the order of `ids` (ids of deleted or unknown
/// records left out): one batch through the request's loaders.
pub async fn in_order<E: Record>(
    ctx: &async_graphql::Context<'_>,
    ids: &[Uuid],
) -> crate::error::ApiResult<Vec<E::Model>> {
    let found = crate::graphql::loaders(ctx)
        .load_many(ids.iter().map(|id| ById::<E>::new(*id)))
        .await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(&ById::new(*id)).cloned())
        .collect())
}

/// The live records of `E` among `ids`, by id: one batch, as the `ById` loader runs
/// it. For rows whose page is already in hand (see `graphql::timeline`).
pub async fn live_by_ids<E: Record, C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, E::Model>, DbErr> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = E::live().filter(E::id_col().eq_any(ids)).all(db).await?;
    Ok(rows.into_iter().map(|row| (E::id_of(&row), row)).collect())
}

impl<E: Record> Loader<ById<E>> for Db {
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[ById<E>]) -> Result<HashMap<ById<E>, E::Model>, LoadError> {
        let rows = live_by_ids::<E, _>(&self.0, keys.iter().map(|k| k.0))
            .await
            .map_err(|e| Arc::new(ApiError::from(e)))?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (ById::new(id), row))
            .collect())
    }
}

/// A verdict as schema.org `ClaimReview`, built by PostgreSQL
/// ([`crate::service::verdict::claim_review_sql`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimReviewOf(pub Uuid);

impl Loader<ClaimReviewOf> for Db {
    type Value = serde_json::Value;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ClaimReviewOf],
    ) -> Result<HashMap<ClaimReviewOf, serde_json::Value>, LoadError> {
        use sea_orm::FromQueryResult;
        #[derive(FromQueryResult)]
        struct Review {
            id: Uuid,
            review: String,
        }
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let sql = crate::service::verdict::claim_review_sql("v.id = ANY($1)");
        let rows = Review::find_by_statement(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            sql,
            [ids.into()],
        ))
        .all(&self.0)
        .await
        .map_err(|e| Arc::new(ApiError::from(e)))?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_str(&r.review)
                    .map(|json| (ClaimReviewOf(r.id), json))
                    .map_err(|e| Arc::new(ApiError::Internal(format!("claim review: {e}"))))
            })
            .collect()
    }
}

/// A one-to-many relation of the read model: the children of a parent id, in the
/// relation's order.
pub trait HasMany: Send + Sync + 'static {
    type Child: EntityTrait<Model: Clone + Send + Sync>;
    const RELATION: &'static model::Children;

    /// The child's column holding the parent's id.
    fn parent_col() -> Result<<Self::Child as EntityTrait>::Column, ApiError> {
        <Self::Child as EntityTrait>::Column::from_str(Self::RELATION.parent).map_err(|_| {
            ApiError::Internal(format!(
                "{} has no column {}",
                Self::RELATION.table,
                Self::RELATION.parent
            ))
        })
    }

    /// Which children show to a viewer who sees unpublished records, in order.
    fn scope(select: Select<Self::Child>) -> Select<Self::Child> {
        Self::RELATION.scope(select)
    }
}

/// The children, under relation `R`, of one parent id.
pub struct Children<R>(pub Uuid, PhantomData<fn() -> R>);

impl<R> Children<R> {
    pub fn new(id: Uuid) -> Self {
        Self(id, PhantomData)
    }
}
impl<R> Clone for Children<R> {
    fn clone(&self) -> Self {
        Self::new(self.0)
    }
}
impl<R> PartialEq for Children<R> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<R> Eq for Children<R> {}
impl<R> Hash for Children<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<R: HasMany> Loader<Children<R>> for Db {
    type Value = Vec<<R::Child as EntityTrait>::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[Children<R>],
    ) -> Result<HashMap<Children<R>, Self::Value>, LoadError> {
        let parent = R::parent_col().map_err(Arc::new)?;
        let select = R::Child::find().filter(parent.eq_any(keys.iter().map(|k| k.0)));
        let rows = R::scope(select)
            .all(&self.0)
            .await
            .map_err(|e| Arc::new(ApiError::from(e)))?;
        let mut out: HashMap<Children<R>, Self::Value> = HashMap::new();
        for row in rows {
            if let sea_orm::Value::Uuid(Some(id)) = row.get(parent) {
                out.entry(Children::new(id)).or_default().push(row);
            }
        }
        Ok(out)
    }
}

macro_rules! has_many {
    ($($(#[$doc:meta])* $name:ident: $child:ident, $relation:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl HasMany for $name {
            type Child = $child::Entity;
            const RELATION: &'static model::Children = &model::$relation;
        }
    )*};
}

has_many! {
    /// A speaker's roles (see [`model::ROLES_OF_SPEAKER`]).
    RolesOfSpeaker: speaker_role, ROLES_OF_SPEAKER;
    /// A statement's stances.
    StancesOfStatement: stance, STANCES_OF_STATEMENT;
    /// Where a statement was reported.
    AppearancesOfStatement: appearance, APPEARANCES_OF_STATEMENT;
    /// Verdicts on a statement.
    VerdictsOfStatement: verdict, VERDICTS_OF_STATEMENT;
    /// Verdicts on a claim.
    VerdictsOfClaim: verdict, VERDICTS_OF_CLAIM;
    /// Links from a statement.
    LinksFrom: link, LINKS_FROM;
    /// Links to a statement.
    LinksTo: link, LINKS_TO;
    /// The topic ids a statement is filed under.
    TopicsOfStatement: statement_topic, TOPICS_OF_STATEMENT;
    /// The topic ids a claim is filed under.
    TopicsOfClaim: claim_topic, TOPICS_OF_CLAIM;
    /// A topic's live child topics.
    ChildrenOfTopic: topic, CHILDREN_OF_TOPIC;
}
