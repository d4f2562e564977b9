//! `timeline`: one date-ordered stream of events for speakers, claims or topics.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use crate::error::{ApiError, ApiResult};
use crate::graphql::article::Article;
use crate::graphql::link::Link;
use crate::graphql::loader::{ById, Children, StancesOfStatement};
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::position::PositionChange;
use crate::graphql::scalars::{Date, uuids};
use crate::graphql::statement::Statement;
use crate::graphql::verdict::Verdict;
use crate::graphql::{db, loaders};
use crate::service::position::{ChangeRow, PositionRow};
use crate::service::timeline::{self, Event, EventKey, EventKind};
use entity::statement;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TimelineEventKind {
    /// A statement was made.
    Statement,
    /// A fact-check verdict was published.
    VerdictPublished,
    /// A confirmed link to a later statement or an article.
    FollowUp,
    /// A speaker's stance on a claim changed.
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

/// Whose events: at least one of `speakerIds`, `claimIds`, `topicIds`. Given
/// dimensions must all hold; within one, any id matches.
#[derive(InputObject, Debug, Default, Clone)]
pub struct TimelineFilter {
    pub speaker_ids: Option<Vec<ID>>,
    pub claim_ids: Option<Vec<ID>>,
    /// Statements filed under the topics, or taking a stance on claims filed there.
    pub topic_ids: Option<Vec<ID>>,
    /// First day of events (UTC), inclusive.
    pub from: Option<Date>,
    /// Last day of events (UTC), inclusive.
    pub to: Option<Date>,
    /// Only these kinds of events.
    pub kinds: Option<Vec<TimelineEventKind>>,
}

/// One event of a timeline.
pub struct TimelineEvent(pub Event);

#[Object]
impl TimelineEvent {
    /// When it happened (UTC); a statement of unknown time of day at midnight.
    async fn at(&self) -> DateTime<Utc> {
        self.0.key.at.and_utc()
    }
    async fn kind(&self) -> TimelineEventKind {
        self.0.kind.into()
    }
    /// The statement made; for a verdict, the statement checked; for a follow-up, the
    /// statement followed up; for a position change, the later statement.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        match self.0.statement_id {
            Some(id) => Ok(crate::graphql::statement::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    async fn verdict(&self, ctx: &Context<'_>) -> Result<Option<Verdict>> {
        match self.0.verdict_id {
            Some(id) => Ok(crate::graphql::verdict::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    async fn link(&self, ctx: &Context<'_>) -> Result<Option<Link>> {
        match self.0.link_id {
            Some(id) => Ok(crate::graphql::link::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// For a follow-up to an article: the article.
    async fn article(&self, ctx: &Context<'_>) -> Result<Option<Article>> {
        match self.0.article_id {
            Some(id) => Ok(crate::graphql::article::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    async fn change(&self, ctx: &Context<'_>) -> Result<Option<PositionChange>> {
        if let Some(then) = &self.0.change {
            return Ok(Some(PositionChange(then.clone())));
        }
        let (Some(from), Some(to), Some(claim)) = (
            self.0.from_statement_id,
            self.0.statement_id,
            self.0.claim_id,
        ) else {
            return Ok(None);
        };
        let (Some(from), Some(to)) = (
            position_of(ctx, from, claim).await?,
            position_of(ctx, to, claim).await?,
        ) else {
            return Ok(None);
        };
        Ok(Some(PositionChange(ChangeRow { from, to })))
    }
}

/// A statement's position on a claim, through the batch loaders.
async fn position_of(
    ctx: &Context<'_>,
    statement_id: uuid::Uuid,
    claim_id: uuid::Uuid,
) -> ApiResult<Option<PositionRow>> {
    let statement = loaders(ctx)
        .load_one(ById::<statement::Entity>::new(statement_id))
        .await?;
    let stances = loaders(ctx)
        .load_one(Children::<StancesOfStatement>::new(statement_id))
        .await?;
    let stance = stances
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.claim_id == claim_id);
    Ok(statement.zip(stance).map(|(s, st)| PositionRow {
        statement_id: s.id,
        speaker_id: s.speaker_id,
        claim_id,
        stance: st.stance,
        stated_on: s.stated_on,
        stated_on_precision: s.stated_on_precision,
        stated_at_utc: s.stated_at_utc,
        reported: s.reported_by_id.is_some(),
    }))
}

const CURSOR: &str = "timeline";

/// One page of a timeline; shared by `timeline` and `Claim.timeline`. With `as_of`,
/// the timeline as the database stood then.
pub async fn page(
    ctx: &Context<'_>,
    filter: TimelineFilter,
    first: Option<i32>,
    after: Option<String>,
    as_of: Option<DateTime<Utc>>,
) -> ApiResult<Conn<TimelineEvent>> {
    let empty = |ids: &Option<Vec<ID>>| ids.as_ref().is_none_or(Vec::is_empty);
    if empty(&filter.speaker_ids) && empty(&filter.claim_ids) && empty(&filter.topic_ids) {
        return Err(ApiError::bad_input(
            "filter",
            "name at least one of speakerIds, claimIds and topicIds",
        ));
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        return Err(ApiError::bad_input("filter.to", "comes before `from`"));
    }
    let service_filter = timeline::TimelineFilter {
        speaker_ids: filter
            .speaker_ids
            .as_deref()
            .map(|ids| uuids("filter.speakerIds", ids))
            .transpose()?,
        claim_ids: filter
            .claim_ids
            .as_deref()
            .map(|ids| uuids("filter.claimIds", ids))
            .transpose()?,
        topic_ids: filter
            .topic_ids
            .as_deref()
            .map(|ids| uuids("filter.topicIds", ids))
            .transpose()?,
        from: filter.from.map(|d| d.0),
        to: filter.to.map(|d| d.0),
        kinds: filter
            .kinds
            .map(|k| k.into_iter().map(EventKind::from).collect()),
    };
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
    let mut connection = Connection::with_additional_fields(key.is_some(), more, total);
    connection.edges.extend(
        events
            .into_iter()
            .map(|e| Edge::new(pagination::encode_key(CURSOR, &e.key), TimelineEvent(e))),
    );
    Ok(connection)
}

#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// Statements made, verdicts published, follow-ups and position changes, oldest
    /// first, in one stream; events at one instant in that order of kinds.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        filter: TimelineFilter,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(desc = "Answer as the database stood at this instant.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> Result<Conn<TimelineEvent>> {
        Ok(page(ctx, filter, first, after, as_of).await?)
    }
}
