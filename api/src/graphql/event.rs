//! The event log over GraphQL: `events` to page it, and the subscriptions that follow
//! it live (`/graphql/ws`, graphql-transport-ws).
//!
//! Every subscription takes `after`, the id of the last event a client saw: it gets
//! what it missed first, then live events, each once and in the log's order. Each
//! message a subscription sends carries the id of the event behind it in
//! `extensions.eventId`, to pass as `after` when reconnecting.
//!
//! What a subscriber is sent is read with its own role: an event whose record the
//! subscriber may not see (a verdict retracted since, a link not confirmed) is not
//! sent, and nothing unpublished ever is to ANONYMOUS and READER subscribers.

use std::sync::{Arc, Mutex};

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use sea_orm::{QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::claim::Claim;
use crate::graphql::link::Link;
use crate::graphql::loader::in_order;
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::position::PositionChange;
use crate::graphql::scalars::{uuid, uuids};
use crate::graphql::speaker::Speaker;
use crate::graphql::statement::{Statement, StatementFilter};
use crate::graphql::timeline::{TimelineEvent, TimelineFilter};
use crate::graphql::topic::Topic;
use crate::graphql::verdict::{Verdict, VerdictFilter};
use crate::graphql::{db, viewer};
use crate::live::Hub;
use crate::service::event::{self, EventFilter as LogFilter, Position};
use crate::service::timeline::{EventKind, Only};
use crate::service::watchlist;

/// What happened. In webhooks and the log these read `statement.created`,
/// `verdict.published`, and so on.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::service::event::EventType")]
pub enum EventType {
    /// A statement was recorded.
    StatementCreated,
    /// A statement was edited (its text, date, stances, topics, …).
    StatementUpdated,
    /// A statement was deleted.
    StatementDeleted,
    /// A verdict became public (published, or created published).
    VerdictPublished,
    /// A public verdict stopped being public (retracted, unpublished or deleted).
    VerdictRetracted,
    /// A statement took a stance on a claim different from the speaker's position on it
    /// just before (position order).
    PositionChanged,
    /// A link (a follow-up, a correction, a reversal) was confirmed.
    LinkConfirmed,
    /// A claim was recorded.
    ClaimCreated,
}

pub struct Event(pub Arc<event::Event>);

/// One change, as the event log records it: what happened, when, who made it, and the
/// records it concerns (each read as it is now, with the caller's role).
#[Object]
impl Event {
    /// The event's id (UUID v7). Pass it as `after` (to `events` or any subscription)
    /// to continue after it.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What happened: a statement recorded, a verdict published, a position changed….
    #[graphql(name = "type")]
    async fn kind(&self) -> EventType {
        self.0.kind.into()
    }
    /// When the change was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The id of the API key that made the change; null for the service's own writes
    /// (imports from the command line, demo data), and for callers below ADMIN.
    async fn actor_key_id(&self, ctx: &Context<'_>) -> Option<ID> {
        (viewer(ctx).role >= crate::auth::Role::Admin)
            .then_some(self.0.actor_key_id)
            .flatten()
            .map(|id| ID(id.to_string()))
    }
    /// The speaker concerned: of the statement, of the statement a verdict rates, of the
    /// statement a link starts from.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Option<Speaker>> {
        match self.0.speaker_id {
            Some(id) => Ok(crate::graphql::speaker::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// The claims concerned: those the statement takes a stance on, the claim a verdict
    /// rates, the claim a position changed on.
    async fn claims(&self, ctx: &Context<'_>) -> Result<Vec<Claim>> {
        Ok(in_order::<entity::claim::Entity>(ctx, &self.0.claim_ids)
            .await?
            .into_iter()
            .map(Claim)
            .collect())
    }
    /// The topics concerned.
    async fn topics(&self, ctx: &Context<'_>) -> Result<Vec<Topic>> {
        Ok(in_order::<entity::topic::Entity>(ctx, &self.0.topic_ids)
            .await?
            .into_iter()
            .map(Topic)
            .collect())
    }
    /// The statement, as it is now; null once deleted.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        match self.0.statement_id {
            Some(id) => Ok(crate::graphql::statement::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// For verdict events: the verdict, as it is now, if the caller may see it.
    async fn verdict(&self, ctx: &Context<'_>) -> Result<Option<Verdict>> {
        let Some(id) = self.0.verdict_id else {
            return Ok(None);
        };
        Ok(crate::graphql::verdict::load(ctx, id)
            .await?
            .filter(|v| crate::graphql::verdict::visible(viewer(ctx), &v.0)))
    }
    /// For LINK_CONFIRMED: the link, as it is now, if the caller may see it.
    async fn link(&self, ctx: &Context<'_>) -> Result<Option<Link>> {
        let Some(id) = self.0.link_id else {
            return Ok(None);
        };
        Ok(crate::graphql::link::load(ctx, id)
            .await?
            .filter(|l| crate::graphql::link::visible(viewer(ctx), &l.0)))
    }
    /// For POSITION_CHANGED: the change, as the speaker's position history shows it
    /// now; null once it no longer does (a statement edited or deleted since).
    async fn change(&self, ctx: &Context<'_>) -> Result<Option<PositionChange>> {
        Ok(change_of(db(ctx), &self.0, None, None).await?)
    }
}

/// Which events: given dimensions must all hold; within one, any value matches.
#[derive(InputObject, Debug, Default, Clone)]
pub struct EventFilter {
    /// Only these types.
    pub types: Option<Vec<EventType>>,
    /// Events concerning any of these speakers.
    pub speaker_ids: Option<Vec<ID>>,
    /// Events concerning any of these claims.
    pub claim_ids: Option<Vec<ID>>,
    /// Events concerning any of these topics.
    pub topic_ids: Option<Vec<ID>>,
    /// Events concerning anything on this watchlist of the caller's key (any of its
    /// speakers, claims or topics).
    pub watchlist_id: Option<ID>,
}

impl EventFilter {
    /// The filter read: ids parsed, the watchlist looked up among the caller's.
    pub async fn read(&self, ctx: &Context<'_>) -> ApiResult<LogFilter> {
        let ids = |field: &str, ids: &Option<Vec<ID>>| {
            ids.as_deref().map(|ids| uuids(field, ids)).transpose()
        };
        let following = match &self.watchlist_id {
            Some(id) => Some(
                watchlist::find(db(ctx), viewer(ctx), uuid("filter.watchlistId", id)?)
                    .await
                    .map(|list| watchlist::following(&list))
                    .map_err(|e| blame(e, "filter.watchlistId"))?,
            ),
            None => None,
        };
        Ok(LogFilter {
            types: self
                .types
                .as_ref()
                .map(|t| t.iter().copied().map(Into::into).collect()),
            speaker_ids: ids("filter.speakerIds", &self.speaker_ids)?,
            claim_ids: ids("filter.claimIds", &self.claim_ids)?,
            topic_ids: ids("filter.topicIds", &self.topic_ids)?,
            following,
        })
    }
}

fn blame(error: ApiError, field: &str) -> ApiError {
    match error {
        ApiError::NotFound { entity, .. } => ApiError::unknown_reference(entity, field),
        other => other,
    }
}

/// The place after the event `after` names, checked (`after` is the field at fault);
/// without one, for a subscription, where the log stood when it arrived.
async fn start(ctx: &Context<'_>, after: Option<&ID>) -> ApiResult<Option<Position>> {
    match after {
        Some(id) => Ok(Some(
            event::position_of(db(ctx), uuid("after", id)?, "after").await?,
        )),
        None => Ok(ctx.data_opt::<SubscribedAt>().map(|at| at.0)),
    }
}

/// Where the event log stood when a subscription arrived.
#[derive(Debug, Clone, Copy)]
pub struct SubscribedAt(pub Position);

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// The event log, oldest first: every change that matters (statements recorded,
    /// edited or deleted; verdicts published or retracted; positions changed; links
    /// confirmed; claims recorded) in the order every reader sees it. Each edge's
    /// cursor is its event's id, so a client that saw an event live can page on from
    /// it. Events are kept for the server's retention period
    /// (`--event-retention-days`); an `after` older than that is NOT_FOUND. Open to
    /// every caller; records are read with the caller's role.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The id of the event to continue after; absent starts at the oldest kept."
        )]
        after: Option<ID>,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(desc = "Which events: by type, speaker, claim, topic or watchlist.")]
        filter: Option<EventFilter>,
    ) -> Result<Conn<Event>> {
        let limit = pagination::forward_limit(first)?;
        let filter = match filter {
            Some(f) => f.read(ctx).await?,
            None => LogFilter::default(),
        };
        let from = start(ctx, after.as_ref()).await?;
        let mut rows =
            event::page(db(ctx), from.unwrap_or_default(), limit as u64 + 1, &filter).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let total = TotalCount::from_statement(event::count(&filter));
        let mut connection = Connection::with_additional_fields(from.is_some(), more, total);
        connection.edges.extend(
            rows.into_iter()
                .map(|e| Edge::new(e.id.to_string(), Event(Arc::new(e)))),
        );
        Ok(connection)
    }
}

/// Where a subscription's messages say which event each comes from: set before each
/// item, read by the transport when it sends the item's response.
#[derive(Clone, Default)]
pub struct Delivered(Arc<Mutex<Option<Uuid>>>);

impl Delivered {
    fn set(&self, id: Uuid) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(id);
    }

    /// The event of the item just sent.
    pub fn take(&self) -> Option<Uuid> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// The events of the log after `after` that pass `filter`, each turned into an item
/// by `item` (none: the subscriber is not sent this one).
fn follow<'a, T, F, Fut>(
    ctx: &Context<'a>,
    after: Option<Position>,
    filter: LogFilter,
    item: F,
) -> ApiResult<impl Stream<Item = Result<T>> + 'a>
where
    T: Send + 'a,
    F: Fn(Arc<event::Event>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = ApiResult<Option<T>>> + Send + 'a,
{
    let hub = ctx
        .data_opt::<Hub>()
        .ok_or_else(|| ApiError::Internal("live events are not running".into()))?;
    let delivered = ctx.data_opt::<Delivered>().cloned().unwrap_or_default();
    let events = hub.follow(after, filter);
    Ok(events.filter_map(move |event| {
        let delivered = delivered.clone();
        let made = event.map(|e| (e.id, item(e)));
        async move {
            match made {
                Ok((id, item)) => match item.await {
                    Ok(Some(item)) => {
                        delivered.set(id);
                        Some(Ok(item))
                    }
                    Ok(None) => None,
                    Err(e) => Some(Err(e.into())),
                },
                Err(e) => Some(Err(e.into())),
            }
        }
    }))
}

/// The live statement `id` if it passes `filter` (the `statements` list's own filter).
async fn statement_matching(
    db: &sea_orm::DatabaseConnection,
    filter: &crate::service::statement::filter::Filter,
    id: Uuid,
) -> ApiResult<Option<entity::statement::Model>> {
    Ok(crate::graphql::statement::filtered(filter)
        .filter(sea_orm::ColumnTrait::eq(&entity::statement::Column::Id, id))
        .limit(1)
        .one(db)
        .await?)
}

/// The position change a `position.changed` event records, as the history shows it
/// now, for a speaker and claim when given.
async fn change_of(
    db: &sea_orm::DatabaseConnection,
    event: &event::Event,
    speaker: Option<Uuid>,
    claim: Option<Uuid>,
) -> ApiResult<Option<PositionChange>> {
    let filter = crate::service::timeline::TimelineFilter {
        speaker_ids: speaker.map(|s| vec![s]),
        claim_ids: claim.map(|c| vec![c]),
        kinds: Some(vec![EventKind::PositionChange]),
        ..Default::default()
    };
    Ok(timeline_event(db, &filter, event)
        .await?
        .and_then(|e| e.change)
        .map(PositionChange))
}

/// The timeline's event for a log event, as the `timeline` query with `filter` shows
/// it now; none when the timeline has no such event or `filter` leaves it out.
async fn timeline_event(
    db: &sea_orm::DatabaseConnection,
    filter: &crate::service::timeline::TimelineFilter,
    event: &event::Event,
) -> ApiResult<Option<crate::service::timeline::Event>> {
    use event::EventType as T;
    let claim = event
        .data
        .as_ref()
        .and_then(|d| d.get("claim_id"))
        .and_then(|c| c.as_str())
        .and_then(|c| c.parse().ok());
    let (kind, record, claim) = match (event.kind, event.statement_id) {
        (T::StatementCreated, Some(s)) => (EventKind::Statement, s, None),
        (T::PositionChanged, Some(s)) => (EventKind::PositionChange, s, claim),
        (T::VerdictPublished, _) => match event.verdict_id {
            Some(v) => (EventKind::VerdictPublished, v, None),
            None => return Ok(None),
        },
        (T::LinkConfirmed, _) => match event.link_id {
            Some(l) => (EventKind::FollowUp, l, None),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    if filter.kinds.as_ref().is_some_and(|k| !k.contains(&kind)) {
        return Ok(None);
    }
    let narrowed = crate::service::timeline::TimelineFilter {
        kinds: Some(vec![kind]),
        only: Some(Only {
            statement_id: event.statement_id.unwrap_or(Uuid::nil()),
            record_id: record,
            claim_id: claim,
        }),
        ..filter.clone()
    };
    let mut found = crate::service::timeline::page(db, &narrowed, None, 1).await?;
    Ok(found.pop())
}

/// The subscription root: see its description in the schema.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Subscriptions, over WebSocket at `/graphql/ws` (graphql-transport-ws). The API key
/// goes in `connection_init`'s payload (`{"authorization": "Bearer <key>"}`); without
/// one the subscriber is ANONYMOUS. Events written through any instance reach every
/// instance's subscribers. Each message carries `extensions.eventId`; pass the last one
/// seen as `after` when reconnecting to get what was missed first, with no gap and no
/// duplicate. `watchlistEvent` needs a key (READER and up); the others are open to
/// every caller.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Each statement recorded that matches `filter` (the filter of `statements`).
    async fn statement_added<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Which statements, as in `statements`.")] filter: Option<StatementFilter>,
        #[graphql(desc = "The id of the last event seen: what came after it is sent first.")]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Statement>> + 'a> {
        let filter = filter.unwrap_or_default().read()?.checked()?;
        let after = start(ctx, after.as_ref()).await?;
        let db = db(ctx).clone();
        let log = LogFilter {
            speaker_ids: filter.speaker_ids.clone(),
            claim_ids: filter.claim_ids.clone(),
            ..LogFilter::of_types(&[event::EventType::StatementCreated])
        };
        // Speakers and claims are checked on the event itself; any other condition
        // asks the database about the statement, for each subscription.
        let by_ids_only = filter
            == crate::service::statement::filter::Filter {
                speaker_ids: filter.speaker_ids.clone(),
                claim_ids: filter.claim_ids.clone(),
                ..Default::default()
            };
        Ok(follow(ctx, after, log, move |e| {
            let db = db.clone();
            let filter = filter.clone();
            async move {
                let Some(id) = e.statement_id else {
                    return Ok(None);
                };
                let found = if by_ids_only {
                    e.statement(&db).await?
                } else {
                    statement_matching(&db, &filter, id).await?
                };
                Ok(found.map(Statement::from))
            }
        })?)
    }

    /// Each verdict made public that matches `filter` (the filter of `verdicts`), read
    /// with the subscriber's role.
    async fn verdict_published<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Which verdicts, as in `verdicts`.")] filter: Option<VerdictFilter>,
        #[graphql(desc = "The id of the last event seen: what came after it is sent first.")]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Verdict>> + 'a> {
        let (select, _) = crate::graphql::verdict::list_query(filter, viewer(ctx))?;
        let after = start(ctx, after.as_ref()).await?;
        let db = db(ctx).clone();
        let log = LogFilter::of_types(&[event::EventType::VerdictPublished]);
        Ok(follow(ctx, after, log, move |e| {
            let db = db.clone();
            let select = select.clone();
            async move {
                let Some(id) = e.verdict_id else {
                    return Ok(None);
                };
                Ok(select
                    .filter(sea_orm::ColumnTrait::eq(&entity::verdict::Column::Id, id))
                    .one(&db)
                    .await?
                    .map(Verdict))
            }
        })?)
    }

    /// Each position change of `speakerId` on `claimId` (either or both; neither: every
    /// change), as `positionChanges` shows it.
    async fn position_changed<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Only this speaker's changes.")] speaker_id: Option<ID>,
        #[graphql(desc = "Only changes on this claim.")] claim_id: Option<ID>,
        #[graphql(desc = "The id of the last event seen: what came after it is sent first.")]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<PositionChange>> + 'a> {
        let speaker = speaker_id.map(|id| uuid("speakerId", &id)).transpose()?;
        let claim = claim_id.map(|id| uuid("claimId", &id)).transpose()?;
        let after = start(ctx, after.as_ref()).await?;
        let db = db(ctx).clone();
        let log = LogFilter {
            speaker_ids: speaker.map(|s| vec![s]),
            claim_ids: claim.map(|c| vec![c]),
            ..LogFilter::of_types(&[event::EventType::PositionChanged])
        };
        Ok(follow(ctx, after, log, move |e| {
            let db = db.clone();
            async move { change_of(&db, &e, speaker, claim).await }
        })?)
    }

    /// Each new event of the timeline `filter` names (the `timeline` query's filter and
    /// events): statements made, verdicts published, follow-ups confirmed, positions
    /// changed, as they happen (not in `at` order: a statement recorded today may have
    /// been made years ago).
    async fn timeline_event<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Whose events, which kinds and which days, as in `timeline`.")]
        filter: TimelineFilter,
        #[graphql(desc = "The id of the last event seen: what came after it is sent first.")]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<TimelineEvent>> + 'a> {
        let filter = filter.read()?;
        let after = start(ctx, after.as_ref()).await?;
        let db = db(ctx).clone();
        let log = LogFilter {
            speaker_ids: filter.speaker_ids.clone(),
            ..LogFilter::of_types(&[
                event::EventType::StatementCreated,
                event::EventType::VerdictPublished,
                event::EventType::LinkConfirmed,
                event::EventType::PositionChanged,
            ])
        };
        Ok(follow(ctx, after, log, move |e| {
            let db = db.clone();
            let filter = filter.clone();
            async move {
                Ok(timeline_event(&db, &filter, &e)
                    .await?
                    .map(TimelineEvent::single))
            }
        })?)
    }

    /// Each event concerning anything on one of the caller's watchlists (any of its
    /// speakers, claims or topics), of the types asked for. Needs a key (READER and up).
    async fn watchlist_event<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "The watchlist (one of the caller key's).")] watchlist_id: ID,
        #[graphql(desc = "Only these types; absent: all.")] types: Option<Vec<EventType>>,
        #[graphql(desc = "The id of the last event seen: what came after it is sent first.")]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Event>> + 'a> {
        let filter = EventFilter {
            types,
            watchlist_id: Some(watchlist_id),
            ..EventFilter::default()
        };
        let log = filter.read(ctx).await.map_err(|e| match e {
            ApiError::BadInput { field, message } => ApiError::BadInput {
                field: field.replace("filter.", ""),
                message,
            },
            ApiError::NotFound { entity, .. } => ApiError::unknown_reference(entity, "watchlistId"),
            other => other,
        })?;
        let after = start(ctx, after.as_ref()).await?;
        Ok(follow(
            ctx,
            after,
            log,
            |e| async move { Ok(Some(Event(e))) },
        )?)
    }
}
