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
use crate::service::scorecard::{self, Band};
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

#[Object]
impl Position {
    async fn statement(&self, ctx: &Context<'_>) -> Result<Statement> {
        if let Some(statement) = &self.1 {
            return Ok(Statement::from(statement.clone()));
        }
        crate::graphql::statement::load(ctx, self.0.statement_id)
            .await?
            .ok_or_else(|| ApiError::not_found("statement").into())
    }
    async fn stance(&self) -> Stance {
        self.0.stance.into()
    }
    async fn stated_on(&self) -> Date {
        Date(self.0.stated_on)
    }
    async fn stated_on_precision(&self) -> DatePrecision {
        self.0.stated_on_precision.into()
    }
    /// Indirect speech: someone else reported the speaker's position.
    async fn reported(&self) -> bool {
        self.0.reported
    }
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.0.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
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

#[Object]
impl PositionChange {
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.0.to.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
    async fn claim(&self, ctx: &Context<'_>) -> Result<Claim> {
        crate::graphql::claim::load(ctx, self.0.to.claim_id)
            .await?
            .ok_or_else(|| ApiError::not_found("claim").into())
    }
    async fn from(&self) -> Position {
        Position::from(self.0.from.clone())
    }
    async fn to(&self) -> Position {
        Position::from(self.0.to.clone())
    }
    /// Days between the two positions.
    async fn days(&self) -> i64 {
        self.0.days()
    }
    /// Confirmed REVERSES, SOFTENS or HARDENS links from the earlier statement to the later.
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

#[Object]
impl SpeakerPosition {
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.latest.speaker_id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
    /// The speaker's most recent position.
    async fn latest(&self) -> Position {
        Position::from(self.latest.clone())
    }
    /// How many positions the speaker took on the claim.
    async fn positions(&self) -> usize {
        self.positions
    }
    /// How many times the speaker's stance changed.
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

/// Rating bands of normalized scores (see `scorecard`).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum RatingBand {
    /// Score below 0.2.
    False,
    /// Score from 0.2 to below 0.4.
    MostlyFalse,
    /// Score from 0.4 to below 0.6.
    Mixed,
    /// Score from 0.6 to below 0.8.
    MostlyTrue,
    /// Score 0.8 or more.
    True,
    /// A rating label without a numeric rating.
    Unrated,
}

impl From<Band> for RatingBand {
    fn from(b: Band) -> Self {
        match b {
            Band::False => Self::False,
            Band::MostlyFalse => Self::MostlyFalse,
            Band::Mixed => Self::Mixed,
            Band::MostlyTrue => Self::MostlyTrue,
            Band::True => Self::True,
            Band::Unrated => Self::Unrated,
        }
    }
}

#[derive(SimpleObject)]
pub struct BandCount {
    pub band: RatingBand,
    pub count: i64,
}

/// A speaker's record: what fact-checkers concluded and how often they changed position.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Scorecard {
    #[graphql(skip)]
    speaker_id: Uuid,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Statements made in the range (reported ones included).
    pub statements: i64,
    /// Of those, statements reported by someone else.
    pub reported_statements: i64,
    /// Distinct claims the statements take a stance on.
    pub claims: i64,
    /// Position changes whose later position falls in the range.
    pub position_changes: i64,
    /// Published verdicts on the statements.
    pub verdicts: i64,
    /// Published verdicts by rating band; every band is listed.
    pub bands: Vec<BandCount>,
}

#[async_graphql::ComplexObject]
impl Scorecard {
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
    /// A speaker's positions on a claim, oldest first: date (an imprecise date at the
    /// start of its period), then time of day when known, then entry order. Reported
    /// statements are included and flagged.
    async fn position_history(
        &self,
        ctx: &Context<'_>,
        speaker_id: ID,
        claim_id: ID,
        #[graphql(desc = "Answer as the database stood at this instant.")] as_of: Option<
            DateTime<Utc>,
        >,
    ) -> Result<Vec<Position>> {
        Ok(history(
            ctx,
            uuid("speakerId", &speaker_id)?,
            uuid("claimId", &claim_id)?,
            as_of,
        )
        .await?)
    }

    /// Position changes, in the order of their later position; `from`/`to` bound the
    /// later position's date.
    #[expect(
        clippy::too_many_arguments,
        reason = "filter arguments of the contract"
    )]
    async fn position_changes(
        &self,
        ctx: &Context<'_>,
        speaker_id: Option<ID>,
        claim_id: Option<ID>,
        topic_id: Option<ID>,
        from: Option<Date>,
        to: Option<Date>,
        first: Option<i32>,
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

    /// A speaker's scorecard, optionally within a date range (of statements).
    async fn scorecard(
        &self,
        ctx: &Context<'_>,
        speaker_id: ID,
        from: Option<Date>,
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
