//! `Statement`: what a speaker said on a date, with its stances, appearances,
//! verdicts and links; lookups, the filtered list, and its mutations.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, Select};

use crate::error::{ApiError, ApiResult};
use crate::graphql::article::Article;
use crate::graphql::claim::Claim;
use crate::graphql::common::{DeleteInput, DeletePayload};
use crate::graphql::enums::{DatePrecision, Stance as StanceKind, StatementKind};
use crate::graphql::link::Link;
use crate::graphql::loader::{
    AppearancesOfStatement, ById, Children, LinksFrom, LinksTo, StancesOfStatement,
    TopicsOfStatement,
};
use crate::graphql::pagination::{self, Conn, Ordering, PageArgs, SortValue, TotalCount};
use crate::graphql::position::RatingBand;
use crate::graphql::scalars::{Date, id, uuid, uuids};
use crate::graphql::speaker::Speaker;
use crate::graphql::speaker_role::{RoleOn, SpeakerRole};
use crate::graphql::topic::Topic;
use crate::graphql::verdict::Verdict;
use crate::graphql::{actor, db, loaders, viewer};
use crate::service::as_of::{self, StatementState};
use crate::service::statement::filter::{Filter, Owner, Rows};
use crate::service::statement::{NewAppearance, NewStatement, SnapshotStance, StatementPatch};
use crate::service::validate::format_time_of_day;
use crate::service::{self, Record};
use entity::{appearance, statement, topic};

/// What a speaker said (or was reported to have said) on a date.
///
/// A statement rebuilt "as of" an instant carries its stances of then.
pub struct Statement(pub statement::Model, pub Option<Vec<SnapshotStance>>);

impl From<statement::Model> for Statement {
    fn from(m: statement::Model) -> Self {
        Self(m, None)
    }
}

impl From<StatementState> for Statement {
    fn from(state: StatementState) -> Self {
        Self(state.statement, Some(state.stances))
    }
}

/// What a speaker said (or was reported to have said) on a date, stored once however many
/// articles reported it, with its stances on claims, its appearances, verdicts and links.
/// Every caller sees live statements; their unpublished verdicts and suggested links show
/// to EDITOR and ADMIN only. Read with `asOf`, a statement shows its text and stances of
/// then.
#[Object]
impl Statement {
    /// Stable identifier (UUID v7, time-ordered). Use it in `statement(id:)`, links,
    /// verdicts and mutations.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Who made the statement. For indirect speech, the speaker whose words are reported
    /// (Putin), not the one reporting them (see `reportedBy`).
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.0.speaker_id)
            .await?
            .ok_or_else(|| {
                ApiError::Internal(format!("statement {} has no speaker", self.0.id)).into()
            })
    }
    /// Who reported the statement, for indirect speech ("Lavrov said Putin and Trump
    /// agreed…"); null when the words come first-hand.
    async fn reported_by(&self, ctx: &Context<'_>) -> Result<Option<Speaker>> {
        match self.0.reported_by_id {
            Some(id) => Ok(crate::graphql::speaker::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// Whether this is indirect speech: true exactly when `reportedBy` is set.
    async fn reported(&self) -> bool {
        self.0.reported_by_id.is_some()
    }
    /// What was said, quoted or paraphrased (see `kind`), at most 10,000 characters.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// QUOTE for the speaker's own words, PARAPHRASE for someone's summary of them.
    async fn kind(&self) -> StatementKind {
        self.0.kind.into()
    }
    /// The day it was said; with MONTH or YEAR precision, the first day of that period.
    /// Lists and histories order by it.
    async fn stated_on(&self) -> Date {
        Date(self.0.stated_on)
    }
    /// How much of `statedOn` is known: DAY, MONTH or YEAR.
    async fn stated_on_precision(&self) -> DatePrecision {
        self.0.stated_on_precision.into()
    }
    /// Time of day with its UTC offset, `HH:MM:SS±HH:MM` (`15:04:00-04:00`), when known: it
    /// orders two statements of one day. Null when unknown; only DAY-precision statements
    /// have one.
    async fn stated_time(&self) -> Option<String> {
        self.0
            .stated_time
            .zip(self.0.stated_utc_offset_minutes)
            .map(|(t, o)| format_time_of_day(t, o))
    }
    /// Where it was said, such as `interview with the Kurdish TV channel Rudaw` (at most
    /// 1,000 characters); null when not recorded.
    async fn venue(&self) -> Option<&str> {
        self.0.venue.as_deref()
    }
    /// Background needed to read the statement (at most 5,000 characters); null when none.
    async fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }
    /// The language of `text`, a language tag such as `en` or `ru`; `search` reads the text
    /// with that language's stemming.
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// When the record was entered into ClaimTrack (UTC). Not when the statement was made
    /// (see `statedOn`).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed (UTC); equal to `createdAt` until the first change.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version: 1 at creation, one more on every change. Pass it
    /// back as `version` in update and delete inputs; a stale one is a CONFLICT. A change
    /// of its stances or topics is a new version too.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The claims this statement bears on and its stance on each, in the order the stances
    /// were recorded (by claim id when read with `asOf`). Empty for a statement on no claim
    /// ("I think their position is childish").
    async fn stances(&self, ctx: &Context<'_>) -> Result<Vec<StanceOnClaim>> {
        if let Some(then) = &self.1 {
            return Ok(then
                .iter()
                .map(|s| StanceOnClaim {
                    claim_id: s.claim_id,
                    stance: s.stance,
                })
                .collect());
        }
        let rows = loaders(ctx)
            .load_one(Children::<StancesOfStatement>::new(self.0.id))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|s| StanceOnClaim {
                claim_id: s.claim_id,
                stance: s.stance,
            })
            .collect())
    }
    /// Where the statement was reported: its live appearances in articles, the first
    /// appearance first, then in the order they were recorded. Empty when no article is
    /// recorded.
    async fn appearances(&self, ctx: &Context<'_>) -> Result<Vec<Appearance>> {
        let rows = loaders(ctx)
            .load_one(Children::<AppearancesOfStatement>::new(self.0.id))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Appearance)
            .collect())
    }
    /// Fact-checks of this statement, oldest first. ANONYMOUS and READER callers see
    /// PUBLISHED verdicts only; EDITOR and ADMIN see every status.
    async fn verdicts(&self, ctx: &Context<'_>) -> Result<Vec<Verdict>> {
        let rows = loaders(ctx)
            .load_one(Children::<crate::graphql::loader::VerdictsOfStatement>::new(self.0.id))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|v| crate::graphql::verdict::visible(viewer(ctx), v))
            .map(Verdict::from)
            .collect())
    }
    /// Links from this statement to later statements and to articles, oldest first.
    /// ANONYMOUS and READER callers see CONFIRMED links only; EDITOR and ADMIN also see
    /// SUGGESTED ones. DISMISSED links are never listed here.
    async fn links(&self, ctx: &Context<'_>) -> Result<Vec<Link>> {
        let rows = loaders(ctx)
            .load_one(Children::<LinksFrom>::new(self.0.id))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|l| crate::graphql::link::visible(viewer(ctx), l))
            .map(Link::from)
            .collect())
    }
    /// Links from earlier statements to this one, oldest first; visible as in `links`.
    async fn backlinks(&self, ctx: &Context<'_>) -> Result<Vec<Link>> {
        let rows = loaders(ctx)
            .load_one(Children::<LinksTo>::new(self.0.id))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|l| crate::graphql::link::visible(viewer(ctx), l))
            .map(Link::from)
            .collect())
    }
    /// The role the speaker held on `statedOn`: started on or before that day (or with no
    /// known start) and ended on or after it (or open-ended); where several overlap, the
    /// one started last. Null when no recorded role covers the day.
    async fn speaker_role(&self, ctx: &Context<'_>) -> Result<Option<SpeakerRole>> {
        let role = loaders(ctx)
            .load_one(RoleOn(self.0.speaker_id, self.0.stated_on))
            .await?;
        Ok(role.map(SpeakerRole::from))
    }
    /// The live topics the statement is filed under, by name. Empty when none.
    async fn topics(&self, ctx: &Context<'_>) -> Result<Vec<Topic>> {
        let links = loaders(ctx)
            .load_one(Children::<TopicsOfStatement>::new(self.0.id))
            .await?;
        let ids = links
            .unwrap_or_default()
            .into_iter()
            .map(|t| ById::<topic::Entity>::new(t.topic_id));
        let mut topics: Vec<Topic> = loaders(ctx)
            .load_many(ids)
            .await?
            .into_values()
            .map(Topic::from)
            .collect();
        topics.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(topics)
    }
}

/// A statement's stance on one claim.
pub struct StanceOnClaim {
    claim_id: uuid::Uuid,
    stance: entity::StanceKind,
}

/// A statement's stance on one claim. A statement takes at most one stance per claim.
#[Object(name = "StatementStance")]
impl StanceOnClaim {
    /// The claim the statement bears on.
    async fn claim(&self, ctx: &Context<'_>) -> Result<Claim> {
        crate::graphql::claim::load(ctx, self.claim_id)
            .await?
            .ok_or_else(|| ApiError::not_found("claim").into())
    }
    /// How the statement bears on the claim.
    async fn stance(&self) -> StanceKind {
        self.stance.into()
    }
}

/// A statement reported in an article.
pub struct Appearance(pub appearance::Model);

/// One article's report of a statement: which article, whether it was the first, and where
/// in the source the words are.
#[Object]
impl Appearance {
    /// Stable identifier (UUID v7, time-ordered).
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The article that reported the statement.
    async fn article(&self, ctx: &Context<'_>) -> Result<Article> {
        crate::graphql::article::load(ctx, self.0.article_id)
            .await?
            .ok_or_else(|| ApiError::not_found("article").into())
    }
    /// The statement reported; null when it has been deleted.
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        Ok(load(ctx, self.0.statement_id).await?)
    }
    /// Whether this article is where the statement first appeared; at most one appearance
    /// of a statement is marked.
    async fn first(&self) -> bool {
        self.0.first
    }
    /// The exact words in the source (at most 10,000 characters); null when not recorded.
    async fn excerpt(&self) -> Option<&str> {
        self.0.excerpt.as_deref()
    }
    /// Where the excerpt starts in the article's text, in characters from its start; null
    /// when not recorded.
    async fn char_offset(&self) -> Option<i32> {
        self.0.char_offset
    }
    /// Where the statement is heard in an audio or video source, in milliseconds from its
    /// start; null when not recorded.
    async fn timecode_ms(&self) -> Option<i64> {
        self.0.timecode_ms
    }
    /// When the appearance was recorded (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The appearance's version: 1 when recorded, one more each time its `first` mark moves
    /// to another appearance.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Narrows a list of statements; all given conditions must hold, and an absent one does not
/// narrow. A list matches any of its entries; an empty list matches none.
#[derive(InputObject, Default, Debug, Clone)]
pub struct StatementFilter {
    /// Statements of any of these speakers (as the speaker, not as the one reporting).
    pub speaker_ids: Option<Vec<ID>>,
    /// Statements of any of these speakers, by slug, such as `donald-trump`. Not available
    /// with `asOf`.
    pub speaker_slugs: Option<Vec<String>>,
    /// Statements taking a stance on any of these claims.
    pub claim_ids: Option<Vec<ID>>,
    /// Statements taking a stance on any of these claims, by slug, such as
    /// `russia-us-cyber-security-working-group`. Not available with `asOf`.
    pub claim_slugs: Option<Vec<String>>,
    /// Statements filed directly under any of these topics.
    pub topic_ids: Option<Vec<ID>>,
    /// Statements reported in any of these articles. Not available with `asOf`.
    pub article_ids: Option<Vec<ID>>,
    /// Statements taking this stance: on one of `claimIds` or `claimSlugs` when given, else
    /// on any claim.
    pub stance: Option<StanceKind>,
    /// Stated on or after this day (by `statedOn`: an imprecise date counts as the start of
    /// its period).
    pub stated_from: Option<Date>,
    /// Stated on or before this day; before `statedFrom` is BAD_USER_INPUT.
    pub stated_to: Option<Date>,
    /// Statements in this language, by exact tag such as `en` (`en` does not match
    /// `en-GB`).
    pub language: Option<String>,
    /// Words that must all occur in the text, case-insensitively and without stemming; at
    /// most 1,000 characters, blank does not narrow. Not available with `asOf`. For ranked,
    /// stemmed search use `search`.
    pub text: Option<String>,
    /// Statements with a PUBLISHED verdict in any of these rating bands (see `RatingBand`).
    /// Not available with `asOf`.
    pub verdict_bands: Option<Vec<RatingBand>>,
}

/// Orders of a statement list. Ties are broken by entry order, in the same direction.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum StatementOrder {
    /// Oldest statement first.
    #[default]
    /// By `statedOn`, oldest first; the default.
    StatedOnAsc,
    /// By `statedOn`, newest first.
    StatedOnDesc,
    /// In the order the statements were entered into ClaimTrack, earliest first.
    CreatedAtAsc,
    /// In the order the statements were entered into ClaimTrack, latest first.
    CreatedAtDesc,
}

impl StatementFilter {
    /// The filter read: its ids parsed and its values checked, the field at fault
    /// naming an error.
    pub fn read(&self) -> ApiResult<Filter> {
        let ids = |field: &str, ids: &Option<Vec<ID>>| {
            ids.as_deref().map(|ids| uuids(field, ids)).transpose()
        };
        Filter {
            speaker_ids: ids("filter.speakerIds", &self.speaker_ids)?,
            speaker_slugs: self.speaker_slugs.clone(),
            claim_ids: ids("filter.claimIds", &self.claim_ids)?,
            claim_slugs: self.claim_slugs.clone(),
            topic_ids: ids("filter.topicIds", &self.topic_ids)?,
            article_ids: ids("filter.articleIds", &self.article_ids)?,
            stance: self.stance.map(Into::into),
            stated_from: self.stated_from.map(|d| d.0),
            stated_to: self.stated_to.map(|d| d.0),
            language: self.language.clone(),
            text: self.text.clone(),
            verdict_bands: self
                .verdict_bands
                .as_ref()
                .map(|bands| bands.iter().map(|b| (*b).into()).collect()),
        }
        .checked()
    }
}

/// The ordering of a statement list, as pages and cursors know it.
pub fn ordering(order: StatementOrder) -> Ordering<statement::Entity> {
    match order {
        StatementOrder::StatedOnAsc | StatementOrder::StatedOnDesc => Ordering {
            column: Some(statement::Column::StatedOn),
            key_of: |m| Some(SortValue::Date(m.stated_on)),
            descending: order == StatementOrder::StatedOnDesc,
        },
        StatementOrder::CreatedAtAsc => Ordering::by_id(false),
        StatementOrder::CreatedAtDesc => Ordering::by_id(true),
    }
}

/// One page of statements matching `filter`.
pub async fn list(
    ctx: &Context<'_>,
    filter: StatementFilter,
    order: Option<StatementOrder>,
    args: PageArgs,
) -> ApiResult<Conn<Statement>> {
    let select = filtered(&filter.read()?);
    let ordering = ordering(order.unwrap_or_default());
    pagination::page(db(ctx), select, &ordering, &args).await
}

/// The live statements matching `filter`, as a select over `statement`.
pub fn filtered(filter: &Filter) -> Select<statement::Entity> {
    filtered_within(filter, None)
}

/// [`filtered`], of `owner` (a correlated speaker or claim) where one is given.
pub fn filtered_within(filter: &Filter, owner: Option<Owner>) -> Select<statement::Entity> {
    statement::Entity::live().filter(filter.condition_within(Rows::Table("statement"), owner))
}

const AS_OF_CURSOR: &str = "statement_as_of";

/// One page of statements as they stood at `at`.
async fn list_as_of(
    ctx: &Context<'_>,
    filter: StatementFilter,
    at: DateTime<Utc>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Conn<Statement>> {
    let filter = filter.read()?;
    let limit = pagination::forward_limit(first)?;
    let cursor: Option<(chrono::NaiveDate, uuid::Uuid)> = after
        .as_deref()
        .map(|c| pagination::decode_key("after", AS_OF_CURSOR, c))
        .transpose()?;
    let fetch = u64::try_from(limit + 1).unwrap_or(u64::MAX);
    let (mut rest, total) = as_of::statements(db(ctx), &filter, at, cursor, Some(fetch)).await?;
    let more = rest.len() > limit;
    rest.truncate(limit);
    let mut connection = async_graphql::connection::Connection::with_additional_fields(
        cursor.is_some(),
        more,
        TotalCount::known(usize::try_from(total).unwrap_or_default()),
    );
    connection.edges.extend(rest.into_iter().map(|state| {
        let key = (state.statement.stated_on, state.statement.id);
        async_graphql::connection::Edge::new(
            pagination::encode_key(AS_OF_CURSOR, &key),
            Statement::from(state),
        )
    }));
    Ok(connection)
}

/// Loads one statement through the batch loader.
pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Statement>> {
    Ok(loaders(ctx)
        .load_one(ById::<statement::Entity>::new(id))
        .await?
        .map(Statement::from))
}

#[derive(Default)]
pub struct StatementQuery;

#[Object]
impl StatementQuery {
    /// One live statement; null when none matches. With `asOf`, the statement as it stood
    /// then (its text and stances of then): null when it did not exist yet or was deleted
    /// by then. Open to every caller.
    async fn statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The statement's id (a UUID; anything else is BAD_USER_INPUT).")] id: ID,
        #[graphql(
            desc = "Answer as the database stood at this instant (RFC 3339), rebuilt from the revisions; absent means now."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<Statement>> {
        let id = uuid("id", &id)?;
        if let Some(at) = as_of {
            let state: Option<StatementState> = as_of::record(db(ctx), id, at).await?;
            return Ok(state.map(Statement::from));
        }
        Ok(statement::Entity::live()
            .filter(statement::Column::Id.eq(id))
            .one(db(ctx))
            .await
            .map_err(ApiError::from)?
            .map(Statement::from))
    }

    /// Live statements matching `filter`, oldest first unless `orderBy` says otherwise, as
    /// a Relay connection. With `asOf`: the statements as they stood then, oldest first,
    /// paged forward with `first`/`after` only (the filter's `text`, `articleIds`,
    /// `speakerSlugs`, `claimSlugs` and `verdictBands` are refused then). Open to every
    /// caller.
    #[expect(clippy::too_many_arguments, reason = "Relay arguments")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Conditions on speakers, claims, stance, topics, articles, dates, language, text and verdicts; absent lists every statement."
        )]
        filter: Option<StatementFilter>,
        #[graphql(
            desc = "Order of the list; STATED_ON_ASC (oldest statement first) when absent, and the only order allowed with `asOf`."
        )]
        order_by: Option<StatementOrder>,
        #[graphql(
            desc = "Page size counted from the start of the list: 0 to 100; 20 when neither `first` nor `last` is given."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after (an `edges.cursor` or `pageInfo.endCursor` of this list); opaque, and refused for another list or ordering."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted from the end of the list, paging backward: 0 to 100. Give `first` or `last`, not both. Not with `asOf`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor to stop before (an `edges.cursor` or `pageInfo.startCursor` of this list); alone or with `last` it pages backward. Give `after` or `before`, not both. Not with `asOf`."
        )]
        before: Option<String>,
        #[graphql(
            desc = "List the statements as they stood at this instant (RFC 3339), rebuilt from the revisions; absent means now."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Conn<Statement>> {
        if let Some(at) = as_of {
            if last.is_some() || before.is_some() {
                return Err(ApiError::bad_input(
                    "last",
                    "with asOf, page forward with first/after",
                )
                .into());
            }
            if order_by.is_some_and(|o| o != StatementOrder::StatedOnAsc) {
                return Err(ApiError::bad_input(
                    "orderBy",
                    "with asOf, statements come oldest first",
                )
                .into());
            }
            return Ok(list_as_of(ctx, filter.unwrap_or_default(), at, first, after).await?);
        }
        Ok(list(
            ctx,
            filter.unwrap_or_default(),
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await?)
    }
}

/// A statement's stance on one claim, for `createStatement` and `updateStatement`.
#[derive(InputObject, Debug, Clone)]
pub struct StanceInput {
    /// A live claim, at most once per statement; an unknown one is NOT_FOUND.
    pub claim_id: ID,
    /// How the statement bears on that claim.
    pub stance: StanceKind,
}

/// An article that reported a new statement, for `createStatement`.
#[derive(InputObject, Debug, Clone)]
pub struct AppearanceInput {
    /// A live article, at most once per statement; an unknown one is NOT_FOUND.
    pub article_id: ID,
    #[graphql(default)]
    /// Whether this article is where the statement first appeared; at most one of the list.
    /// False by default.
    pub first: bool,
    /// The exact words in the source, at most 10,000 characters; absent or blank stores
    /// none.
    pub excerpt: Option<String>,
    /// Where the excerpt starts in the article's text, in characters; not negative.
    pub char_offset: Option<i32>,
    /// Where the statement is heard in audio or video, in milliseconds from the start; not
    /// negative.
    pub timecode_ms: Option<i64>,
}

/// A new statement with its stances, topics and appearances.
#[derive(InputObject, Debug)]
pub struct CreateStatementInput {
    /// The live speaker who made the statement (for indirect speech, the one whose words
    /// are reported); an unknown one is NOT_FOUND.
    pub speaker_id: ID,
    /// What was said: non-empty after trimming, at most 10,000 characters.
    pub text: String,
    /// QUOTE for the speaker's own words, PARAPHRASE for a summary.
    pub kind: StatementKind,
    /// The day it was said, not in the future; with MONTH precision the first of the month,
    /// with YEAR precision 1 January (BAD_USER_INPUT otherwise).
    pub stated_on: Date,
    #[graphql(default_with = "DatePrecision::Day")]
    /// How much of `statedOn` is known; DAY by default.
    pub stated_on_precision: DatePrecision,
    /// Time of day with its UTC offset: `HH:MM` or `HH:MM:SS`, then `Z` or `±HH:MM`
    /// (`15:04-04:00`, `07:30Z`). Only with DAY precision; absent when unknown.
    pub stated_time: Option<String>,
    /// Where it was said, at most 1,000 characters; absent or blank stores none.
    pub venue: Option<String>,
    /// Background for reading it, at most 5,000 characters; absent or blank stores none.
    pub context: Option<String>,
    /// The language of the text, a language tag such as `en`, `ru` or `pt-BR`.
    pub language: String,
    /// For indirect speech: the live speaker who reported the statement, never `speakerId`
    /// itself. Absent for first-hand statements.
    pub reported_by_id: Option<ID>,
    #[graphql(default)]
    /// Its stances on claims, at most 50, one per claim. Empty by default: a statement on
    /// no claim.
    pub stances: Vec<StanceInput>,
    #[graphql(default)]
    /// Live topics to file it under, at most 50; repeats are dropped. Empty by default.
    pub topic_ids: Vec<ID>,
    #[graphql(default)]
    /// Articles that reported it, each at most once and at most one marked `first`. Empty
    /// by default.
    pub appearances: Vec<AppearanceInput>,
}

/// Changes to a statement read at `version`. An absent field is left as it is; `null`
/// clears a clearable one. The merged statement is checked as a new one would be, and a
/// date or time that would make one of its links point back in time is refused.
#[derive(InputObject, Debug)]
pub struct UpdateStatementInput {
    /// The statement to change.
    pub id: ID,
    /// The `version` the client last read; a CONFLICT when the record has changed since.
    pub version: i32,
    /// Moves the statement to another live speaker; absent keeps it.
    pub speaker_id: Option<ID>,
    /// New text (non-empty, at most 10,000 characters); absent keeps it.
    pub text: Option<String>,
    /// A new kind; absent keeps it.
    pub kind: Option<StatementKind>,
    /// A new date (not in the future; the start of its period for MONTH or YEAR precision);
    /// absent keeps it.
    pub stated_on: Option<Date>,
    /// A new precision; absent keeps it.
    pub stated_on_precision: Option<DatePrecision>,
    /// A new time of day with UTC offset (DAY precision only), written as in
    /// `createStatement`; `null` clears it, absent keeps it.
    pub stated_time: MaybeUndefined<String>,
    /// A new venue (at most 1,000 characters); `null` or blank clears it, absent keeps it.
    pub venue: MaybeUndefined<String>,
    /// New background (at most 5,000 characters); `null` or blank clears it, absent keeps
    /// it.
    pub context: MaybeUndefined<String>,
    /// A new language tag; absent keeps it.
    pub language: Option<String>,
    /// Who reported it (a live speaker other than the statement's); `null` makes it
    /// first-hand, absent keeps it.
    pub reported_by_id: MaybeUndefined<ID>,
    /// Replaces all its stances (at most 50, one per claim); an empty list removes them,
    /// absent keeps them.
    pub stances: Option<Vec<StanceInput>>,
    /// Replaces all its topics (at most 50); an empty list removes them, absent keeps them.
    pub topic_ids: Option<Vec<ID>>,
}

/// Another article that reported an existing statement.
#[derive(InputObject, Debug)]
pub struct AddAppearanceInput {
    /// The live statement; an unknown one is NOT_FOUND.
    pub statement_id: ID,
    /// The live article; one the statement already appears in is BAD_USER_INPUT.
    pub article_id: ID,
    #[graphql(default)]
    /// Marks this as the statement's first appearance, moving the mark from any other
    /// (which gets a new version). False by default.
    pub first: bool,
    /// The exact words in the source, at most 10,000 characters; absent or blank stores
    /// none.
    pub excerpt: Option<String>,
    /// Where the excerpt starts in the article's text, in characters; not negative.
    pub char_offset: Option<i32>,
    /// Where the statement is heard in audio or video, in milliseconds from the start; not
    /// negative.
    pub timecode_ms: Option<i64>,
}

pub struct CreateStatementPayload(pub statement::Model);

/// The result of `createStatement`.
#[Object]
impl CreateStatementPayload {
    /// The statement as stored, at version 1.
    async fn statement(&self) -> Statement {
        Statement::from(self.0.clone())
    }
}

pub struct UpdateStatementPayload(pub statement::Model);

/// The result of `updateStatement`.
#[Object]
impl UpdateStatementPayload {
    /// The statement after the change, at its new version.
    async fn statement(&self) -> Statement {
        Statement::from(self.0.clone())
    }
}

pub struct AddAppearancePayload(pub appearance::Model);

/// The result of `addAppearance`.
#[Object]
impl AddAppearancePayload {
    /// The appearance as recorded.
    async fn appearance(&self) -> Appearance {
        Appearance(self.0.clone())
    }
}

fn stances(field: &str, input: &[StanceInput]) -> ApiResult<Vec<(uuid::Uuid, entity::StanceKind)>> {
    input
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok((
                uuid(&format!("{field}[{i}].claimId"), &s.claim_id)?,
                s.stance.into(),
            ))
        })
        .collect()
}

#[derive(Default)]
pub struct StatementMutation;

#[Object]
impl StatementMutation {
    /// Records a statement with its stances, topics and appearances, all or nothing. The
    /// speaker's position histories are then read again: each position change without a
    /// link gets a SUGGESTED REVERSES link, earlier statement to later, for an editor to
    /// settle (see `contradictionCandidates`). Needs an EDITOR or ADMIN key.
    async fn create_statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new statement: speaker, text, kind, date and language, with its stances, topics and appearances."
        )]
        input: CreateStatementInput,
    ) -> Result<CreateStatementPayload> {
        let appearances = input
            .appearances
            .iter()
            .enumerate()
            .map(|(i, a)| {
                Ok(NewAppearance {
                    article_id: uuid(&format!("input.appearances[{i}].articleId"), &a.article_id)?,
                    first: a.first,
                    excerpt: a.excerpt.clone(),
                    char_offset: a.char_offset,
                    timecode_ms: a.timecode_ms,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let new = NewStatement {
            speaker_id: uuid("input.speakerId", &input.speaker_id)?,
            text: input.text,
            kind: input.kind.into(),
            stated_on: input.stated_on.0,
            stated_on_precision: input.stated_on_precision.into(),
            stated_time: input.stated_time,
            venue: input.venue,
            context: input.context,
            language: input.language,
            reported_by_id: input
                .reported_by_id
                .as_ref()
                .map(|id| uuid("input.reportedById", id))
                .transpose()?,
            stances: stances("input.stances", &input.stances)?,
            topic_ids: uuids("input.topicIds", &input.topic_ids)?,
            appearances,
        };
        let model = service::statement::create(db(ctx), &actor(ctx), new).await?;
        Ok(CreateStatementPayload(model))
    }

    /// Changes a statement read at `version`; a stale version is a CONFLICT. Contradiction
    /// candidates are proposed or withdrawn to match the new position histories. Needs an
    /// EDITOR or ADMIN key.
    async fn update_statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The statement, the version read, and the fields to change.")]
        input: UpdateStatementInput,
    ) -> Result<UpdateStatementPayload> {
        let reported_by: Option<Option<ID>> = input.reported_by_id.into();
        let patch = StatementPatch {
            speaker_id: input
                .speaker_id
                .as_ref()
                .map(|id| uuid("input.speakerId", id))
                .transpose()?,
            text: input.text,
            kind: input.kind.map(Into::into),
            stated_on: input.stated_on.map(|d| d.0),
            stated_on_precision: input.stated_on_precision.map(Into::into),
            stated_time: input.stated_time.into(),
            venue: input.venue.into(),
            context: input.context.into(),
            language: input.language,
            reported_by_id: reported_by
                .map(|r| r.map(|id| uuid("input.reportedById", &id)).transpose())
                .transpose()?,
            stances: input
                .stances
                .as_deref()
                .map(|s| stances("input.stances", s))
                .transpose()?,
            topic_ids: input
                .topic_ids
                .as_deref()
                .map(|t| uuids("input.topicIds", t))
                .transpose()?,
        };
        let id = uuid("input.id", &input.id)?;
        let model =
            service::statement::update(db(ctx), &actor(ctx), id, input.version, patch).await?;
        Ok(UpdateStatementPayload(model))
    }

    /// Soft-deletes a statement read at `version`, with every link to and from it. Refused
    /// (CONFLICT) while live verdicts review it. Needs an EDITOR or ADMIN key.
    async fn delete_statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The statement and the version read.")] input: DeleteInput,
    ) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::statement::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }

    /// Records that a statement was reported in another article. Needs an EDITOR or ADMIN
    /// key.
    async fn add_appearance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The statement, the article and where in it the words are.")]
        input: AddAppearanceInput,
    ) -> Result<AddAppearancePayload> {
        let statement_id = uuid("input.statementId", &input.statement_id)?;
        let appearance = NewAppearance {
            article_id: uuid("input.articleId", &input.article_id)?,
            first: input.first,
            excerpt: input.excerpt,
            char_offset: input.char_offset,
            timecode_ms: input.timecode_ms,
        };
        let model =
            service::statement::add_appearance(db(ctx), &actor(ctx), statement_id, appearance)
                .await?;
        Ok(AddAppearancePayload(model))
    }
}
