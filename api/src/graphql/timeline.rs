//! `timeline`: one date-ordered stream of events for speakers, claims or topics.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::article::Article;
use crate::graphql::db;
use crate::graphql::link::Link;
use crate::graphql::loader::live_by_ids;
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::position::PositionChange;
use crate::graphql::scalars::{Date, uuids};
use crate::graphql::statement::Statement;
use crate::graphql::verdict::Verdict;
use crate::service::Record;
use crate::service::timeline::{self, Event, EventKey, EventKind};
use entity::{article, link, statement, verdict};

/// What a timeline event records. Events at one instant sort in this order.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TimelineEventKind {
    /// A statement was made. `at` is its time, or midnight UTC of its `statedOn` when the
    /// time of day is unknown.
    Statement,
    /// A fact-check verdict was published (PUBLISHED verdicts only). `at` is its
    /// `publishedAt`.
    VerdictPublished,
    /// A CONFIRMED link from a statement to a later statement or an article. `at` is the
    /// later statement's time, else the article's publication, else when the link was made.
    FollowUp,
    /// A speaker's stance on a claim changed. `at` is the time of the later statement.
    PositionChange,
}

impl From<TimelineEventKind> for EventKind {
    fn from(k: TimelineEventKind) -> Self {
        match k {
            TimelineEventKind::Statement => EventKind::Statement,
            TimelineEventKind::VerdictPublished => EventKind::VerdictPublished,
            TimelineEventKind::FollowUp => EventKind::FollowUp,
            TimelineEventKind::PositionChange => EventKind::PositionChange,
        }
    }
}

impl From<EventKind> for TimelineEventKind {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::Statement => TimelineEventKind::Statement,
            EventKind::VerdictPublished => TimelineEventKind::VerdictPublished,
            EventKind::FollowUp => TimelineEventKind::FollowUp,
            EventKind::PositionChange => TimelineEventKind::PositionChange,
        }
    }
}

/// Whose events: at least one of `speakerIds`, `claimIds`, `topicIds` (BAD_USER_INPUT
/// otherwise). Given dimensions must all hold; within one, any id matches, and an empty
/// list matches none.
#[derive(InputObject, Debug, Default, Clone)]
pub struct TimelineFilter {
    /// Events around statements of any of these speakers. A speaker's timeline leaves out
    /// verdicts on claims themselves.
    pub speaker_ids: Option<Vec<ID>>,
    /// Events around statements taking a stance on any of these claims, and verdicts on
    /// these claims themselves.
    pub claim_ids: Option<Vec<ID>>,
    /// Events around statements filed under any of these topics, or taking a stance on
    /// claims filed there.
    pub topic_ids: Option<Vec<ID>>,
    /// First day of events (by `at`, in UTC), inclusive.
    pub from: Option<Date>,
    /// Last day of events (by `at`, in UTC), inclusive; before `from` is BAD_USER_INPUT.
    pub to: Option<Date>,
    /// Only these kinds of events; absent lists all four, an empty list none.
    pub kinds: Option<Vec<TimelineEventKind>>,
}

impl TimelineFilter {
    /// The filter read: its ids parsed and its values checked, the field at fault
    /// naming an error.
    pub fn read(&self) -> ApiResult<timeline::TimelineFilter> {
        let empty = |ids: &Option<Vec<ID>>| ids.as_ref().is_none_or(Vec::is_empty);
        if empty(&self.speaker_ids) && empty(&self.claim_ids) && empty(&self.topic_ids) {
            return Err(ApiError::bad_input(
                "filter",
                "name at least one of speakerIds, claimIds and topicIds",
            ));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(ApiError::bad_input("filter.to", "comes before `from`"));
        }
        let ids = |field: &str, ids: &Option<Vec<ID>>| {
            ids.as_deref().map(|ids| uuids(field, ids)).transpose()
        };
        Ok(timeline::TimelineFilter {
            speaker_ids: ids("filter.speakerIds", &self.speaker_ids)?,
            claim_ids: ids("filter.claimIds", &self.claim_ids)?,
            topic_ids: ids("filter.topicIds", &self.topic_ids)?,
            from: self.from.map(|d| d.0),
            to: self.to.map(|d| d.0),
            kinds: self
                .kinds
                .as_ref()
                .map(|k| k.iter().copied().map(EventKind::from).collect()),
            only: None,
        })
    }
}

/// One event of a timeline.
pub struct TimelineEvent(pub Event, Arc<PageRecords>);

impl TimelineEvent {
    /// An event alone (not read with a page): its fields load through the loaders.
    pub fn single(event: Event) -> Self {
        Self(event, Arc::default())
    }
}

/// The records a page's events show, read in one batch per table right after the page
/// when the query selects them (instead of one loader round per field level). `None`:
/// not read with the page; the field loads through the batch loaders.
#[derive(Default)]
struct PageRecords {
    statements: Option<HashMap<Uuid, statement::Model>>,
    verdicts: Option<HashMap<Uuid, verdict::Model>>,
    links: Option<HashMap<Uuid, link::Model>>,
    articles: Option<HashMap<Uuid, article::Model>>,
}

impl PageRecords {
    /// Reads, for the fields the query selects on the events (`edges.node` or `nodes`),
    /// the live records the events name.
    async fn read(ctx: &Context<'_>, events: &[Event]) -> ApiResult<Self> {
        let page = ctx.look_ahead();
        let (edges, nodes) = (page.field("edges").field("node"), page.field("nodes"));
        let read = |field: &str, ids: fn(&Event) -> Option<Uuid>| {
            (edges.field(field).exists() || nodes.field(field).exists())
                .then(|| events.iter().filter_map(ids).collect::<Vec<Uuid>>())
        };
        let (statements, verdicts, links, articles) = tokio::try_join!(
            batch::<statement::Entity>(ctx, read("statement", |e| e.statement_id)),
            batch::<verdict::Entity>(ctx, read("verdict", |e| e.verdict_id)),
            batch::<link::Entity>(ctx, read("link", |e| e.link_id)),
            batch::<article::Entity>(ctx, read("article", |e| e.article_id)),
        )?;
        Ok(Self {
            statements,
            verdicts,
            links,
            articles,
        })
    }
}

async fn batch<E: Record>(
    ctx: &Context<'_>,
    ids: Option<Vec<Uuid>>,
) -> ApiResult<Option<HashMap<Uuid, E::Model>>> {
    match ids {
        Some(ids) => Ok(Some(live_by_ids::<E, _>(db(ctx), ids).await?)),
        None => Ok(None),
    }
}

/// The record `id` from the page's batch when it was read, else through `load`.
async fn record<M: Clone, T: From<M>, F: Future<Output = ApiResult<Option<T>>>>(
    read: Option<&HashMap<Uuid, M>>,
    id: Option<Uuid>,
    load: impl FnOnce(Uuid) -> F,
) -> Result<Option<T>> {
    match (id, read) {
        (None, _) => Ok(None),
        (Some(id), Some(read)) => Ok(read.get(&id).cloned().map(T::from)),
        (Some(id), None) => Ok(load(id).await?),
    }
}

/// One event of a timeline: what happened, when, and the records involved. Timelines hold
/// published data only: PUBLISHED verdicts and CONFIRMED links.
#[Object]
impl TimelineEvent {
    /// When it happened (UTC); `kind` says which time each kind takes. A statement of
    /// unknown time of day sits at midnight UTC of its `statedOn`.
    async fn at(&self) -> DateTime<Utc> {
        self.0.key.at.and_utc()
    }
    /// What happened: a statement, a published verdict, a follow-up or a position change.
    async fn kind(&self) -> TimelineEventKind {
        self.0.kind.into()
    }
    /// The statement made; for a verdict, the statement checked (null for a verdict on a
    /// claim itself); for a follow-up, the statement followed up; for a position change,
    /// the later statement.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        record(self.1.statements.as_ref(), self.0.statement_id, |id| {
            crate::graphql::statement::load(ctx, id)
        })
        .await
    }
    /// For VERDICT_PUBLISHED: the verdict; null for other kinds.
    async fn verdict(&self, ctx: &Context<'_>) -> Result<Option<Verdict>> {
        record(self.1.verdicts.as_ref(), self.0.verdict_id, |id| {
            crate::graphql::verdict::load(ctx, id)
        })
        .await
    }
    /// For FOLLOW_UP: the confirmed link; null for other kinds.
    async fn link(&self, ctx: &Context<'_>) -> Result<Option<Link>> {
        record(self.1.links.as_ref(), self.0.link_id, |id| {
            crate::graphql::link::load(ctx, id)
        })
        .await
    }
    /// For a follow-up to an article: the article; null otherwise.
    async fn article(&self, ctx: &Context<'_>) -> Result<Option<Article>> {
        record(self.1.articles.as_ref(), self.0.article_id, |id| {
            crate::graphql::article::load(ctx, id)
        })
        .await
    }
    /// For POSITION_CHANGE: the earlier and the later position; null for other kinds.
    async fn change(&self) -> Option<PositionChange> {
        self.0.change.clone().map(PositionChange)
    }
}

/// The list tag of timeline cursors (`pagination::encode_key`).
pub const CURSOR: &str = "timeline";

/// One page of a timeline; shared by `timeline` and `Claim.timeline`. With `as_of`,
/// the timeline as the database stood then.
pub async fn page(
    ctx: &Context<'_>,
    filter: TimelineFilter,
    first: Option<i32>,
    after: Option<String>,
    as_of: Option<DateTime<Utc>>,
) -> ApiResult<Conn<TimelineEvent>> {
    let service_filter = filter.read()?;
    let limit = pagination::forward_limit(first)?;
    let key: Option<EventKey> = after
        .as_deref()
        .map(|c| pagination::decode_key("after", CURSOR, c))
        .transpose()?;
    let (mut events, total) = match as_of {
        Some(at) => {
            let (events, total) =
                timeline::page_as_of(db(ctx), &service_filter, at, key.as_ref(), limit + 1).await?;
            (events, TotalCount::known(total))
        }
        None => (
            timeline::page(db(ctx), &service_filter, key.as_ref(), limit as u64 + 1).await?,
            TotalCount::from_statement(timeline::count(&service_filter)),
        ),
    };
    let more = events.len() > limit;
    events.truncate(limit);
    let records = Arc::new(match as_of {
        // The fields of an "as of" event load as they always did.
        Some(_) => PageRecords::default(),
        None => PageRecords::read(ctx, &events).await?,
    });
    let mut connection = Connection::with_additional_fields(key.is_some(), more, total);
    connection.edges.extend(events.into_iter().map(|e| {
        Edge::new(
            pagination::encode_key(CURSOR, &e.key),
            TimelineEvent(e, records.clone()),
        )
    }));
    Ok(connection)
}

#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// Statements made, verdicts published, follow-ups and position changes of the
    /// speakers, claims or topics in `filter`, oldest first, in one stream paged forward;
    /// events at one instant come in the order of `TimelineEventKind`. Open to every
    /// caller.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Whose events, which kinds and which days.")] filter: TimelineFilter,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after: `pageInfo.endCursor` of the previous page of this list (opaque). This list pages forward only."
        )]
        after: Option<String>,
        #[graphql(
            desc = "The timeline as the database stood at this instant (RFC 3339): the statements and stances of then, the verdicts published and the links confirmed by then. Absent means now."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Conn<TimelineEvent>> {
        Ok(page(ctx, filter, first, after, as_of).await?)
    }
}
