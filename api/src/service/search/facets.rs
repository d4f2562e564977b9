//! Counting hits: `totalCount` and the facets.

use sea_orm::{ConnectionTrait, FromQueryResult, TransactionSession, TransactionTrait};
use tracing::instrument;
use uuid::Uuid;

use super::arms::{ReadAhead, matched};
use super::query::Query;
use super::{Conditions, Sql, custom_plans};
use crate::error::ApiResult;

/// Most entries listed per facet (speakers, topics, years).
pub const MAX_FACET_ENTRIES: u64 = 20;

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
