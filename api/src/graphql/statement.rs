//! `Statement`: what a speaker said on a date, with its stances, appearances,
//! verdicts and links; lookups, the filtered list, and its mutations.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
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

#[Object]
impl Statement {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Who made the statement.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.0.speaker_id)
            .await?
            .ok_or_else(|| {
                ApiError::Internal(format!("statement {} has no speaker", self.0.id)).into()
            })
    }
    /// Who reported it, for indirect speech ("Lavrov said Putin and Trump agreed…").
    async fn reported_by(&self, ctx: &Context<'_>) -> Result<Option<Speaker>> {
        match self.0.reported_by_id {
            Some(id) => Ok(crate::graphql::speaker::load(ctx, id).await?),
            None => Ok(None),
        }
    }
    /// Whether this is indirect speech (`reportedBy` is set).
    async fn reported(&self) -> bool {
        self.0.reported_by_id.is_some()
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn kind(&self) -> StatementKind {
        self.0.kind.into()
    }
    /// The day it was said; with MONTH or YEAR precision, the start of that period.
    async fn stated_on(&self) -> Date {
        Date(self.0.stated_on)
    }
    async fn stated_on_precision(&self) -> DatePrecision {
        self.0.stated_on_precision.into()
    }
    /// Time of day with UTC offset (`15:04:00-04:00`), when known.
    async fn stated_time(&self) -> Option<String> {
        self.0
            .stated_time
            .zip(self.0.stated_utc_offset_minutes)
            .map(|(t, o)| format_time_of_day(t, o))
    }
    async fn venue(&self) -> Option<&str> {
        self.0.venue.as_deref()
    }
    async fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }
    async fn language(&self) -> &str {
        &self.0.language
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Pass this back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The claims this statement bears on, and how.
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
    /// Where it was reported, first appearance first.
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
    /// Fact-checks of this statement.
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
    /// Links from this statement to later statements and articles.
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
    /// Links from earlier statements to this one.
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
    /// The role the speaker held on the day the statement was made.
    async fn speaker_role(&self, ctx: &Context<'_>) -> Result<Option<SpeakerRole>> {
        let role = loaders(ctx)
            .load_one(RoleOn(self.0.speaker_id, self.0.stated_on))
            .await?;
        Ok(role.map(SpeakerRole::from))
    }
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

#[Object(name = "StatementStance")]
impl StanceOnClaim {
    async fn claim(&self, ctx: &Context<'_>) -> Result<Claim> {
        crate::graphql::claim::load(ctx, self.claim_id)
            .await?
            .ok_or_else(|| ApiError::not_found("claim").into())
    }
    async fn stance(&self) -> StanceKind {
        self.stance.into()
    }
}

/// A statement reported in an article.
pub struct Appearance(pub appearance::Model);

#[Object]
impl Appearance {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn article(&self, ctx: &Context<'_>) -> Result<Article> {
        crate::graphql::article::load(ctx, self.0.article_id)
            .await?
            .ok_or_else(|| ApiError::not_found("article").into())
    }
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<Statement>> {
        Ok(load(ctx, self.0.statement_id).await?)
    }
    /// Whether this is where the statement first appeared.
    async fn first(&self) -> bool {
        self.0.first
    }
    /// The exact words in the source.
    async fn excerpt(&self) -> Option<&str> {
        self.0.excerpt.as_deref()
    }
    /// Character offset of the excerpt in the source text.
    async fn char_offset(&self) -> Option<i32> {
        self.0.char_offset
    }
    /// Position in audio or video, in milliseconds.
    async fn timecode_ms(&self) -> Option<i64> {
        self.0.timecode_ms
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Narrows a list of statements; all given conditions must hold.
#[derive(InputObject, Default, Debug, Clone)]
pub struct StatementFilter {
    pub speaker_ids: Option<Vec<ID>>,
    /// Speakers by slug, such as `donald-trump`.
    pub speaker_slugs: Option<Vec<String>>,
    /// Statements taking a stance on any of these claims.
    pub claim_ids: Option<Vec<ID>>,
    /// Claims by slug, such as `russia-us-cyber-security-working-group`.
    pub claim_slugs: Option<Vec<String>>,
    /// Statements filed under any of these topics.
    pub topic_ids: Option<Vec<ID>>,
    /// Statements reported in any of these articles.
    pub article_ids: Option<Vec<ID>>,
    /// Statements taking this stance (on one of `claimIds`, when given).
    pub stance: Option<StanceKind>,
    pub stated_from: Option<Date>,
    pub stated_to: Option<Date>,
    pub language: Option<String>,
    /// Words that must all occur in the text.
    pub text: Option<String>,
    /// Statements with a published verdict in any of these rating bands.
    pub verdict_bands: Option<Vec<RatingBand>>,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, Default)]
pub enum StatementOrder {
    /// Oldest statement first.
    #[default]
    StatedOnAsc,
    StatedOnDesc,
    /// Order of entry into ClaimTrack.
    CreatedAtAsc,
    CreatedAtDesc,
}

/// One page of statements matching `filter`.
pub async fn list(
    ctx: &Context<'_>,
    filter: StatementFilter,
    order: Option<StatementOrder>,
    args: PageArgs,
) -> ApiResult<Conn<Statement>> {
    let select = filtered(&filter)?;
    let ordering = match order.unwrap_or_default() {
        StatementOrder::StatedOnAsc | StatementOrder::StatedOnDesc => {
            Ordering::<statement::Entity> {
                column: Some(statement::Column::StatedOn),
                key_of: |m| Some(SortValue::Date(m.stated_on)),
                descending: order == Some(StatementOrder::StatedOnDesc),
            }
        }
        StatementOrder::CreatedAtAsc => Ordering::by_id(false),
        StatementOrder::CreatedAtDesc => Ordering::by_id(true),
    };
    pagination::page(db(ctx), select, &ordering, &args).await
}

/// The live statements matching `filter`, as a select over `statement` (search reuses
/// its conditions).
pub fn filtered(filter: &StatementFilter) -> ApiResult<Select<statement::Entity>> {
    let mut select = statement::Entity::live();
    if let Some(ids) = &filter.speaker_ids {
        select =
            select.filter(statement::Column::SpeakerId.is_in(uuids("filter.speakerIds", ids)?));
    }
    if let Some(slugs) = &filter.speaker_slugs {
        select = select.filter(Expr::cust_with_values(
            "statement.speaker_id IN (SELECT id FROM speaker WHERE slug = ANY($1) AND deleted_at IS NULL)",
            [slugs.clone()],
        ));
    }
    if let Some(slugs) = &filter.claim_slugs {
        select = select.filter(Expr::cust_with_values(
            "EXISTS (SELECT 1 FROM stance s JOIN claim c ON c.id = s.claim_id WHERE s.statement_id = statement.id \
             AND c.slug = ANY($1) AND c.deleted_at IS NULL AND ($2::stance_kind IS NULL OR s.stance = $2::stance_kind))",
            [sea_orm::Value::from(slugs.clone()), stance_value(filter.stance.map(Into::into))],
        ));
    }
    let stance = filter.stance.map(entity::StanceKind::from);
    match (&filter.claim_ids, stance) {
        (Some(ids), stance) => {
            let ids = uuids("filter.claimIds", ids)?;
            select = select.filter(Expr::cust_with_values(
                "EXISTS (SELECT 1 FROM stance s WHERE s.statement_id = statement.id AND s.claim_id = ANY($1) \
                 AND ($2::stance_kind IS NULL OR s.stance = $2::stance_kind))",
                [sea_orm::Value::from(ids), stance_value(stance)],
            ));
        }
        (None, Some(stance)) if filter.claim_slugs.is_none() => {
            select = select.filter(Expr::cust_with_values(
                "EXISTS (SELECT 1 FROM stance s WHERE s.statement_id = statement.id AND s.stance = $1::stance_kind)",
                [stance_value(Some(stance))],
            ));
        }
        (None, _) => {}
    }
    if let Some(ids) = &filter.topic_ids {
        select = select.filter(Expr::cust_with_values(
            "EXISTS (SELECT 1 FROM statement_topic t WHERE t.statement_id = statement.id AND t.topic_id = ANY($1))",
            [uuids("filter.topicIds", ids)?],
        ));
    }
    if let Some(ids) = &filter.article_ids {
        select = select.filter(Expr::cust_with_values(
            "EXISTS (SELECT 1 FROM appearance a WHERE a.statement_id = statement.id AND a.article_id = ANY($1) \
             AND a.deleted_at IS NULL)",
            [uuids("filter.articleIds", ids)?],
        ));
    }
    if let (Some(from), Some(to)) = (filter.stated_from, filter.stated_to)
        && from > to
    {
        return Err(ApiError::bad_input(
            "filter.statedTo",
            "comes before statedFrom",
        ));
    }
    if let Some(from) = filter.stated_from {
        select = select.filter(statement::Column::StatedOn.gte(from.0));
    }
    if let Some(to) = filter.stated_to {
        select = select.filter(statement::Column::StatedOn.lte(to.0));
    }
    if let Some(language) = &filter.language {
        select = select.filter(statement::Column::Language.eq(language.as_str()));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if text.chars().count() > 1000 {
            return Err(ApiError::bad_input(
                "filter.text",
                "is longer than 1000 characters",
            ));
        }
        select = select.filter(Expr::cust_with_values(
            "to_tsvector('simple', statement.text) @@ plainto_tsquery('simple', $1)",
            [text.to_owned()],
        ));
    }
    if let Some(bands) = &filter.verdict_bands {
        // No band listed matches nothing, as an empty list of ids does.
        let ranges: Vec<&str> = bands.iter().map(|b| band_condition(*b)).collect();
        let any = if ranges.is_empty() {
            "false".to_owned()
        } else {
            ranges.join(" OR ")
        };
        select = select.filter(Expr::cust(format!(
            "EXISTS (SELECT 1 FROM verdict v WHERE v.statement_id = statement.id AND v.status = 'PUBLISHED' \
             AND v.deleted_at IS NULL AND ({any}))"
        )));
    }
    Ok(select)
}

/// The scores of one rating band, as a condition on a verdict `v` (see `scorecard`).
fn band_condition(band: RatingBand) -> &'static str {
    match band {
        RatingBand::False => "v.score < 0.2",
        RatingBand::MostlyFalse => "(v.score >= 0.2 AND v.score < 0.4)",
        RatingBand::Mixed => "(v.score >= 0.4 AND v.score < 0.6)",
        RatingBand::MostlyTrue => "(v.score >= 0.6 AND v.score < 0.8)",
        RatingBand::True => "v.score >= 0.8",
        RatingBand::Unrated => "v.score IS NULL",
    }
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
    for (given, field) in [
        (filter.text.is_some(), "filter.text"),
        (filter.article_ids.is_some(), "filter.articleIds"),
        (filter.speaker_slugs.is_some(), "filter.speakerSlugs"),
        (filter.claim_slugs.is_some(), "filter.claimSlugs"),
        (filter.verdict_bands.is_some(), "filter.verdictBands"),
    ] {
        if given {
            return Err(ApiError::bad_input(field, "is not available with asOf"));
        }
    }
    let wanted = as_of::StatementsAt {
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
        stance: filter.stance.map(Into::into),
        topic_ids: filter
            .topic_ids
            .as_deref()
            .map(|ids| uuids("filter.topicIds", ids))
            .transpose()?,
        stated_from: filter.stated_from.map(|d| d.0),
        stated_to: filter.stated_to.map(|d| d.0),
        language: filter.language,
    };
    let limit = pagination::forward_limit(first)?;
    let cursor: Option<(chrono::NaiveDate, uuid::Uuid)> = after
        .as_deref()
        .map(|c| pagination::decode_key("after", AS_OF_CURSOR, c))
        .transpose()?;
    let all = as_of::statements(db(ctx), &wanted, at).await?;
    let total = all.len();
    let mut rest: Vec<StatementState> = all
        .into_iter()
        .filter(|s| cursor.is_none_or(|c| (s.statement.stated_on, s.statement.id) > c))
        .take(limit + 1)
        .collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let mut connection = async_graphql::connection::Connection::with_additional_fields(
        cursor.is_some(),
        more,
        TotalCount::known(total),
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

fn stance_value(stance: Option<entity::StanceKind>) -> sea_orm::Value {
    use sea_orm::ActiveEnum;
    sea_orm::Value::String(stance.map(|s| s.to_value()))
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
    /// One statement; with `asOf`, as it stood then (its text and stances of then).
    async fn statement(
        &self,
        ctx: &Context<'_>,
        id: ID,
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

    /// Statements matching `filter`, oldest first unless `orderBy` says otherwise.
    /// With `asOf`: the statements as they stood then, oldest first, paged with
    /// `first`/`after` (the filter's text, article and slug conditions do not apply
    /// to the past).
    #[expect(clippy::too_many_arguments, reason = "Relay arguments")]
    async fn statements(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatementFilter>,
        order_by: Option<StatementOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
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

#[derive(InputObject, Debug, Clone)]
pub struct StanceInput {
    pub claim_id: ID,
    pub stance: StanceKind,
}

#[derive(InputObject, Debug, Clone)]
pub struct AppearanceInput {
    pub article_id: ID,
    #[graphql(default)]
    pub first: bool,
    pub excerpt: Option<String>,
    pub char_offset: Option<i32>,
    pub timecode_ms: Option<i64>,
}

#[derive(InputObject, Debug)]
pub struct CreateStatementInput {
    pub speaker_id: ID,
    pub text: String,
    pub kind: StatementKind,
    pub stated_on: Date,
    #[graphql(default_with = "DatePrecision::Day")]
    pub stated_on_precision: DatePrecision,
    /// Time of day with UTC offset, such as `15:04-04:00`.
    pub stated_time: Option<String>,
    pub venue: Option<String>,
    pub context: Option<String>,
    pub language: String,
    /// For indirect speech: who reported the statement.
    pub reported_by_id: Option<ID>,
    #[graphql(default)]
    pub stances: Vec<StanceInput>,
    #[graphql(default)]
    pub topic_ids: Vec<ID>,
    #[graphql(default)]
    pub appearances: Vec<AppearanceInput>,
}

#[derive(InputObject, Debug)]
pub struct UpdateStatementInput {
    pub id: ID,
    /// The version the client read.
    pub version: i32,
    pub speaker_id: Option<ID>,
    pub text: Option<String>,
    pub kind: Option<StatementKind>,
    pub stated_on: Option<Date>,
    pub stated_on_precision: Option<DatePrecision>,
    pub stated_time: MaybeUndefined<String>,
    pub venue: MaybeUndefined<String>,
    pub context: MaybeUndefined<String>,
    pub language: Option<String>,
    pub reported_by_id: MaybeUndefined<ID>,
    /// Replaces all stances when given.
    pub stances: Option<Vec<StanceInput>>,
    /// Replaces all topics when given.
    pub topic_ids: Option<Vec<ID>>,
}

#[derive(InputObject, Debug)]
pub struct AddAppearanceInput {
    pub statement_id: ID,
    pub article_id: ID,
    #[graphql(default)]
    pub first: bool,
    pub excerpt: Option<String>,
    pub char_offset: Option<i32>,
    pub timecode_ms: Option<i64>,
}

pub struct CreateStatementPayload(pub statement::Model);

#[Object]
impl CreateStatementPayload {
    async fn statement(&self) -> Statement {
        Statement::from(self.0.clone())
    }
}

pub struct UpdateStatementPayload(pub statement::Model);

#[Object]
impl UpdateStatementPayload {
    async fn statement(&self) -> Statement {
        Statement::from(self.0.clone())
    }
}

pub struct AddAppearancePayload(pub appearance::Model);

#[Object]
impl AddAppearancePayload {
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
    async fn create_statement(
        &self,
        ctx: &Context<'_>,
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

    async fn update_statement(
        &self,
        ctx: &Context<'_>,
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

    async fn delete_statement(
        &self,
        ctx: &Context<'_>,
        input: DeleteInput,
    ) -> Result<DeletePayload> {
        let id = uuid("input.id", &input.id)?;
        let model = service::statement::delete(db(ctx), &actor(ctx), id, input.version).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
            version: model.version,
        })
    }

    /// Records that a statement was reported in an article.
    async fn add_appearance(
        &self,
        ctx: &Context<'_>,
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
