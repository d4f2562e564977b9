//! The event log: what changed, in the order every reader sees it.
//!
//! Events are written by the database itself, in the transaction of their change, and
//! numbered (`pos`) as that transaction commits, in commit order (see migration
//! `000014`): this module only reads them. `pos` order never changes once read, so a
//! subscriber catching up from the table and one following live see the same
//! sequence, and a [`Position`] marks a place in it for good.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use serde_json::Value as Json;
use tokio::sync::OnceCell;
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::sql::Params;
use entity::statement;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    StatementCreated,
    StatementUpdated,
    StatementDeleted,
    VerdictPublished,
    VerdictRetracted,
    PositionChanged,
    LinkConfirmed,
    ClaimCreated,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::StatementCreated,
        EventType::StatementUpdated,
        EventType::StatementDeleted,
        EventType::VerdictPublished,
        EventType::VerdictRetracted,
        EventType::PositionChanged,
        EventType::LinkConfirmed,
        EventType::ClaimCreated,
    ];

    /// The name the log, webhooks and their receivers use (`statement.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::StatementCreated => "statement.created",
            EventType::StatementUpdated => "statement.updated",
            EventType::StatementDeleted => "statement.deleted",
            EventType::VerdictPublished => "verdict.published",
            EventType::VerdictRetracted => "verdict.retracted",
            EventType::PositionChanged => "position.changed",
            EventType::LinkConfirmed => "link.confirmed",
            EventType::ClaimCreated => "claim.created",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A place in the log: every event after it comes later for every reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position(pub i64);

/// One event, with the ids it concerns.
#[derive(Debug, Clone)]
pub struct Event {
    pub position: Position,
    pub id: Uuid,
    pub kind: EventType,
    /// When the change was made (its transaction's time).
    pub at: DateTime<Utc>,
    /// The API key that made the change; none for the service's own writes.
    pub actor_key_id: Option<Uuid>,
    pub speaker_id: Option<Uuid>,
    pub claim_ids: Vec<Uuid>,
    pub topic_ids: Vec<Uuid>,
    pub statement_id: Option<Uuid>,
    pub verdict_id: Option<Uuid>,
    pub link_id: Option<Uuid>,
    /// For `position.changed`: `claim_id`, `from_statement_id`, `from`, `to`.
    pub data: Option<Json>,
    /// The event's statement, read once for every subscriber that shows it.
    statement: Arc<OnceCell<Option<statement::Model>>>,
}

impl Event {
    /// The event's statement as it is now (none when it has none, or it is deleted),
    /// read from the database by the first caller only: an event fanned out to
    /// thousands of subscriptions costs one read.
    pub async fn statement<C: ConnectionTrait>(
        &self,
        db: &C,
    ) -> ApiResult<Option<statement::Model>> {
        let Some(id) = self.statement_id else {
            return Ok(None);
        };
        let found = self
            .statement
            .get_or_try_init(|| async {
                use crate::service::Record;
                use sea_orm::{ColumnTrait, QueryFilter};
                statement::Entity::live()
                    .filter(statement::Column::Id.eq(id))
                    .one(db)
                    .await
            })
            .await?;
        Ok(found.clone())
    }
}

#[derive(Debug, FromQueryResult)]
struct EventRow {
    pos: i64,
    id: Uuid,
    r#type: String,
    at: DateTime<Utc>,
    actor_key_id: Option<Uuid>,
    speaker_id: Option<Uuid>,
    claim_ids: Vec<Uuid>,
    topic_ids: Vec<Uuid>,
    statement_id: Option<Uuid>,
    verdict_id: Option<Uuid>,
    link_id: Option<Uuid>,
    data: Option<Json>,
}

impl EventRow {
    fn into_event(self) -> Option<Event> {
        Some(Event {
            position: Position(self.pos),
            id: self.id,
            kind: EventType::parse(&self.r#type)?,
            at: self.at,
            actor_key_id: self.actor_key_id,
            speaker_id: self.speaker_id,
            claim_ids: self.claim_ids,
            topic_ids: self.topic_ids,
            statement_id: self.statement_id,
            verdict_id: self.verdict_id,
            link_id: self.link_id,
            data: self.data,
            statement: Arc::default(),
        })
    }
}

/// Which events a reader wants. Each given dimension must hold; within one, any
/// value matches. [`EventFilter::matches`] (live, in memory) and
/// [`EventFilter::condition`] (catching up, in SQL) are the same rule, checked
/// against each other by a test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub types: Option<Vec<EventType>>,
    pub speaker_ids: Option<Vec<Uuid>>,
    pub claim_ids: Option<Vec<Uuid>>,
    pub topic_ids: Option<Vec<Uuid>>,
    /// What a watchlist follows: an event about any of its speakers, claims or topics.
    pub following: Option<Following>,
}

/// Speakers, claims and topics followed together: any one of them matches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Following {
    pub speaker_ids: Vec<Uuid>,
    pub claim_ids: Vec<Uuid>,
    pub topic_ids: Vec<Uuid>,
}

impl Following {
    pub fn matches(&self, event: &Event) -> bool {
        event
            .speaker_id
            .is_some_and(|s| self.speaker_ids.contains(&s))
            || event.claim_ids.iter().any(|c| self.claim_ids.contains(c))
            || event.topic_ids.iter().any(|t| self.topic_ids.contains(t))
    }

    fn condition(&self, params: &mut Params) -> String {
        format!(
            "(e.speaker_id = ANY({}) OR e.claim_ids && {} OR e.topic_ids && {})",
            params.bind(self.speaker_ids.clone()),
            params.bind(self.claim_ids.clone()),
            params.bind(self.topic_ids.clone()),
        )
    }
}

impl EventFilter {
    pub fn of_types(types: &[EventType]) -> Self {
        Self {
            types: Some(types.to_vec()),
            ..Self::default()
        }
    }

    pub fn matches(&self, event: &Event) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&event.kind))
            && self
                .speaker_ids
                .as_ref()
                .is_none_or(|ids| event.speaker_id.is_some_and(|s| ids.contains(&s)))
            && self
                .claim_ids
                .as_ref()
                .is_none_or(|ids| event.claim_ids.iter().any(|c| ids.contains(c)))
            && self
                .topic_ids
                .as_ref()
                .is_none_or(|ids| event.topic_ids.iter().any(|t| ids.contains(t)))
            && self.following.as_ref().is_none_or(|f| f.matches(event))
    }

    /// The same rule as [`EventFilter::matches`], over the log aliased `e`.
    pub fn condition(&self, params: &mut Params) -> String {
        let mut parts = vec!["true".to_owned()];
        if let Some(types) = &self.types {
            let names: Vec<String> = types.iter().map(|t| t.as_str().to_owned()).collect();
            parts.push(format!("e.type = ANY({})", params.bind(names)));
        }
        if let Some(ids) = &self.speaker_ids {
            parts.push(format!("e.speaker_id = ANY({})", params.bind(ids.clone())));
        }
        if let Some(ids) = &self.claim_ids {
            parts.push(format!("e.claim_ids && {}", params.bind(ids.clone())));
        }
        if let Some(ids) = &self.topic_ids {
            parts.push(format!("e.topic_ids && {}", params.bind(ids.clone())));
        }
        if let Some(following) = &self.following {
            parts.push(following.condition(params));
        }
        parts.join(" AND ")
    }
}

const COLUMNS: &str = "e.pos, e.id, e.type, e.at, e.actor_key_id, e.speaker_id, e.claim_ids, \
     e.topic_ids, e.statement_id, e.verdict_id, e.link_id, e.data";

/// Up to `limit` events after `after` that match `filter`, in log order.
#[instrument(skip(db))]
pub async fn page<C: ConnectionTrait>(
    db: &C,
    after: Position,
    limit: u64,
    filter: &EventFilter,
) -> ApiResult<Vec<Event>> {
    let mut params = Params::new();
    let after = params.bind(after.0);
    let condition = filter.condition(&mut params);
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {COLUMNS} FROM event e \
         WHERE e.pos > {after} AND {condition} ORDER BY e.pos LIMIT {limit}"
    );
    let rows = EventRow::find_by_statement(params.statement(sql))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(EventRow::into_event).collect())
}

/// The events with these ids, in log order (whatever the horizon: they were read
/// before).
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> ApiResult<Vec<Event>> {
    let sql = format!("SELECT {COLUMNS} FROM event e WHERE e.id = ANY($1) ORDER BY e.pos");
    let rows = EventRow::find_by_statement(Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        sql,
        [ids.to_vec().into()],
    ))
    .all(db)
    .await?;
    Ok(rows.into_iter().filter_map(EventRow::into_event).collect())
}

/// The statement counting the events a reader sees that match `filter`.
pub fn count(filter: &EventFilter) -> Statement {
    let mut params = Params::new();
    let condition = filter.condition(&mut params);
    params.statement(format!(
        "SELECT COUNT(*) FROM event e WHERE e.pos IS NOT NULL AND {condition}"
    ))
}

/// The place of the event `id`: NOT_FOUND (blaming `field`) when the log does not
/// hold it, never written or past retention.
pub async fn position_of<C: ConnectionTrait>(db: &C, id: Uuid, field: &str) -> ApiResult<Position> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pos FROM event WHERE id = $1 AND pos IS NOT NULL",
            [id.into()],
        ))
        .await?;
    match row {
        Some(row) => Ok(Position(row.try_get("", "pos")?)),
        None => Err(ApiError::NotFound {
            entity: "event (never written, or older than the log keeps)",
            field: Some(field.to_owned()),
        }),
    }
}

/// The end of the log as of now: every event a reader can see lies at or before it.
pub async fn head<C: ConnectionTrait>(db: &C) -> ApiResult<Position> {
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT coalesce(max(pos), 0) AS head FROM event",
        ))
        .await?;
    match row {
        Some(row) => Ok(Position(row.try_get("", "head")?)),
        None => Ok(Position::default()),
    }
}

/// Deletes the events older than `keep`; returns how many. One instance at a time
/// (an advisory lock; another instance holding it means the work is being done). The
/// log is read in order, so the oldest go first and no reader ever sees a gap inside
/// what is kept.
pub async fn expire(db: &sea_orm::DatabaseConnection, keep: Duration) -> ApiResult<u64> {
    use sea_orm::TransactionTrait;
    let cutoff = Utc::now() - keep;
    let txn = db.begin().await?;
    if !crate::service::jobs::try_lock(&txn, "claimtrack.events.expire").await? {
        return Ok(0);
    }
    let done = txn
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "DELETE FROM event WHERE at < $1",
            [cutoff.into()],
        ))
        .await?;
    txn.commit().await?;
    Ok(done.rows_affected())
}
