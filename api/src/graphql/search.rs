//! Search: `search` (ranked full-text search over statements with highlighted
//! snippets and facets) and `similarStatements` (repeated and near-duplicate
//! statements); `SimilarStatement` also serves `Claim.matchingStatements`.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::db;
use crate::graphql::enums::Stance;
use crate::graphql::pagination;
use crate::graphql::scalars::uuid;
use crate::graphql::speaker::Speaker;
use crate::graphql::statement::{Statement, StatementFilter};
use crate::graphql::topic::Topic;
use crate::service::search::similar::{self, Similar};
use crate::service::search::{self, Conditions, Hit, Query, RankKey};
use crate::service::sql::Params;
use crate::service::statement::filter::Rows;
use entity::{claim, statement};

/// Names search cursors, so a cursor of another list is refused.
const CURSOR: &str = "search";

/// A page of search hits.
pub type SearchConnection = Connection<String, SearchHit, SearchResults, EmptyFields>;

/// One statement found by `search`.
pub struct SearchHit(Hit);

/// One statement found by `search`, with its relevance and a highlighted snippet.
#[Object]
impl SearchHit {
    /// The statement found, with its text, speaker, date and stances.
    async fn statement(&self) -> Statement {
        Statement::from(self.0.statement.clone())
    }
    /// Relevance (`ts_rank`, weighted: the statement's own words count most): higher is
    /// better; only comparable within one search.
    async fn rank(&self) -> f64 {
        // The shortest decimal of the stored single-precision value (0.1, not 0.10000000149).
        self.0.rank.to_string().parse().unwrap_or_default()
    }
    /// The statement's text, HTML-escaped, cut to its best fragments (joined by ` … `)
    /// with the matched words in `<mark>…</mark>`. A statement found through a claim or
    /// an article headline shows its first words.
    async fn highlight(&self) -> &str {
        &self.0.highlight
    }
}

/// What the whole search found, across pages.
pub struct SearchResults {
    query: Query,
    conditions: Conditions,
    /// The counts, when the query asks for them: started beside the page (see
    /// `search`).
    counting: std::sync::Mutex<Option<Counting>>,
    /// `totalCount` and `facets` are counted in one pass, once however many fields ask.
    facets: tokio::sync::OnceCell<search::Facets>,
}

/// Counts under way on a connection of their own; stopped if the answer is dropped
/// before they are read.
struct Counting(tokio::task::JoinHandle<ApiResult<search::Facets>>);

impl Drop for Counting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Counting {
    /// Starts counting the hits of `query` beside the page, in the request's span.
    fn start(db: &DatabaseConnection, query: &Query, conditions: &Conditions) -> Self {
        use tracing::Instrument;
        let (db, query, conditions) = (db.clone(), query.clone(), conditions.clone());
        let counts = async move { search::facets(&db, &query, &conditions).await };
        Self(tokio::spawn(counts.instrument(tracing::Span::current())))
    }
}

impl SearchResults {
    /// The counts, counted once however many fields ask.
    async fn counted(&self, ctx: &Context<'_>) -> ApiResult<&search::Facets> {
        self.facets
            .get_or_try_init(|| async {
                let started = self.counting.lock().ok().and_then(|mut c| c.take());
                match started {
                    Some(mut counting) => (&mut counting.0)
                        .await
                        .map_err(|e| ApiError::Internal(format!("counting search hits: {e}")))?,
                    None => search::facets(db(ctx), &self.query, &self.conditions).await,
                }
            })
            .await
    }
}

#[Object]
impl SearchResults {
    /// How many statements the search found, across all pages: exact when the search
    /// finds up to 1,000 statements in each of its ways (by their own words, through a
    /// claim, through a headline); above, an estimate from a sample of about 1,000
    /// pages of the statement table (about 12,000 statements), never below the hits
    /// actually seen. `totalCountExact` tells which.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.counted(ctx).await?.total)
    }
    /// Whether `totalCount` and every count of `facets` are exact; false when they are
    /// estimated from a sample (see `totalCount`).
    async fn total_count_exact(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.counted(ctx).await?.exact)
    }
    /// Counts of the statements found, across all pages, by speaker, topic, stance,
    /// language and year: exact or estimated as `totalCount` is (`facets.exact` tells
    /// which). Empty lists when the query looks for nothing.
    async fn facets(&self, ctx: &Context<'_>) -> Result<SearchFacets> {
        Ok(SearchFacets(self.counted(ctx).await?.clone()))
    }
}

/// Counts of search hits. Speakers and topics list the 20 most frequent (most
/// frequent first, as do stances and languages); years come in calendar order.
pub struct SearchFacets(search::Facets);

/// Counts of search hits across all pages. Speakers and topics list the 20 most frequent
/// (most frequent first, as do stances and languages); years come in calendar order. Values
/// without hits are left out. Exact when the search finds up to 1,000 statements in each
/// of its ways; above, estimated from a sample of the statements and scaled up
/// (`exact` tells which), so that a broad search is counted in milliseconds.
#[Object]
impl SearchFacets {
    /// Whether every count is exact; false when the counts are estimates from a sample
    /// of about 12,000 statements, scaled up to the whole collection (values with few
    /// hits may then be missing or off by the scale).
    async fn exact(&self) -> bool {
        self.0.exact
    }
    /// The 20 speakers with the most hits, most first.
    async fn speakers(&self) -> Vec<SpeakerFacet> {
        self.0
            .speakers
            .iter()
            .map(|(id, count)| SpeakerFacet {
                id: *id,
                count: *count,
            })
            .collect()
    }
    /// The 20 live topics with the most hits filed under them, most first.
    async fn topics(&self) -> Vec<TopicFacet> {
        self.0
            .topics
            .iter()
            .map(|(id, count)| TopicFacet {
                id: *id,
                count: *count,
            })
            .collect()
    }
    /// Hits per stance, most first; a statement counts once for each distinct stance it
    /// takes on its claims.
    async fn stances(&self) -> Vec<StanceFacet> {
        self.0
            .stances
            .iter()
            .map(|(stance, count)| StanceFacet {
                stance: (*stance).into(),
                count: *count,
            })
            .collect()
    }
    /// Hits per statement language, most first (ties alphabetically); every hit counts
    /// once.
    async fn languages(&self) -> Vec<LanguageFacet> {
        self.0
            .languages
            .iter()
            .map(|(language, count)| LanguageFacet {
                language: language.clone(),
                count: *count,
            })
            .collect()
    }
    /// Hits per calendar year of `statedOn`, earliest year first.
    async fn years(&self) -> Vec<YearFacet> {
        self.0
            .years
            .iter()
            .map(|(year, count)| YearFacet {
                year: *year,
                count: *count,
            })
            .collect()
    }
}

pub struct SpeakerFacet {
    id: Uuid,
    count: i64,
}

/// A speaker and how many search hits are theirs.
#[Object]
impl SpeakerFacet {
    /// The speaker counted.
    async fn speaker(&self, ctx: &Context<'_>) -> Result<Speaker> {
        crate::graphql::speaker::load(ctx, self.id)
            .await?
            .ok_or_else(|| ApiError::not_found("speaker").into())
    }
    /// How many of the hits are this speaker's statements.
    async fn count(&self) -> i64 {
        self.count
    }
}

pub struct TopicFacet {
    id: Uuid,
    count: i64,
}

/// A topic and how many search hits are filed under it.
#[Object]
impl TopicFacet {
    /// The topic counted.
    async fn topic(&self, ctx: &Context<'_>) -> Result<Topic> {
        crate::graphql::topic::load(ctx, self.id)
            .await?
            .ok_or_else(|| ApiError::not_found("topic").into())
    }
    /// How many of the hits are filed under this topic.
    async fn count(&self) -> i64 {
        self.count
    }
}

/// A stance and how many search hits take it.
#[derive(SimpleObject)]
pub struct StanceFacet {
    /// The stance counted.
    stance: Stance,
    /// Statements among the hits taking this stance on at least one claim.
    count: i64,
}

/// A language and how many search hits are in it.
#[derive(SimpleObject)]
pub struct LanguageFacet {
    /// The statements' language tag, such as `en`.
    language: String,
    /// How many of the hits are in this language.
    count: i64,
}

/// A year and how many search hits were stated in it.
#[derive(SimpleObject)]
pub struct YearFacet {
    /// The calendar year of `statedOn` (of the period's start for an imprecise date).
    year: i32,
    /// How many of the hits were stated in this year.
    count: i64,
}

/// A statement and how similar its text is, from 0 to 1 (trigram similarity).
pub struct SimilarStatement(Similar);

/// A statement and how similar its text is, from 0 to 1.
#[Object]
impl SimilarStatement {
    /// The statement found: its text and, through it, its speaker, date and stances.
    async fn statement(&self) -> Statement {
        Statement::from(self.0.statement.clone())
    }
    /// How similar the texts are, from 0 (no trigram in common) to 1: trigram similarity to
    /// the text asked for in `similarStatements`, trigram word similarity to the claim's
    /// text in `Claim.matchingStatements`. Never below the `minSimilarity` asked.
    async fn similarity(&self) -> f64 {
        self.0.similarity.to_string().parse().unwrap_or_default()
    }
}

/// The conditions of a statement filter, as SQL over `statement`.
fn conditions(filter: &StatementFilter) -> ApiResult<Conditions> {
    let filter = filter.read()?;
    let mut params = Params::new();
    let sql = format!(
        "statement.deleted_at IS NULL AND {}",
        params.condition(filter.condition(Rows::Table("statement")))
    );
    Ok(Conditions {
        sql,
        values: params.into_values(),
        narrow: filter.is_narrow(),
    })
}

/// A claim's matching statements (see `Claim.matchingStatements`).
pub async fn matching_statements(
    ctx: &Context<'_>,
    claim: &claim::Model,
    min_similarity: Option<f64>,
    first: Option<i32>,
) -> ApiResult<Vec<SimilarStatement>> {
    let min = similar::min_similarity("minSimilarity", min_similarity)?;
    let limit = pagination::forward_limit(first)?;
    let found = similar::matching(db(ctx), claim, min, limit).await?;
    Ok(found.into_iter().map(SimilarStatement).collect())
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Statements matching `query`, best first: web-search syntax (`"a phrase"`,
    /// `-excluded`, `this OR that`; anything else is read as words, never an error),
    /// each statement searched in its own language with stemming, found by its text,
    /// venue or context, by the text of a claim it takes a stance on, or by the headline
    /// of an article that reported it. `filter` narrows the hits as in `statements`.
    /// Pages forward with `first`/`after` (at most 100 a page). Open to every caller.
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to look for, in web-search syntax; at most 1,000 characters.")]
        query: String,
        #[graphql(
            desc = "Narrows the hits as in `statements(filter:)`; its `language` also makes the text be read in that language only."
        )]
        filter: Option<StatementFilter>,
        #[graphql(desc = "Page size: 0 to 100, default 20.")] first: Option<i32>,
        #[graphql(
            desc = "Cursor to continue after: `pageInfo.endCursor` of the previous page of this list (opaque). This list pages forward only."
        )]
        after: Option<String>,
    ) -> Result<SearchConnection> {
        let filter = filter.unwrap_or_default();
        let limit = pagination::forward_limit(first)?;
        let after: Option<RankKey> = after
            .as_deref()
            .map(|c| pagination::decode_key("after", CURSOR, c))
            .transpose()?;
        let conditions = conditions(&filter)?;
        let parsed = search::parse(db(ctx), &query, filter.language.as_deref()).await?;
        // Counting costs more than a page: asked for, the counts start at once, on a
        // connection of their own, and are read when the page is done.
        let look = ctx.look_ahead();
        let counting = ["totalCount", "totalCountExact", "facets"]
            .iter()
            .any(|field| look.field(field).exists())
            .then(|| Counting::start(db(ctx), &parsed, &conditions));
        let second = ctx.data_opt::<search::SecondReads>();
        let mut hits = search::page(db(ctx), second, &parsed, &conditions, after, limit).await?;
        let more = hits.len() > limit;
        hits.truncate(limit);
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            more,
            SearchResults {
                query: parsed,
                conditions,
                counting: std::sync::Mutex::new(counting),
                facets: tokio::sync::OnceCell::new(),
            },
        );
        // How many hits come before this page: known on a first page, and carried on
        // by cursors from one page to the next.
        let before = match after {
            None => Some(0),
            Some(key) => key.shown,
        };
        connection
            .edges
            .extend(hits.into_iter().zip(1u32..).map(|(hit, i)| {
                let key = RankKey {
                    rank: hit.rank,
                    id: hit.statement.id,
                    shown: before.and_then(|b| b.checked_add(i)),
                };
                Edge::new(pagination::encode_key(CURSOR, &key), SearchHit(hit))
            }));
        Ok(connection)
    }

    /// Statements whose text is like `text`, or like the text of statement
    /// `statementId` (which is left out): repeated and near-duplicate statements,
    /// across speakers, most similar first. `minSimilarity` is the lowest trigram
    /// similarity listed, from 0.3 to 1 (default 0.5). Up to 10,000 statements the
    /// list is exact; in a larger collection candidates come from the text's MinHash
    /// signature, which finds a statement at similarity 0.8 or more almost surely,
    /// 0.7 with probability 0.996, 0.6 with 0.94 and 0.5 with 0.73, and every
    /// similarity listed is exact. Give exactly one of `text` and `statementId`. Open to
    /// every caller.
    async fn similar_statements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The text to compare, at most 10,000 characters (white space collapsed). Give exactly one of `text` and `statementId`."
        )]
        text: Option<String>,
        #[graphql(
            desc = "A live statement whose text to compare; it is left out of the list, and an unknown one is NOT_FOUND. Give exactly one of `text` and `statementId`."
        )]
        statement_id: Option<ID>,
        #[graphql(
            desc = "Lowest trigram similarity listed, from 0.3 to 1 (BAD_USER_INPUT outside); default 0.5."
        )]
        min_similarity: Option<f64>,
        #[graphql(desc = "How many statements to list at most: 0 to 100, default 20.")]
        first: Option<i32>,
    ) -> Result<Vec<SimilarStatement>> {
        let min = similar::min_similarity("minSimilarity", min_similarity)?;
        let limit = pagination::forward_limit(first)?;
        let (text, except) = match (text, statement_id) {
            (Some(text), None) => (similar::normalize("text", &text)?, None),
            (None, Some(id)) => {
                let id = uuid("statementId", &id)?;
                let found =
                    match crate::service::record::find_live::<statement::Entity, _>(db(ctx), id)
                        .await
                    {
                        Err(ApiError::NotFound { .. }) => {
                            return Err(
                                ApiError::unknown_reference("statement", "statementId").into()
                            );
                        }
                        found => found?,
                    };
                (found.text, Some(id))
            }
            _ => {
                return Err(
                    ApiError::bad_input("text", "give either `text` or `statementId`").into(),
                );
            }
        };
        let found = similar::similar(db(ctx), &text, except, min, limit).await?;
        Ok(found.into_iter().map(SimilarStatement).collect())
    }
}
