//! Walking the claims and headlines that share a rank: where thousands of claims of one
//! template match alike, a page takes the first statements they lead to, in statement
//! order, instead of every link of every matching row.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::arms::{Ranked, Way, excluded};
use super::query::Query;
use super::{Conditions, Sql};
use crate::error::ApiResult;

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
/// between them (see [`matched`](super::arms::matched)), so a level too large ends its arm's list.
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
/// that do not say what the query excludes (see [`matched`](super::arms::matched)). For each way of
/// [`Way::all`], none when it has no level to walk, else the statements found, each
/// once at its best level's rank.
///
/// The levels' ids are bound here, in a statement of their own, so the page's
/// statement does not plan them (PostgreSQL estimates each element of a bound array:
/// thousands of ids cost milliseconds). Index-only scans in statement order find each
/// level's first statements after a few hundred index entries.
pub(super) async fn walk<C: ConnectionTrait>(
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

#[cfg(test)]
mod tests {
    use super::{Level, LevelRow, walkable};
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
}
