//! Counting hits, for `totalCount` and the facets: exactly when a search finds few
//! statements, estimated from a sample of the table when it finds many.
//!
//! Counting every hit of a broad query reads every statement it matches: "cyber
//! security OR border security Iowa" finds 88,176 of a million, and counting their
//! speakers, topics, stances, languages and years took 0.75–1.1 s. So each arm first
//! reads at most [`EXACT_UP_TO`] + 1 of its statements, in no order: when no arm has
//! more than [`EXACT_UP_TO`], those are all the hits, and they are counted exactly.
//! Otherwise the hits are counted in a sample of the statement table's pages
//! (`TABLESAMPLE SYSTEM`, about [`SAMPLE_PAGES`] pages, the same ones every time), each
//! sampled statement tested against the query where it stands ([`is_hit`]), and every
//! count is scaled up by the sample's share of the table: estimates, which
//! [`Facets::exact`] says. A table of [`SAMPLE_PAGES`] pages or fewer is sampled
//! whole, and its counts are exact.

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, TransactionTrait};
use tracing::instrument;
use uuid::Uuid;

use super::arms::{Reach, ReadAhead, is_hit, matched};
use super::query::Query;
use super::{Conditions, Sql, custom_plans};
use crate::error::ApiResult;

/// Most entries listed per facet (speakers, topics, years).
pub const MAX_FACET_ENTRIES: u64 = 20;

/// Hits counted exactly: while no arm (own words, claims, headlines) finds more
/// statements than this, every count is exact.
pub const EXACT_UP_TO: usize = 1_000;

/// Pages of the statement table sampled to estimate the counts of a search that finds
/// more (about 12,000 statements: 1.2 % of a million).
pub const SAMPLE_PAGES: u32 = 1_000;

/// Counts of hits by speaker, topic, stance, language and year. Speakers and topics
/// list the most frequent [`MAX_FACET_ENTRIES`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    /// Every hit (each has one language, so this is the sum of `languages`, up to
    /// rounding when estimated).
    pub total: i64,
    /// The counts are exact; when false they are estimated from a sample of the
    /// statements, and `total` is at least the hits actually seen.
    pub exact: bool,
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

/// The percentage of a table of `pages` pages that [`SAMPLE_PAGES`] pages make, at
/// most 100.
fn sample_percent(pages: i64) -> f64 {
    let pages = u32::try_from(pages.max(1)).unwrap_or(u32::MAX);
    (100.0 * f64::from(SAMPLE_PAGES) / f64::from(pages)).min(100.0)
}

/// Counts the hits once per facet value (a statement with stances on two claims
/// counts once per distinct stance), and in all: exactly, or estimated from a sample
/// (see the module's documentation).
#[instrument(skip(db, conditions))]
pub async fn facets<C: TransactionTrait>(
    db: &C,
    query: &Query,
    conditions: &Conditions,
) -> ApiResult<Facets> {
    if query.is_empty() {
        return Ok(Facets {
            exact: true,
            ..Facets::default()
        });
    }
    let txn = custom_plans(db).await?;
    let pages: i64 = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT (pg_relation_size('statement') / 8192)::int8",
        ))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    let percent = sample_percent(pages);
    let mut sql = Sql::after(conditions);
    let cte = matched(
        &mut sql,
        query,
        conditions,
        Reach::Any(EXACT_UP_TO + 1),
        &ReadAhead::default(),
    );
    let most = sql.bind(i64::try_from(EXACT_UP_TO).unwrap_or(i64::MAX));
    let share = sql.bind(percent);
    let hit = is_hit(&mut sql, query);
    let top = sql.bind(i64::try_from(MAX_FACET_ENTRIES).unwrap_or(20));
    let conds = &conditions.sql;
    let n = "round(COUNT(*) * (SELECT f FROM scale))::int8";
    let distinct = "round(COUNT(DISTINCT h.id) * (SELECT f FROM scale))::int8";
    // `exact` is read once (an init plan): the branch of `hits` it rules out is never
    // run. Counts are scaled in SQL by the sample's share of the table. `hits` holds
    // at most a thousand exact hits or a sample's: its topics and stances are looked up
    // hit by hit (fenced), whatever the planner guesses of its size (a guess of 19,524
    // hashed the whole stance table, 330 ms, to count 45 hits).
    sql.text = format!(
        "WITH {cte}, \
         exact AS MATERIALIZED (SELECT coalesce(max(a.n), 0) <= {most} AS exact \
             FROM (SELECT count(*) AS n FROM arms GROUP BY arms.arm) a), \
         scale AS MATERIALIZED (SELECT CASE WHEN exact THEN 1.0 ELSE 100.0 / {share}::float8 END AS f \
             FROM exact), \
         hits AS MATERIALIZED ( \
             SELECT statement.id, statement.speaker_id, statement.language, statement.stated_on \
               FROM matched m JOIN statement ON statement.id = m.id WHERE (SELECT exact FROM exact) \
             UNION ALL \
             SELECT statement.id, statement.speaker_id, statement.language, statement.stated_on \
               FROM statement TABLESAMPLE SYSTEM ({share}::real) REPEATABLE (0) \
               WHERE NOT (SELECT exact FROM exact) AND {conds} AND {hit}) \
         (SELECT 'speaker' AS facet, speaker_id::text AS key, {n} AS n FROM hits \
            GROUP BY speaker_id ORDER BY n DESC, key LIMIT {top}) \
         UNION ALL (SELECT 'topic' AS facet, t.topic_id::text AS key, {n} AS n FROM hits h \
            CROSS JOIN LATERAL (SELECT x.topic_id FROM statement_topic x \
                                WHERE x.statement_id = h.id OFFSET 0) t \
            JOIN topic ON topic.id = t.topic_id \
            WHERE topic.deleted_at IS NULL GROUP BY t.topic_id ORDER BY n DESC, key LIMIT {top}) \
         UNION ALL (SELECT 'stance', st.stance::text, {distinct} FROM hits h \
            CROSS JOIN LATERAL (SELECT x.stance FROM stance x \
                                WHERE x.statement_id = h.id OFFSET 0) st GROUP BY st.stance) \
         UNION ALL (SELECT 'language', language::text, {n} FROM hits GROUP BY language) \
         UNION ALL (SELECT 'year', extract(year FROM stated_on)::int::text, {n} FROM hits GROUP BY 2) \
         UNION ALL (SELECT 'total', '', {n} FROM hits) \
         UNION ALL (SELECT 'seen', '', COUNT(*) FROM matched) \
         UNION ALL (SELECT 'exact', exact::text, 0 FROM exact)"
    );
    let rows = FacetRow::find_by_statement(sql.statement())
        .all(&txn)
        .await?;
    sea_orm::TransactionSession::commit(txn).await?;
    let exact = percent >= 100.0 || rows.iter().any(|r| r.facet == "exact" && r.key == "true");
    let mut facets = Facets {
        exact,
        ..Facets::default()
    };
    let mut seen = 0;
    for row in rows {
        let n = row.n;
        match row.facet.as_str() {
            "speaker" => facets
                .speakers
                .extend(row.key.parse().ok().map(|id| (id, n))),
            "topic" => facets.topics.extend(row.key.parse().ok().map(|id| (id, n))),
            "stance" => {
                use sea_orm::ActiveEnum;
                if let Ok(stance) = entity::StanceKind::try_from_value(&row.key) {
                    facets.stances.push((stance, n));
                }
            }
            "language" => facets.languages.push((row.key, n)),
            "year" => facets.years.extend(row.key.parse().ok().map(|y| (y, n))),
            "total" => facets.total = n,
            "seen" => seen = n,
            _ => {}
        }
    }
    // An estimate never says fewer than the hits the arms actually found.
    facets.total = facets.total.max(seen);
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
    use super::{SAMPLE_PAGES, sample_percent};

    #[test]
    fn a_small_table_is_sampled_whole_and_a_large_one_by_its_share() {
        assert_eq!(sample_percent(0), 100.0);
        assert_eq!(sample_percent(i64::from(SAMPLE_PAGES)), 100.0);
        assert_eq!(sample_percent(i64::from(SAMPLE_PAGES) * 4), 25.0);
        assert!((sample_percent(81_796) - 1.2225).abs() < 0.001);
    }
}
