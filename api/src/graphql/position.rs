//! Positions over time: `Position`, `PositionChange`, position histories, the list of
//! changes, a claim's positions per speaker, and scorecards.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::claim::Claim;
use crate::graphql::enums::{DatePrecision, Stance};
use crate::graphql::link::Link;
use crate::graphql::loader::{Children, LinksFrom};
use crate::graphql::pagination::{self, Conn, TotalCount};
use crate::graphql::scalars::{Date, uuid};
use crate::graphql::speaker::Speaker;
use crate::graphql::statement::Statement;
use crate::graphql::{db, loaders};
use crate::service::position::{
    self, ChangeFilter, ChangeKey, ChangeRow, PositionRow, StatedPosition,
};
use crate::service::record::ensure_live;
use crate::service::scorecard;
use entity::{LinkRelation, LinkStatus, claim, speaker, statement};

/// A statement's stance on one claim, at the statement's date.
// The second field: the statement's row, when the query that found the position read it too.
pub struct Position(pub PositionRow, pub Option<statement::Model>);

impl From<PositionRow> for Position {
    fn from(row: PositionRow) -> Self {
        Self(row, None)
    }
}

impl From<StatedPosition> for Position {
    fn from(p: StatedPosition) -> Self {
        Self(p.position, Some(p.statement))
    }
}

/// A statement's stance on one claim at the statement's date: one point of a speaker's
/// position history. Reported statements are positions of the reported speaker, flagged
/// `reported`.
#[Object]
impl Position {
    /// The statement that takes the position.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Statement> {
        if let Some(statement) = &self.1 {
            return Ok(Statement::from(statement.clone()));
        }
        crate::graphql::statement::load(ctx, self.0.statement_id)
            .await?
            .ok_or_else(|| ApiError::not_found("statement").into())
    }
    /// The stance the statement takes on the claim.
    async fn stance(&self) -> Stance {
        self.0.stance.into()
    }
    /// The statement's date (the first day of its period when imprecise).
    async fn stated_on(&self) -> Date {
        Date(self.0.stated_on)
    }
    /// How much of `statedOn` is known: DAY, MONTH or YEAR.
    async fn stated_on_precision(&self) -> DatePrecision {
        self.0.stated_on_precision.into()
    }
    /// Whether this is indirect speech: someone else reported the speaker's position (the
    /// statement's `reportedBy`).
    async fn reported(&self) -> bool {
        self.0.reported
    }
    /// The speaker whose position it is: the statement's speaker, for reported statements
    /// too.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.0.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
    /// The claim the position is on.
    async fn claim(&self, ctx: &Context<'_>) -> Result<Claim> {
        crate::graphql::claim::load(ctx, self.0.claim_id)
            .await?
            .ok_or_else(|| ApiError::not_found("claim").into())
    }
}

/// Two consecutive positions of one speaker on one claim with different stances.
pub struct PositionChange(pub ChangeRow);

/// Link relations that describe a change of position.
const CHANGE_RELATIONS: [LinkRelation; 3] = [
    LinkRelation::Reverses,
    LinkRelation::Softens,
    LinkRelation::Hardens,
];

/// Two consecutive positions of one speaker on one claim with different stances (NEUTRAL
/// and UNCLEAR count as stances), such as Trump's SUPPORTS then OPPOSES on the cyber
/// security working group within hours.
#[Object]
impl PositionChange {
    /// The speaker who changed position.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.0.to.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
    /// The claim the position changed on.
    async fn claim(&self, ctx: &Context<'_>) -> Result<Claim> {
        crate::graphql::claim::load(ctx, self.0.to.claim_id)
            .await?
            .ok_or_else(|| ApiError::not_found("claim").into())
    }
    /// The earlier position.
    async fn from(&self) -> Position {
        Position::from(self.0.from.clone())
    }
    /// The later position, whose stance differs from the earlier one's.
    async fn to(&self) -> Position {
        Position::from(self.0.to.clone())
    }
    /// Whole days from the earlier position's `statedOn` to the later one's; 0 when both
    /// fall on one day.
    async fn days(&self) -> i64 {
        self.0.days()
    }
    /// Confirmed REVERSES, SOFTENS or HARDENS links from the earlier statement to the
    /// later. Empty until an editor confirms one.
    async fn links(&self, ctx: &Context<'_>) -> Result<Vec<Link>> {
        let links = loaders(ctx)
            .load_one(Children::<LinksFrom>::new(self.0.from.statement_id))
            .await?;
        Ok(links
            .unwrap_or_default()
            .into_iter()
            .filter(|l| {
                l.target_statement_id == Some(self.0.to.statement_id)
                    && l.status == LinkStatus::Confirmed
                    && CHANGE_RELATIONS.contains(&l.relation)
            })
            .map(Link::from)
            .collect())
    }
}

/// One speaker's latest position on a claim, and how often it changed.
pub struct SpeakerPosition {
    latest: PositionRow,
    positions: usize,
    changes: usize,
}

/// One speaker's latest position on a claim, and how often it changed: an entry of
/// `Claim.positions`.
#[Object]
impl SpeakerPosition {
    /// The speaker whose positions these are.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.latest.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
    /// The speaker's most recent position on the claim.
    async fn latest(&self) -> Position {
        Position::from(self.latest.clone())
    }
    /// How many positions the speaker took on the claim (at least 1).
    async fn positions(&self) -> usize {
        self.positions
    }
    /// How many times the speaker's stance on the claim changed; 0 when it never did.
    async fn changes(&self) -> usize {
        self.changes
    }
}

/// A speaker's position history on a claim, oldest first; unknown ids are NOT_FOUND.
/// With `as_of`, the history as the database stood then.
pub async fn history(
    ctx: &Context<'_>,
    speaker_id: Uuid,
    claim_id: Uuid,
    as_of: Option<DateTime<Utc>>,
) -> ApiResult<Vec<Position>> {
    if let Some(at) = as_of {
        let rows =
            crate::service::as_of::position_history(db(ctx), speaker_id, claim_id, at).await?;
        return Ok(rows.into_iter().map(Position::from).collect());
    }
    let rows = position::history_with_statements(db(ctx), speaker_id, claim_id).await?;
    // Only an empty history needs telling apart from unknown ids.
    if rows.is_empty() {
        ensure_live::<speaker::Entity, _>(db(ctx), speaker_id, "speakerId").await?;
        ensure_live::<claim::Entity, _>(db(ctx), claim_id, "claimId").await?;
    }
    Ok(rows.into_iter().map(Position::from).collect())
}

/// Every speaker's latest position on a claim, with counts, most recent first.
pub async fn claim_positions(ctx: &Context<'_>, claim_id: Uuid) -> ApiResult<Vec<SpeakerPosition>> {
    let rows = position::on_claim(db(ctx), claim_id).await?;
    let mut out: Vec<SpeakerPosition> = Vec::new();
    for history in rows.chunk_by(|a, b| a.speaker_id == b.speaker_id) {
        if let Some(latest) = history.last() {
            out.push(SpeakerPosition {
                latest: latest.clone(),
                positions: history.len(),
                changes: position::changes_in(history).len(),
            });
        }
    }
    out.sort_by(|a, b| {
        (
            b.latest.stated_on,
            b.latest.stated_at_utc,
            b.latest.statement_id,
        )
            .cmp(&(
                a.latest.stated_on,
                a.latest.stated_at_utc,
                a.latest.statement_id,
            ))
    });
    Ok(out)
}

const CHANGES_CURSOR: &str = "position_change";

/// Bands of a verdict's normalized `score` (0 at the reviewer's worst rating, 1 at its
/// best), in fifths, as `scorecard` and `StatementFilter.verdictBands` count them.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::service::scorecard::Band")]
pub enum RatingBand {
    /// Score below 0.2: the reviewer's bottom fifth.
    False,
    /// Score from 0.2 to below 0.4.
    MostlyFalse,
    /// Score from 0.4 to below 0.6.
    Mixed,
    /// Score from 0.6 to below 0.8.
    MostlyTrue,
    /// Score 0.8 or more: the reviewer's top fifth.
    True,
    /// A rating label without a numeric rating, so without a score.
    Unrated,
}

/// How many published verdicts fall in one rating band.
#[derive(SimpleObject)]
pub struct BandCount {
    /// The rating band counted.
    pub band: RatingBand,
    /// Published verdicts in the band; 0 when none.
    pub count: i64,
}

/// A speaker's record, as data (like PolitiFact's report card): what fact-checkers
/// concluded on their statements and how often they changed position, over their statements
/// of a date range.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Scorecard {
    #[graphql(skip)]
    speaker_id: Uuid,
    /// The first day of the range, as asked; null when the range is open at the start.
    pub from: Option<Date>,
    /// The last day of the range (inclusive), as asked; null when open at the end.
    pub to: Option<Date>,
    /// The speaker's live statements made in the range (by `statedOn`), reported ones
    /// included.
    pub statements: i64,
    /// Of those, statements someone else reported (indirect speech).
    pub reported_statements: i64,
    /// Distinct claims those statements take a stance on.
    pub claims: i64,
    /// Position changes whose later position falls in the range.
    pub position_changes: i64,
    /// PUBLISHED verdicts on those statements (the sum of `bands`); verdicts on claims do
    /// not count.
    pub verdicts: i64,
    /// PUBLISHED verdicts on those statements by rating band, every band listed (0 when
    /// none), from FALSE to UNRATED.
    pub bands: Vec<BandCount>,
}

#[async_graphql::ComplexObject]
impl Scorecard {
    /// The speaker the scorecard is about.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
}

fn range(
    from: Option<Date>,
    to: Option<Date>,
) -> ApiResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::bad_input("to", "comes before `from`"));
    }
    Ok((from.map(|d| d.0), to.map(|d| d.0)))
}

#[derive(Default)]
pub struct PositionQuery;

#[Object]
impl PositionQuery {
    /// A speaker's positions on a claim, oldest first: date (an imprecise date at the start
    /// of its period), then time of day when known, then entry order. Reported statements
    /// are included and flagged. Empty when the speaker never took a stance on the claim;
    /// an unknown speaker or claim is NOT_FOUND. Open to every caller.
    async fn position_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The speaker's id (a UUID; anything else is BAD_USER_INPUT).")] speaker_id: ID,
        #[graphql(desc = "The claim's id (a UUID; anything else is BAD_USER_INPUT).")] claim_id: ID,
        #[graphql(
            desc = "Answer as the database stood at this instant (RFC 3339), rebuilt from the revisions; absent means now."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<Position>> {
        Ok(history(
            ctx,
            uuid("speakerId", &speaker_id)?,
            uuid("claimId", &claim_id)?,
            as_of,
        )
        .await?)
    }

    /// Position changes, oldest first in the order of their later position, as a connection
    /// paged forward. Every filter is optional: with none, every change in the database.
    /// Open to every caller.
    #[expect(
        clippy::too_many_arguments,
        reason = "filter arguments of the contract"
    )]
    async fn position_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this speaker's changes.")] speaker_id: Option<ID>,
        #[graphql(desc = "Only changes on this claim.")] claim_id: Option<ID>,
        #[graphql(
            desc = "Only changes on claims filed under this topic, or whose later statement is filed under it."
        )]
        topic_id: Option<ID>,
        #[graphql(desc = "Only changes whose later position is stated on or after this day.")] from: Option<Date>,
        #[graphql(
            desc = "Only changes whose later position is stated on or before this day; before `from` is BAD_USER_INPUT."
        )]
        to: Option<Date>,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after: `pageInfo.endCursor` of the previous page of this list (opaque). This list pages forward only."
        )]
        after: Option<String>,
    ) -> Result<Conn<PositionChange>> {
        let (from, to) = range(from, to)?;
        let filter = ChangeFilter {
            speaker_id: speaker_id
                .as_ref()
                .map(|id| uuid("speakerId", id))
                .transpose()?,
            claim_id: claim_id
                .as_ref()
                .map(|id| uuid("claimId", id))
                .transpose()?,
            topic_id: topic_id
                .as_ref()
                .map(|id| uuid("topicId", id))
                .transpose()?,
            from,
            to,
        };
        let limit = pagination::forward_limit(first)?;
        let key: Option<ChangeKey> = after
            .as_deref()
            .map(|c| pagination::decode_key("after", CHANGES_CURSOR, c))
            .transpose()?;
        let mut rows = position::changes(db(ctx), &filter, key.as_ref(), limit as u64 + 1).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let total = TotalCount::from_statement(position::count_changes(&filter));
        let mut connection = Connection::with_additional_fields(key.is_some(), more, total);
        connection.edges.extend(rows.into_iter().map(|row| {
            Edge::new(
                pagination::encode_key(CHANGES_CURSOR, &row.key()),
                PositionChange(row),
            )
        }));
        Ok(connection)
    }

    /// A speaker's scorecard: counts of their statements, claims, position changes and
    /// published verdicts by rating band, optionally within a date range of the statements.
    /// An unknown speaker is NOT_FOUND. Open to every caller.
    async fn scorecard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The speaker's id (a UUID; anything else is BAD_USER_INPUT).")] speaker_id: ID,
        #[graphql(desc = "Count statements stated on or after this day; absent: from the first.")]
        from: Option<Date>,
        #[graphql(
            desc = "Count statements stated on or before this day; absent: up to the last. Before `from` is BAD_USER_INPUT."
        )]
        to: Option<Date>,
    ) -> Result<Scorecard> {
        let id = uuid("speakerId", &speaker_id)?;
        let (from_date, to_date) = range(from, to)?;
        ensure_live::<speaker::Entity, _>(db(ctx), id, "speakerId").await?;
        let card = scorecard::scorecard(db(ctx), id, from_date, to_date).await?;
        Ok(Scorecard {
            speaker_id: id,
            from,
            to,
            statements: card.statements,
            reported_statements: card.reported_statements,
            claims: card.claims,
            position_changes: card.position_changes,
            verdicts: card.bands.iter().map(|(_, n)| n).sum(),
            bands: card
                .bands
                .into_iter()
                .map(|(band, count)| BandCount {
                    band: band.into(),
                    count,
                })
                .collect(),
        })
    }
}
