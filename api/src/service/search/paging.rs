//! Pages of hits: cut from each arm's best, read ahead on a second connection where
//! one is free, checked on later pages, and highlighted.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, FromQueryResult, Iden, Iterable,
    QueryResult,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::instrument;
use uuid::Uuid;

use super::arms::{Reach, ReadAhead, Way, best_own, matched};
use super::highlight::highlight;
use super::levels::walk;
use super::query::Query;
use super::{Conditions, Sql, custom_plans, sharing_snapshot};
use crate::error::ApiResult;
use entity::statement;

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
    let reach = top.map_or(Reach::All, Reach::Best);
    let cte = matched(&mut sql, query, conditions, reach, ahead);
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
