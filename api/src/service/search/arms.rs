//! The ranking arms: the statements a query matches by their own words, through a
//! claim they take a stance on, or through the headline of an article that reported
//! them, each arm ranked, and `matched`, the best rank of each statement over them.

use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::query::{Query, Reading};
use super::{Conditions, Sql};
use crate::error::ApiResult;

/// A way to statements through rows of another table whose text matches: claims they
/// take a stance on (with the query's word-for-word reading), or headlines of articles
/// that reported them (with its readings for headlines).
#[derive(Debug, Clone, Copy)]
pub(super) enum Way<'q> {
    Claims(&'q str),
    Headlines(&'q [Reading]),
}

impl<'q> Way<'q> {
    /// The query's ways, in the order [`matched`] lists their arms.
    pub(super) fn all(query: &'q Query) -> Vec<Way<'q>> {
        let claims = query.simple.as_deref().map(Way::Claims);
        let headlines =
            (!query.articles.is_empty()).then_some(Way::Headlines(query.articles.as_slice()));
        claims.into_iter().chain(headlines).collect()
    }

    /// The matching rows as `(id, rank)`, each ranked once, with their values bound in
    /// `sql`.
    pub(super) fn ranked(self, sql: &mut Sql) -> String {
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
    pub(super) fn links(self) -> &'static str {
        match self {
            Way::Claims(_) => "stance link",
            Way::Headlines(_) => {
                "(SELECT * FROM appearance WHERE appearance.deleted_at IS NULL) link"
            }
        }
    }

    /// The link's column naming the matching row.
    pub(super) fn key(self) -> &'static str {
        match self {
            Way::Claims(_) => "link.claim_id",
            Way::Headlines(_) => "link.article_id",
        }
    }
}

/// The rows of `alias` (a statement or an article) that match the query as their own
/// configuration reads it, and their rank.
pub(super) struct Matching {
    /// One condition per reading, ORed: each takes its configuration's own index, and
    /// one scan of the table reads what they found together.
    pub(super) matches: String,
    /// `ts_rank` with the row's own configuration's reading.
    pub(super) rank: String,
}

/// The [`Matching`] of `readings` on `alias`, with their values bound in `sql`. Without
/// readings, no row matches.
pub(super) fn matching(sql: &mut Sql, alias: &str, readings: &[Reading]) -> Matching {
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

/// A statement found through a claim or a headline must not say what the query
/// excludes: its own document is checked against the exclusions of its language
/// (statements found by their own words passed that check already). The condition on
/// `statement`, with its values bound in `sql`; empty without exclusions.
pub(super) fn excluded(sql: &mut Sql, query: &Query) -> String {
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
pub(super) fn bound(sql: &mut Sql, hits: &[Ranked]) -> String {
    let ids = sql.bind(hits.iter().map(|hit| hit.id).collect::<Vec<Uuid>>());
    let ranks = sql.bind(hits.iter().map(|hit| hit.rank).collect::<Vec<f32>>());
    format!("SELECT * FROM unnest({ids}::uuid[], {ranks}::real[])")
}

/// The statements the query matches by their own words and that meet the filter's
/// `conditions`, as `(id, rank)`; none without readings for statements.
pub(super) fn own_words(sql: &mut Sql, query: &Query, conditions: &Conditions) -> Option<String> {
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
pub(super) struct Ranked {
    pub(super) id: Uuid,
    pub(super) rank: f32,
}

/// The best `top` statements by their own words (rank, then id).
pub(super) async fn best_own<C: ConnectionTrait>(
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
pub(super) fn best_first(arm: &str, limit: &str) -> String {
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
/// `reach` says how much of each arm is read ([`Reach`]).
///
/// With [`Reach::Best`] `top`, each arm lists only its best `top` statements (rank, then id), which is
/// enough for the first `top` of the whole ranking: a statement ranks by its best arm,
/// and one that is not among the first `top` of that arm has `top` statements before
/// it there, each ranking at least as high overall. A claim or a headline matched by
/// thousands of statements then costs an index read per statement and a table read for
/// the first few, not a table read for each. The same holds for the statements at
/// positions up to `top` of any page, which is how later pages use it (see [`page`](super::paging::page)).
///
/// `ahead.walked` (from [`walk`](super::levels::walk), or empty) holds, for the ways through claims and
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
/// `ahead.own`, when read (with [`Reach::Best`], in the same snapshot), is the statements' own
/// words' arm already cut to its best `top`.
pub(super) fn matched(
    sql: &mut Sql,
    query: &Query,
    conditions: &Conditions,
    reach: Reach,
    ahead: &ReadAhead,
) -> String {
    let conds = &conditions.sql;
    let top = match reach {
        Reach::Best(top) => Some(top),
        Reach::All | Reach::Any(_) => None,
    };
    let limit = match reach {
        Reach::Best(n) | Reach::Any(n) => Some(sql.bind(i64::try_from(n).unwrap_or(i64::MAX))),
        Reach::All => None,
    };
    let best = |arm: String| match (&limit, reach) {
        (Some(limit), Reach::Best(_)) => format!("({})", best_first(&arm, limit)),
        (Some(limit), _) => format!("({arm} LIMIT {limit})"),
        (None, _) => arm,
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
    let fence = if top.is_some() { " OFFSET 0" } else { "" };
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
        if top.is_some() {
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

/// How much of each arm [`matched`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Every statement each arm finds.
    All,
    /// Each arm's best `n` statements (rank, then id).
    Best(usize),
    /// Any `n` statements of each arm, in no order: enough to tell whether an arm
    /// finds more than `n - 1`, without reading the rest.
    Any(usize),
}

/// The condition that the statement `statement` is a hit: it matches by its own
/// words, or it is linked to a matching claim or headline and does not say what the
/// query excludes. Each statement is tested where it stands, as in a sample of the
/// table, where the arms of [`matched`] would each read every match to keep a few.
pub(super) fn is_hit(sql: &mut Sql, query: &Query) -> String {
    let mut any: Vec<String> = Vec::new();
    if !query.statements.is_empty() {
        let Matching { matches, .. } = matching(sql, "statement", &query.statements);
        any.push(format!("({matches})"));
    }
    let through: Vec<String> = Way::all(query)
        .into_iter()
        .map(|way| {
            format!(
                "statement.id IN (SELECT link.statement_id FROM ({}) r (id, rank) \
                 JOIN {} ON {} = r.id)",
                way.ranked(sql),
                way.links(),
                way.key()
            )
        })
        .collect();
    if !through.is_empty() {
        let excluded = excluded(sql, query);
        any.push(format!("(({}){excluded})", through.join(" OR ")));
    }
    if any.is_empty() {
        return "false".to_owned();
    }
    format!("({})", any.join(" OR "))
}

/// What a page read before its own statement (see [`read_ahead`](super::paging::read_ahead)).
#[derive(Debug, Default)]
pub(super) struct ReadAhead {
    /// What walking the ways through claims and headlines found (see [`walk`](super::levels::walk)).
    pub(super) walked: Vec<Option<Vec<Ranked>>>,
    /// The statements' own best, when read beside the walks.
    pub(super) own: Option<Vec<Ranked>>,
}
