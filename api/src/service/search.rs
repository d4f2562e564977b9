//! Full-text search over statements, in each statement's own language.
//!
//! A statement's `search_doc` is built with the text-search configuration of its
//! language (`text_search_config`, see the migration): its text (weight A), venue (B)
//! and context (C). A query is read with web-search syntax (`"quoted phrases"`,
//! `-exclusion`, `OR`) once per configuration, and each reading meets only the rows of
//! its own configuration: a Russian query meets Russian rows through the Russian
//! stemmer ("рабочей группы" finds "рабочая группа"), while in English rows the same
//! words only match as written. Only the configurations that rows use are read
//! (`search_config_use`, kept by triggers); each configuration has an index of its own,
//! and one scan of a table reads what every configuration's index found (an OR of the
//! readings). With a language in the filter, only that language's reading is used.
//!
//! Claims and article titles make statements findable too: a statement matches when a
//! claim it takes a stance on matches (claims carry no language, so their text is read
//! word for word, `simple`), or when the headline of an article that reported it
//! matches (in the article's language). Hits rank by `ts_rank` with PostgreSQL's
//! default weights (A 1.0, B 0.4, C 0.2, D 0.1): claim texts and headlines are weight
//! D, so a statement's own words count most; a statement matched several ways takes its
//! best rank. (`ts_rank_cd`, which also weighs how close the matched words sit, costs
//! about four times as much per hit, and every statement found by its own words is
//! ranked before a page is known.) Ties break on id, and pages follow the (rank, id)
//! key, never an offset.
//!
//! A query with nothing to look for (empty, stop words only, or only exclusions) finds
//! nothing; malformed syntax is read as well as it can be, never an error.

pub mod similar;

use std::collections::BTreeMap;
use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, FromQueryResult, Iden,
    Iterable, QueryResult, Statement, TransactionSession, TransactionTrait, Value,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use entity::statement;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// Most entries listed per facet (speakers, topics, years).
pub const MAX_FACET_ENTRIES: u64 = 20;

/// Conditions on the table `statement` (a statement filter's), with the values their
/// placeholders `$1…$n` stand for.
#[derive(Debug, Clone)]
pub struct Conditions {
    pub sql: String,
    pub values: Vec<Value>,
    /// Few statements meet them (they name speakers, claims or articles): a search
    /// starts from those statements rather than from the text's matches.
    pub narrow: bool,
}

/// The query as one text-search configuration reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reading {
    config: String,
    /// The same configuration by oid. The arms compare with this: an oid is a constant
    /// when the statement is planned (`$n::int8::oid` folds), so the scan takes the
    /// configuration's own index (each has one, migration `000011`), where a cast of
    /// a name to `regconfig` (a stable function) would only filter what it found.
    oid: i64,
    tsquery: String,
}

/// A query as every configuration reads it.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Readings for statements (only the filter language's, when it names one).
    statements: Vec<Reading>,
    /// Readings for article headlines (every configuration).
    articles: Vec<Reading>,
    /// The word-for-word reading, for claims.
    simple: Option<String>,
    /// Per configuration, the query's exclusions read as alternatives (`a OR b`): a
    /// statement found through a claim or a headline must not contain them itself.
    exclusions: Vec<(String, String)>,
}

impl Query {
    /// Whether the query looks for anything at all.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.articles.is_empty() && self.simple.is_none()
    }
}

#[derive(Debug, FromQueryResult)]
struct ReadingRow {
    config: String,
    config_oid: i64,
    tsquery: String,
    exclusions: Option<String>,
    /// Statements use this configuration.
    statements: bool,
    /// Article titles use it.
    articles: bool,
}

/// The excluded terms of a web-search query (`-word`, `-"a phrase"`), joined with OR.
fn exclusions(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if c == '"' {
            // Skip a quoted phrase: a '-' inside it excludes nothing.
            for q in chars.by_ref() {
                if q == '"' {
                    break;
                }
            }
            at_start = false;
            continue;
        }
        if c == '-' && at_start {
            let mut term = String::new();
            if chars.peek() == Some(&'"') {
                term.push('"');
                chars.next();
                for q in chars.by_ref() {
                    term.push(q);
                    if q == '"' {
                        break;
                    }
                }
            } else {
                while let Some(q) = chars.next_if(|q| !q.is_whitespace()) {
                    term.push(q);
                }
            }
            if !term.is_empty() {
                out.push(term);
            }
            at_start = true;
            continue;
        }
        at_start = c.is_whitespace();
    }
    out.join(" OR ")
}

/// Reads `text` in every configuration in use (refusing one over [`MAX_QUERY_CHARS`]),
/// and word for word for claims. With a `language`, statements are searched in that
/// language's configuration only.
#[instrument(skip(db))]
pub async fn parse<C: ConnectionTrait>(
    db: &C,
    text: &str,
    language: Option<&str>,
) -> ApiResult<Query> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_input(
            "query",
            format!("is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    if text.trim().is_empty() {
        return Ok(Query::default());
    }
    // `querytree` is 'T' when nothing in the query can be looked up in an index (only
    // exclusions), empty when nothing is left (only stop words).
    let rows = ReadingRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT c.config::text AS config, c.config::oid::int8 AS config_oid, q::text AS tsquery, \
                CASE WHEN querytree(x) NOT IN ('', 'T') THEN x::text END AS exclusions, \
                c.statements, c.articles \
         FROM (SELECT config, bool_or(source = 'statement') AS statements, \
                      bool_or(source = 'article') AS articles \
               FROM (SELECT config, source FROM search_config_use \
                     UNION ALL SELECT 'simple'::regconfig, 'claim') used \
               GROUP BY config) c, \
              websearch_to_tsquery(c.config, $1) q, websearch_to_tsquery(c.config, $2) x \
         WHERE querytree(q) NOT IN ('', 'T') ORDER BY c.config::text",
        [Value::from(text.to_owned()), Value::from(exclusions(text))],
    ))
    .all(db)
    .await?;
    let reading = |row: &ReadingRow| Reading {
        config: row.config.clone(),
        oid: row.config_oid,
        tsquery: row.tsquery.clone(),
    };
    let articles = rows.iter().filter(|r| r.articles).map(reading).collect();
    let statements = match language {
        None => rows.iter().filter(|r| r.statements).map(reading).collect(),
        Some(language) => {
            let config = language_config(db, language).await?;
            rows.iter()
                .filter(|r| r.statements && r.config == config)
                .map(reading)
                .collect()
        }
    };
    let simple = rows
        .iter()
        .find(|r| r.config == "simple")
        .map(|r| r.tsquery.clone());
    let exclusions = rows
        .iter()
        .filter_map(|r| Some((r.config.clone(), r.exclusions.clone()?)))
        .collect();
    Ok(Query {
        statements,
        articles,
        simple,
        exclusions,
    })
}

/// The text-search configuration of a language tag.
async fn language_config<C: ConnectionTrait>(db: &C, language: &str) -> ApiResult<String> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT text_search_config($1)::text",
            [Value::from(language.to_owned())],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_else(|| "simple".into()))
}

/// SQL under construction: the text and the values of its placeholders.
#[derive(Default)]
struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    /// Starts after the filter's own placeholders.
    fn after(conditions: &Conditions) -> Self {
        Self {
            text: String::new(),
            values: conditions.values.clone(),
        }
    }

    /// Adds a value; returns its placeholder.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, self.text, self.values)
    }
}

/// A way to statements through rows of another table whose text matches: claims they
/// take a stance on (with the query's word-for-word reading), or headlines of articles
/// that reported them (with its readings for headlines).
#[derive(Debug, Clone, Copy)]
enum Way<'q> {
    Claims(&'q str),
    Headlines(&'q [Reading]),
}

impl<'q> Way<'q> {
    /// The query's ways, in the order [`matched`] lists their arms.
    fn all(query: &'q Query) -> Vec<Way<'q>> {
        let claims = query.simple.as_deref().map(Way::Claims);
        let headlines =
            (!query.articles.is_empty()).then_some(Way::Headlines(query.articles.as_slice()));
        claims.into_iter().chain(headlines).collect()
    }

    /// The matching rows as `(id, rank)`, each ranked once, with their values bound in
    /// `sql`.
    fn ranked(self, sql: &mut Sql) -> String {
        match self {
            Way::Claims(simple) => {
                let q = sql.bind(simple.to_owned());
                format!(
                    "SELECT c.id, ts_rank(c.search_doc, {q}::tsquery) FROM claim c \
                     WHERE c.deleted_at IS NULL AND c.search_doc @@ {q}::tsquery"
                )
            }
            Way::Headlines(readings) => {
                let Matching { matches, rank } = matching(sql, "a", readings);
                format!(
                    "SELECT a.id, {rank} FROM article a WHERE a.deleted_at IS NULL AND ({matches})"
                )
            }
        }
    }

    /// The links from a matching row to its statements (`link.statement_id`), under
    /// the alias `link`, live ones only.
    fn links(self) -> &'static str {
        match self {
            Way::Claims(_) => "stance link",
            Way::Headlines(_) => {
                "(SELECT * FROM appearance WHERE appearance.deleted_at IS NULL) link"
            }
        }
    }

    /// The link's column naming the matching row.
    fn key(self) -> &'static str {
        match self {
            Way::Claims(_) => "link.claim_id",
            Way::Headlines(_) => "link.article_id",
        }
    }
}

/// The rows of `alias` (a statement or an article) that match the query as their own
/// configuration reads it, and their rank.
struct Matching {
    /// One condition per reading, ORed: each takes its configuration's own index, and
    /// one scan of the table reads what they found together.
    matches: String,
    /// `ts_rank` with the row's own configuration's reading.
    rank: String,
}

/// The [`Matching`] of `readings` on `alias`, with their values bound in `sql`. Without
/// readings, no row matches.
fn matching(sql: &mut Sql, alias: &str, readings: &[Reading]) -> Matching {
    if readings.is_empty() {
        return Matching {
            matches: "false".to_owned(),
            rank: "0::real".to_owned(),
        };
    }
    let mut matches: Vec<String> = Vec::new();
    let mut cases: Vec<String> = Vec::new();
    for reading in readings {
        let config = sql.bind(reading.oid);
        let q = sql.bind(reading.tsquery.clone());
        matches.push(format!(
            "({alias}.search_config = {config}::int8::oid::regconfig \
             AND {alias}.search_doc @@ {q}::tsquery)"
        ));
        cases.push(format!("WHEN {config}::int8::oid THEN {q}::tsquery"));
    }
    Matching {
        matches: matches.join(" OR "),
        rank: format!(
            "ts_rank({alias}.search_doc, CASE {alias}.search_config::oid {} END)",
            cases.join(" ")
        ),
    }
}

/// Rows of a way through claims or headlines that share a rank: the rank and their ids.
#[derive(Debug, Clone, PartialEq)]
struct Level {
    rank: f32,
    ids: Vec<Uuid>,
}

/// Most rank levels of a way through claims or headlines a page walks.
const MAX_LEVELS: usize = 8;

/// Most rows, over its levels, a page walks through for one way; past them, the way
/// is read like the rest.
const MAX_LEVEL_IDS: usize = 100_000;

#[derive(Debug, FromQueryResult)]
struct LevelRow {
    arm: i32,
    rank: f32,
    ids: Vec<Uuid>,
}

/// For each way through claims and headlines (see [`Way::all`]), its best rank levels
/// (up to [`MAX_LEVELS`], best first, holding up to [`MAX_LEVEL_IDS`] rows in all).
async fn best_levels<C: ConnectionTrait>(db: &C, query: &Query) -> ApiResult<Vec<Vec<Level>>> {
    let ways = Way::all(query);
    if ways.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    let text = ways
        .iter()
        .enumerate()
        .map(|(i, way)| {
            format!(
                "(SELECT {i} AS arm, r.rank, array_agg(r.id) AS ids FROM ({}) r (id, rank) \
                 GROUP BY r.rank ORDER BY r.rank DESC LIMIT {MAX_LEVELS})",
                way.ranked(&mut sql)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    sql.text = text;
    let rows = LevelRow::find_by_statement(sql.statement()).all(db).await?;
    Ok(walkable(rows, ways.len(), MAX_LEVEL_IDS))
}

/// Each of `arms` arms' levels among `rows`, best first, as far as they hold at most
/// `most_ids` rows: the walked levels must be the arm's best ones with none left out
/// between them (see [`matched`]), so a level too large ends its arm's list.
fn walkable(mut rows: Vec<LevelRow>, arms: usize, most_ids: usize) -> Vec<Vec<Level>> {
    rows.sort_by(|a, b| a.arm.cmp(&b.arm).then(b.rank.total_cmp(&a.rank)));
    let mut levels: Vec<Vec<Level>> = vec![Vec::new(); arms];
    let mut held = vec![0usize; arms];
    let mut full = vec![false; arms];
    for row in rows {
        let Some(i) = usize::try_from(row.arm).ok().filter(|i| *i < arms) else {
            continue;
        };
        if full[i] || held[i] + row.ids.len() > most_ids {
            full[i] = true;
            continue;
        }
        held[i] += row.ids.len();
        levels[i].push(Level {
            rank: row.rank,
            ids: row.ids,
        });
    }
    levels
}

#[derive(Debug, FromQueryResult)]
struct WalkRow {
    arm: i32,
    id: Uuid,
    rank: f32,
}

/// Reads each way's best rank levels ([`best_levels`]) and walks them: from each level,
/// the first `top` statements by id that its rows lead to, that meet `conditions` and
/// that do not say what the query excludes (see [`matched`]). For each way of
/// [`Way::all`], none when it has no level to walk, else the statements found, each
/// once at its best level's rank.
///
/// The levels' ids are bound here, in a statement of their own, so the page's
/// statement does not plan them (PostgreSQL estimates each element of a bound array:
/// thousands of ids cost milliseconds). Index-only scans in statement order find each
/// level's first statements after a few hundred index entries.
async fn walk<C: ConnectionTrait>(
    db: &C,
    query: &Query,
    conditions: &Conditions,
    top: usize,
) -> ApiResult<Vec<Option<Vec<Ranked>>>> {
    let ways = Way::all(query);
    let levels = best_levels(db, query).await?;
    if levels.iter().all(Vec::is_empty) {
        return Ok(vec![None; ways.len()]);
    }
    let mut walked: Vec<Option<BTreeMap<Uuid, f32>>> = (0..ways.len())
        .map(|i| {
            levels
                .get(i)
                .filter(|l| !l.is_empty())
                .map(|_| BTreeMap::new())
        })
        .collect();
    let mut sql = Sql::after(conditions);
    let limit = sql.bind(i64::try_from(top).unwrap_or(i64::MAX));
    let excluded = excluded(&mut sql, query);
    let conds = &conditions.sql;
    let mut each: Vec<String> = Vec::new();
    for (i, (way, levels)) in ways.iter().zip(&levels).enumerate() {
        let (links, key) = (way.links(), way.key());
        for level in levels {
            let ids = sql.bind(level.ids.clone());
            let rank = sql.bind(level.rank);
            each.push(format!(
                "(SELECT DISTINCT {i} AS arm, link.statement_id, {rank}::real FROM {links} \
                   JOIN statement ON statement.id = link.statement_id \
                   WHERE {key} = ANY({ids}::uuid[]) AND {conds}{excluded} \
                   ORDER BY 2 LIMIT {limit})"
            ));
        }
    }
    sql.text = format!(
        "SELECT walked.arm, walked.id, walked.rank FROM ({}) walked (arm, id, rank)",
        each.join(" UNION ALL ")
    );
    for row in WalkRow::find_by_statement(sql.statement()).all(db).await? {
        let found = usize::try_from(row.arm)
            .ok()
            .and_then(|i| walked.get_mut(i))
            .and_then(Option::as_mut);
        if let Some(found) = found {
            let rank = found.entry(row.id).or_insert(row.rank);
            *rank = rank.max(row.rank);
        }
    }
    Ok(walked
        .into_iter()
        .map(|found| {
            found.map(|found| {
                found
                    .into_iter()
                    .map(|(id, rank)| Ranked { id, rank })
                    .collect()
            })
        })
        .collect())
}

/// A statement found through a claim or a headline must not say what the query
/// excludes: its own document is checked against the exclusions of its language
/// (statements found by their own words passed that check already). The condition on
/// `statement`, with its values bound in `sql`; empty without exclusions.
fn excluded(sql: &mut Sql, query: &Query) -> String {
    if query.exclusions.is_empty() {
        return String::new();
    }
    let (configs, queries): (Vec<String>, Vec<String>) = query.exclusions.iter().cloned().unzip();
    let configs = sql.bind(configs);
    let queries = sql.bind(queries);
    format!(
        " AND NOT EXISTS (SELECT 1 FROM unnest({configs}::text[], {queries}::text[]) x (c, q) \
           WHERE x.c::regconfig = statement.search_config AND statement.search_doc @@ x.q::tsquery)"
    )
}

/// `hits` as rows `(id, rank)`, bound in `sql`.
fn bound(sql: &mut Sql, hits: &[Ranked]) -> String {
    let ids = sql.bind(hits.iter().map(|hit| hit.id).collect::<Vec<Uuid>>());
    let ranks = sql.bind(hits.iter().map(|hit| hit.rank).collect::<Vec<f32>>());
    format!("SELECT * FROM unnest({ids}::uuid[], {ranks}::real[])")
}

/// The statements the query matches by their own words and that meet the filter's
/// `conditions`, as `(id, rank)`; none without readings for statements.
fn own_words(sql: &mut Sql, query: &Query, conditions: &Conditions) -> Option<String> {
    if query.statements.is_empty() {
        return None;
    }
    let Matching { matches, rank } = matching(sql, "statement", &query.statements);
    Some(format!(
        "SELECT statement.id, {rank} FROM statement WHERE {} AND ({matches})",
        conditions.sql
    ))
}

/// A statement found by one arm, with its rank there.
#[derive(Debug, Clone, Copy, FromQueryResult)]
struct Ranked {
    id: Uuid,
    rank: f32,
}

/// The best `top` statements by their own words (rank, then id).
async fn best_own<C: ConnectionTrait>(
    db: &C,
    query: &Query,
    conditions: &Conditions,
    top: usize,
) -> ApiResult<Vec<Ranked>> {
    let mut sql = Sql::after(conditions);
    let Some(arm) = own_words(&mut sql, query, conditions) else {
        return Ok(Vec::new());
    };
    let limit = sql.bind(i64::try_from(top).unwrap_or(i64::MAX));
    sql.text = best_first(
        &format!("SELECT o.id, o.rank FROM ({arm}) o (id, rank)"),
        &limit,
    );
    Ok(Ranked::find_by_statement(sql.statement()).all(db).await?)
}

/// The first `limit` rows of `arm` (`id, rank`), best rank first, then by id.
fn best_first(arm: &str, limit: &str) -> String {
    format!("{arm} ORDER BY 2 DESC, 1 LIMIT {limit}")
}

/// `matched (id, rank)`: every statement the query matches, by its own document, a
/// claim it takes a stance on, or an article that reported it, and that meets the
/// filter's `conditions`; its best rank. Before it, `arms (id, rank, arm)`: what each
/// arm found, numbered by arm.
///
/// Each arm meets the conditions itself, with the statement under its own name
/// (`statement`, as the conditions call it), so a selective filter (a speaker, a claim,
/// a language) narrows every arm before its matches are ranked, instead of every match
/// of the whole data set being ranked and then filtered.
///
/// With `top`, each arm lists only its best `top` statements (rank, then id), which is
/// enough for the first `top` of the whole ranking: a statement ranks by its best arm,
/// and one that is not among the first `top` of that arm has `top` statements before
/// it there, each ranking at least as high overall. A claim or a headline matched by
/// thousands of statements then costs an index read per statement and a table read for
/// the first few, not a table read for each. The same holds for the statements at
/// positions up to `top` of any page, which is how later pages use it (see [`page`]).
///
/// `ahead.walked` (from [`walk`], or empty) holds, for the ways through claims and
/// headlines, what walking their best rank levels found: from each level, the first
/// `top` statements by id that the level's rows lead to. Where thousands of claims of
/// one template share a rank, that takes a few hundred index entries in statement order
/// instead of every link of every matching row. A statement among the arm's best `top`
/// whose best level is walked is among the first `top` of that level (the level's
/// statements before it by id all rank at least as high), so it is found, at its best
/// rank; one found at a lower rank than its best was cut from its best level behind
/// `top` better ones, and so is not among the arm's best `top` at all. When the walks
/// found `top` statements, those of levels below them cannot reach the arm's best `top`
/// either, and the arm is what they found; when they found fewer, the arm reads every
/// link of every matching row instead.
///
/// `ahead.own`, when read (with `top`, in the same snapshot), is the statements' own
/// words' arm already cut to its best `top`.
fn matched(
    sql: &mut Sql,
    query: &Query,
    conditions: &Conditions,
    top: Option<usize>,
    ahead: &ReadAhead,
) -> String {
    let conds = &conditions.sql;
    let limit = top.map(|n| sql.bind(i64::try_from(n).unwrap_or(i64::MAX)));
    let best = |arm: String| match &limit {
        Some(limit) => format!("({})", best_first(&arm, limit)),
        None => arm,
    };
    let mut arms: Vec<String> = Vec::new();
    match &ahead.own {
        Some(own) => arms.push(bound(sql, own)),
        None => {
            if let Some(arm) = own_words(sql, query, conditions) {
                arms.push(best(arm));
            }
        }
    }
    let excluded = excluded(sql, query);
    // Claims and headlines rank the statements they lead to. For a page, each claim or
    // headline is ranked once (fenced, `OFFSET 0`), each statement takes its best one
    // and they come best first, fenced, so that statements are read in that order only
    // until the arm has its `top`. Counting every match, the planner does better
    // unfenced (a count of 88,176 matches: 372 ms against 537).
    let fence = if limit.is_some() { " OFFSET 0" } else { "" };
    for (i, way) in Way::all(query).into_iter().enumerate() {
        let enough = top
            .zip(ahead.walked.get(i).and_then(Option::as_ref))
            .filter(|(top, walked)| walked.len() >= *top);
        let mut found = match enough {
            Some((_, walked)) => bound(sql, walked),
            None => format!(
                "SELECT link.statement_id, r.rank FROM ({}{fence}) r (id, rank) \
                 JOIN {} ON {} = r.id",
                way.ranked(sql),
                way.links(),
                way.key()
            ),
        };
        if limit.is_some() {
            found = format!(
                "SELECT id, max(rank) FROM ({found}) f (id, rank) GROUP BY 1 ORDER BY 2 DESC, 1 OFFSET 0"
            );
        }
        arms.push(best(format!(
            "SELECT statement.id, found.rank FROM ({found}) found (id, rank) \
             JOIN statement ON statement.id = found.id WHERE {conds}{excluded}"
        )));
    }
    let arms: Vec<String> = arms
        .into_iter()
        .enumerate()
        .map(|(i, arm)| format!("SELECT a.id, a.rank, {i} AS arm FROM ({arm}) a (id, rank)"))
        .collect();
    format!(
        "arms AS ({}), \
         matched AS (SELECT arms.id, max(arms.rank) AS rank FROM arms GROUP BY arms.id)",
        arms.join(" UNION ALL ")
    )
}

/// Deepest position a page may reach through each arm's best (see [`page`]); past it,
/// every match is ranked.
const DEEPEST_TOP: usize = 2_000;

/// Where a hit sits in the ranking: best rank first, then id; and, when known, how
/// many hits come up to it (the hit itself included).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankKey {
    pub rank: f32,
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<u32>,
}

/// One hit of a page.
#[derive(Debug, Clone)]
pub struct Hit {
    pub statement: statement::Model,
    pub rank: f32,
    /// The text with the matched words in `<mark>…</mark>`, HTML-escaped.
    pub highlight: String,
}

/// One page of hits after `after`, best first; `limit + 1` are read to tell whether
/// more follow (the extra one is returned last).
///
/// A page whose last hit sits at position p of the ranking needs only each arm's
/// best p (see [`matched`]). A first page knows p. A later page knows it from its
/// cursor (`shown`), but statements may have arrived since that cursor was made and
/// pushed the page down, so it checks what it got: an arm that listed all of its p
/// might have left out statements that rank after its last one, and if that last one
/// ranks before the page's last hit, such a statement could belong on the page. Then,
/// and for pages deeper than [`DEEPEST_TOP`], the page is read again from every match.
#[instrument(skip(db, second, conditions))]
pub async fn page(
    db: &DatabaseConnection,
    second: Option<&SecondReads>,
    query: &Query,
    conditions: &Conditions,
    after: Option<RankKey>,
    limit: usize,
) -> ApiResult<Vec<Hit>> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let top = match after {
        None => Some(limit + 1),
        Some(key) => key
            .shown
            .and_then(|shown| usize::try_from(shown).ok())
            .map(|shown| shown + limit + 1)
            .filter(|p| *p <= DEEPEST_TOP),
    };
    // Narrow conditions leave few statements to rank: every arm starts from them and
    // ranks them all.
    let top = top.filter(|_| !conditions.narrow);
    let checked = after.is_some() && top.is_some();
    let txn = custom_plans(db).await?;
    // The levels and the page are read in one snapshot (see `custom_plans`).
    let ahead = match top {
        Some(top) => read_ahead(db, second, &txn, query, conditions, top).await?,
        None => ReadAhead::default(),
    };
    let mut found = page_rows(&txn, query, conditions, after, limit, top, &ahead).await?;
    if checked && (found.is_empty() || found.iter().any(|(_, exact)| !exact)) {
        let all = ReadAhead::default();
        found = page_rows(&txn, query, conditions, after, limit, None, &all).await?;
    }
    let mut hits: Vec<Hit> = found.into_iter().map(|(hit, _)| hit).collect();
    highlight(&txn, query, &mut hits).await?;
    txn.commit().await?;
    Ok(hits)
}

/// Searches that may read on a second connection of the pool at once (see
/// [`read_ahead`]).
#[derive(Debug, Clone)]
pub struct SecondReads {
    permits: Arc<Semaphore>,
}

impl SecondReads {
    /// A quarter of the pool's connections (none without a PostgreSQL pool, as in a
    /// schema built only to print itself). Fewer than the pool holds, so the searches
    /// that hold one connection and wait for a second can never hold them all: some
    /// connection is always free or held by a request that waits for no other.
    pub fn for_pool(db: &DatabaseConnection) -> Self {
        let size = pool(db).map_or(0, |pool| pool.options().get_max_connections());
        Self {
            permits: Arc::new(Semaphore::new(usize::try_from(size / 4).unwrap_or(0))),
        }
    }

    /// Leave to read on a second connection, when the pool has one idle or room to
    /// open one and other searches do not hold every permit; never waits.
    fn take(&self, db: &DatabaseConnection) -> Option<OwnedSemaphorePermit> {
        let pool = pool(db)?;
        let room = pool.num_idle() > 0 || pool.size() < pool.options().get_max_connections();
        if !room {
            return None;
        }
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }
}

/// The PostgreSQL pool behind `db`, if it is one.
fn pool(db: &DatabaseConnection) -> Option<&sea_orm::sqlx::PgPool> {
    match db.inner {
        sea_orm::DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            Some(db.get_postgres_connection_pool())
        }
        _ => None,
    }
}

/// What a page read before its own statement (see [`read_ahead`]).
#[derive(Debug, Default)]
struct ReadAhead {
    /// What walking the ways through claims and headlines found (see [`walk`]).
    walked: Vec<Option<Vec<Ranked>>>,
    /// The statements' own best, when read beside the walks.
    own: Option<Vec<Ranked>>,
}

/// What a page reads before its own statement: the best rank levels of the ways
/// through claims and headlines and what walking them finds, and, when a second
/// connection is free and there are levels to read, the statements' own best `top`
/// at the same time. Ranking a broad query's own words and its claims and headlines
/// each take tens of milliseconds at a million statements; side by side, a page waits
/// for the longer one only. The second connection reads in `txn`'s snapshot.
async fn read_ahead(
    db: &DatabaseConnection,
    second: Option<&SecondReads>,
    txn: &DatabaseTransaction,
    query: &Query,
    conditions: &Conditions,
    top: usize,
) -> ApiResult<ReadAhead> {
    let has_levels = !Way::all(query).is_empty();
    let side_by_side = has_levels && !query.statements.is_empty();
    let permit = second
        .filter(|_| side_by_side)
        .and_then(|second| second.take(db));
    let Some(_permit) = permit else {
        return Ok(ReadAhead {
            walked: walk(txn, query, conditions, top).await?,
            own: None,
        });
    };
    let beside = sharing_snapshot(db, txn).await?;
    let (walked, own) = tokio::try_join!(
        walk(&beside, query, conditions, top),
        best_own(txn, query, conditions, top)
    )?;
    beside.commit().await?;
    Ok(ReadAhead {
        walked,
        own: Some(own),
    })
}

/// The hits of a page (without highlights), each with whether the page is known to be
/// exact (see [`page`]): always so without `top` or without `after`.
async fn page_rows<C: ConnectionTrait>(
    txn: &C,
    query: &Query,
    conditions: &Conditions,
    after: Option<RankKey>,
    limit: usize,
    top: Option<usize>,
    ahead: &ReadAhead,
) -> ApiResult<Vec<(Hit, bool)>> {
    let mut sql = Sql::after(conditions);
    let cte = matched(&mut sql, query, conditions, top, ahead);
    let columns: Vec<String> = statement::Column::iter()
        .map(|c| format!("statement.{}", c.to_string()))
        .collect();
    let keyset = match after {
        Some(key) => {
            let rank = sql.bind(key.rank);
            let id = sql.bind(key.id);
            format!(" WHERE m.rank < {rank}::real OR (m.rank = {rank}::real AND m.id > {id})")
        }
        None => String::new(),
    };
    let page = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let exact = match (after, top) {
        (Some(_), Some(top)) => {
            let top = sql.bind(i64::try_from(top).unwrap_or(i64::MAX));
            let full = sql.bind(page);
            // An arm cut at `top` whose last statement ranks before the page's last
            // hit (or that was cut while the page came out short) may have left out
            // one of the page's statements.
            format!(
                "NOT EXISTS (SELECT 1 FROM (SELECT count(*) AS n, \
                        (array_agg(arms.rank ORDER BY arms.rank, arms.id DESC))[1] AS rank, \
                        (array_agg(arms.id ORDER BY arms.rank, arms.id DESC))[1] AS id \
                      FROM arms GROUP BY arms.arm) cut \
                    LEFT JOIN (SELECT top.rank, top.id FROM top ORDER BY top.rank, top.id DESC LIMIT 1) last \
                      ON true \
                    WHERE cut.n >= {top} AND ((SELECT count(*) FROM top) < {full} \
                      OR cut.rank > last.rank OR (cut.rank = last.rank AND cut.id < last.id)))"
            )
        }
        _ => "true".to_owned(),
    };
    let page = sql.bind(page);
    // The page is cut from the ranked ids before any statement is read.
    sql.text = format!(
        "WITH {cte}, top AS (SELECT m.id, m.rank FROM matched m{keyset} \
                             ORDER BY m.rank DESC, m.id LIMIT {page}) \
         SELECT {}, top.rank, {exact} AS exact FROM top JOIN statement ON statement.id = top.id \
         ORDER BY top.rank DESC, top.id",
        columns.join(", ")
    );
    let rows: Vec<QueryResult> = txn.query_all_raw(sql.statement()).await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                Hit {
                    statement: statement::Model::from_query_result(&row, "")?,
                    rank: row.try_get::<f32>("", "rank")?,
                    highlight: String::new(),
                },
                row.try_get::<bool>("", "exact")?,
            ))
        })
        .collect()
}

#[derive(Debug, FromQueryResult)]
struct HighlightRow {
    id: Uuid,
    highlight: String,
}

/// Fills in the highlights of a page's hits: each text HTML-escaped, its matched words
/// in `<mark>…</mark>`, cut to the best fragments; a hit matched only through a claim
/// or a headline shows its first words.
async fn highlight<C: ConnectionTrait>(db: &C, query: &Query, hits: &mut [Hit]) -> ApiResult<()> {
    if hits.is_empty() {
        return Ok(());
    }
    let (configs, queries): (Vec<String>, Vec<String>) = query
        .statements
        .iter()
        .map(|r| (r.config.clone(), r.tsquery.clone()))
        .unzip();
    let ids: Vec<Uuid> = hits.iter().map(|h| h.statement.id).collect();
    let rows = HighlightRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        r#"SELECT s.id, CASE
             WHEN r.q IS NOT NULL AND to_tsvector(s.search_config, s.text) @@ r.q
             THEN ts_headline(s.search_config, e.text, r.q,
                  'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "')
             ELSE coalesce(substring(e.text FROM '^\s*(\S+(\s+\S+){0,34})'), '')
                  || CASE WHEN e.text ~ '^\s*\S+(\s+\S+){35}' THEN ' …' ELSE '' END
           END AS highlight
           FROM statement s
           CROSS JOIN LATERAL (SELECT replace(replace(replace(s.text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') AS text) e
           LEFT JOIN (SELECT unnest($1::text[])::regconfig AS c, unnest($2::text[])::tsquery AS q) r
                  ON r.c = s.search_config
           WHERE s.id = ANY($3)"#,
        [
            Value::from(configs),
            Value::from(queries),
            Value::from(ids),
        ],
    ))
    .all(db)
    .await?;
    let by_id: BTreeMap<Uuid, String> = rows.into_iter().map(|r| (r.id, r.highlight)).collect();
    for hit in hits {
        if let Some(h) = by_id.get(&hit.statement.id) {
            hit.highlight = h.clone();
        }
    }
    Ok(())
}

/// How many statements the search finds, for `totalCount`.
#[instrument(skip(db, conditions))]
pub async fn count<C: TransactionTrait>(
    db: &C,
    query: &Query,
    conditions: &Conditions,
) -> ApiResult<i64> {
    if query.is_empty() {
        return Ok(0);
    }
    let mut sql = Sql::after(conditions);
    let cte = matched(&mut sql, query, conditions, None, &ReadAhead::default());
    sql.text = format!("WITH {cte} SELECT COUNT(*) FROM matched");
    let txn = custom_plans(db).await?;
    let row = txn.query_one_raw(sql.statement()).await?;
    txn.commit().await?;
    Ok(row
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}

/// A read-only transaction for a search's statements, planned for their values.
///
/// The service's connections plan prepared statements generically (see
/// [`crate::db::connect`]), which suits its many small statements. A search's cost lies
/// in how many rows its text query and filter values select, which a generic plan
/// cannot know: it guessed whole-table scans of claims and headlines, and made a search
/// three to four times slower than a plan for the values at hand.
///
/// Its statements share one snapshot (`REPEATABLE READ`, which a read-only transaction
/// gets without any risk of a serialization failure): a page walks the rank levels
/// read by the statement before, ranks what the walks found, and shows the highlights
/// of the very rows it ranked.
async fn custom_plans<C: TransactionTrait>(db: &C) -> ApiResult<C::Transaction> {
    custom_plans_in(db, None).await
}

/// [`custom_plans`], reading in an exported `snapshot` when one is named.
async fn custom_plans_in<C: TransactionTrait>(
    db: &C,
    snapshot: Option<&str>,
) -> ApiResult<C::Transaction> {
    let txn = db
        .begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await?;
    // The snapshot comes first: it must be set before the transaction's first query.
    let import = snapshot
        .map(|name| format!("SET TRANSACTION SNAPSHOT '{name}'; "))
        .unwrap_or_default();
    // Plans for the values at hand, and room to sort tens of thousands of hits in
    // memory rather than on disk.
    txn.execute_unprepared(&format!(
        "{import}SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '32MB'"
    ))
    .await?;
    Ok(txn)
}

/// A transaction on another connection of `db` that reads in `txn`'s snapshot (an
/// exported one), with the same settings as [`custom_plans`].
pub async fn sharing_snapshot(
    db: &DatabaseConnection,
    txn: &DatabaseTransaction,
) -> ApiResult<DatabaseTransaction> {
    let snapshot: String = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_export_snapshot()",
        ))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or_default();
    // PostgreSQL names snapshots in hexadecimal digits and dashes; the name is written
    // into the statement (`SET TRANSACTION SNAPSHOT` takes no parameter).
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(ApiError::Internal(format!(
            "unexpected snapshot name {snapshot:?}"
        )));
    }
    custom_plans_in(db, Some(&snapshot)).await
}

/// Counts of hits by speaker, topic, stance, language and year. Speakers and topics
/// list the most frequent [`MAX_FACET_ENTRIES`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    /// Every hit (each has one language, so this is the sum of `languages`).
    pub total: i64,
    pub speakers: Vec<(Uuid, i64)>,
    pub topics: Vec<(Uuid, i64)>,
    pub stances: Vec<(entity::StanceKind, i64)>,
    pub languages: Vec<(String, i64)>,
    pub years: Vec<(i32, i64)>,
}

#[derive(Debug, FromQueryResult)]
struct FacetRow {
    facet: String,
    key: String,
    n: i64,
}

/// Counts every hit once per facet value (a statement with stances on two claims
/// counts once per distinct stance).
#[instrument(skip(db, conditions))]
pub async fn facets<C: TransactionTrait>(
    db: &C,
    query: &Query,
    conditions: &Conditions,
) -> ApiResult<Facets> {
    if query.is_empty() {
        return Ok(Facets::default());
    }
    let mut sql = Sql::after(conditions);
    let cte = matched(&mut sql, query, conditions, None, &ReadAhead::default());
    let top = sql.bind(i64::try_from(MAX_FACET_ENTRIES).unwrap_or(20));
    sql.text = format!(
        "WITH {cte}, hits AS MATERIALIZED (SELECT statement.id, statement.speaker_id, statement.language, \
                statement.stated_on FROM matched m JOIN statement ON statement.id = m.id) \
         (SELECT 'speaker' AS facet, speaker_id::text AS key, COUNT(*) AS n FROM hits \
            GROUP BY speaker_id ORDER BY n DESC, key LIMIT {top}) \
         UNION ALL (SELECT 'topic' AS facet, t.topic_id::text AS key, COUNT(*) AS n FROM hits h \
            JOIN statement_topic t ON t.statement_id = h.id JOIN topic ON topic.id = t.topic_id \
            WHERE topic.deleted_at IS NULL GROUP BY t.topic_id ORDER BY n DESC, key LIMIT {top}) \
         UNION ALL (SELECT 'stance', st.stance::text, COUNT(DISTINCT h.id) FROM hits h \
            JOIN stance st ON st.statement_id = h.id GROUP BY st.stance) \
         UNION ALL (SELECT 'language', language::text, COUNT(*) FROM hits GROUP BY language) \
         UNION ALL (SELECT 'year', extract(year FROM stated_on)::int::text, COUNT(*) FROM hits GROUP BY 2)"
    );
    let txn = custom_plans(db).await?;
    let rows = FacetRow::find_by_statement(sql.statement())
        .all(&txn)
        .await?;
    txn.commit().await?;
    let mut facets = Facets::default();
    for row in rows {
        match row.facet.as_str() {
            "speaker" => facets
                .speakers
                .extend(row.key.parse().ok().map(|id| (id, row.n))),
            "topic" => facets
                .topics
                .extend(row.key.parse().ok().map(|id| (id, row.n))),
            "stance" => {
                use sea_orm::ActiveEnum;
                if let Ok(stance) = entity::StanceKind::try_from_value(&row.key) {
                    facets.stances.push((stance, row.n));
                }
            }
            "language" => facets.languages.push((row.key, row.n)),
            "year" => facets
                .years
                .extend(row.key.parse().ok().map(|y| (y, row.n))),
            _ => {}
        }
    }
    facets.total = facets.languages.iter().map(|(_, n)| n).sum();
    // Most frequent first, ties by key; years in calendar order.
    facets
        .stances
        .sort_by_key(|(stance, n)| (-n, *stance as i32));
    facets
        .languages
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    facets.years.sort_by_key(|y| y.0);
    Ok(facets)
}

#[cfg(test)]
mod tests {
    use super::{Level, LevelRow, exclusions, walkable};
    use uuid::Uuid;

    fn row(arm: i32, rank: f32, n: usize) -> LevelRow {
        LevelRow {
            arm,
            rank,
            ids: (0..n).map(|_| Uuid::now_v7()).collect(),
        }
    }

    fn ranks(levels: &[Level]) -> Vec<f32> {
        levels.iter().map(|l| l.rank).collect()
    }

    #[test]
    fn walked_levels_are_each_arms_best_with_none_left_out_between() {
        let rows = vec![
            row(1, 0.5, 3),
            row(0, 0.1, 2),
            row(0, 0.3, 4),
            row(1, 0.9, 20),
            row(0, 0.2, 5),
            row(1, 0.2, 1),
        ];
        let levels = walkable(rows, 2, 10);
        // Arm 0: best first, and the third level would pass the limit of 10 ids.
        assert_eq!(ranks(&levels[0]), vec![0.3, 0.2]);
        // Arm 1: its best level is too large, so none is walked, not the smaller ones
        // below it (their statements would seem the arm's best).
        assert_eq!(ranks(&levels[1]), Vec::<f32>::new());
    }

    #[test]
    fn exclusions_are_the_dashed_terms_outside_phrases() {
        assert_eq!(
            exclusions("cyber -hacking -\"election day\" x"),
            "hacking OR \"election day\""
        );
        assert_eq!(exclusions("\"a -b\" co-operation -"), "");
        assert_eq!(exclusions("-a"), "a");
    }
}
