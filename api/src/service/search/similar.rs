//! Similar statements and claim matching, with `pg_trgm`.
//!
//! Similarity is trigram similarity over normalized text: pg_trgm lower-cases, reads
//! words of letters and digits and ignores punctuation, and the query text has its
//! runs of white space collapsed.
//!
//! Similar statements are found one of two ways ([`Strategy`]), chosen by the size
//! of the collection:
//! - **Trigrams**, exact: the trigram GIN index on `statement.text` with the `%`
//!   operator, the threshold set for the one transaction (`SET LOCAL`). The index
//!   merges the posting lists of every trigram of the text, and common trigrams are
//!   in most statements, so its cost grows with the collection: a few milliseconds
//!   for thousands of statements, seconds for a million.
//! - **Bands**, approximate: the statements sharing a band of the text's MinHash
//!   signature (`statement_text_band`, migration `000010`), those sharing the most
//!   bands first, [`BAND_CANDIDATES`] of them (or four times the page) re-ranked by
//!   exact similarity. Its cost follows the number of statements like the text, not
//!   the collection's size. A statement at similarity s shares a band with
//!   probability 1 - (1 - s^4)^20: 0.73 at 0.5, 0.94 at 0.6, 0.996 at 0.7, above
//!   0.9999 at 0.8; whatever is listed is at least `minSimilarity` similar, exactly.
//!
//! A claim's matching statements are those whose text holds a stretch like the claim
//! (word similarity: a claim is short, a statement long) and that take no stance on
//! it yet; editors attach them with one mutation. They too are found one of two ways,
//! chosen the same way:
//! - **Trigrams**, exact: word similarity (`<%`) through the trigram index. A claim's
//!   common trigrams are in most statements, so at a million statements the index
//!   yields some 20,000 candidates per claim, each scored: about 2 s.
//! - **Words**, approximate: candidates through the word index
//!   (`to_tsvector('simple', text)`), in three tiers: statements holding every word of
//!   the claim, every word but one, and any of its rarest words (as many as a statement
//!   may lack and still hold the share `minSimilarity` of the claim's words; rarity from
//!   the index's statistics; read only when the first two fall short of a page). Each
//!   tier gives at most [`WORD_CANDIDATES`] statements, in table order (oldest first),
//!   and only those are scored, exactly. A statement word
//!   similar to the claim but holding few of its words as whole words (a paraphrase with
//!   other inflections) can be missed.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Iden, Iterable,
    QueryFilter, QueryOrder, QueryResult, Statement, TransactionSession, TransactionTrait, Value,
};
use tracing::instrument;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::Actor;
use crate::service::record::{self, ensure_exists};
use crate::service::statement::{self as statements, MAX_STANCES, StatementPatch};
use crate::service::suggestion;
use crate::service::validate::MAX_STATEMENT_TEXT;
use entity::{StanceKind, claim, stance, statement};

/// Similarity asked for when the client names none.
pub const DEFAULT_MIN_SIMILARITY: f64 = 0.5;
/// Lowest similarity a client may ask for: below it nearly everything shares enough
/// trigrams with everything, and the index would discard nothing.
pub const LOWEST_MIN_SIMILARITY: f64 = 0.3;
/// Statements up to which a similarity search goes through the trigram index
/// ([`Strategy::Trigrams`]); above, through the signature bands. On the generated
/// benchmark set the exact search takes some 2 ms per thousand statements (p95 62 ms
/// at 25,000, 217 ms at 100,000), the bands 8–13 ms at any size.
pub const EXACT_UP_TO: i64 = 10_000;
/// Fewest candidates the band search re-ranks.
pub const BAND_CANDIDATES: usize = 200;
/// Most candidates each tier of a claim-matching search through words gives (see the
/// module's documentation).
pub const WORD_CANDIDATES: usize = 600;
/// Most statements attached to a claim in one request.
pub const MAX_ATTACH: usize = 100;

/// A statement and how similar it is, from 0 to 1.
#[derive(Debug, Clone)]
pub struct Similar {
    pub statement: statement::Model,
    pub similarity: f32,
}

/// Checks a `minSimilarity` argument.
pub fn min_similarity(field: &str, value: Option<f64>) -> ApiResult<f64> {
    let value = value.unwrap_or(DEFAULT_MIN_SIMILARITY);
    if (LOWEST_MIN_SIMILARITY..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_input(
            field,
            format!("must be between {LOWEST_MIN_SIMILARITY} and 1"),
        ))
    }
}

/// Collapses white space; refuses empty or over-long text.
pub fn normalize(field: &str, text: &str) -> ApiResult<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(ApiError::bad_input(field, "must not be empty"));
    }
    if text.chars().count() > MAX_STATEMENT_TEXT {
        return Err(ApiError::bad_input(
            field,
            format!("is longer than {MAX_STATEMENT_TEXT} characters"),
        ));
    }
    Ok(text)
}

fn columns() -> String {
    statement::Column::iter()
        .map(|c| format!("statement.{}", c.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn read(rows: Vec<QueryResult>) -> ApiResult<Vec<Similar>> {
    rows.into_iter()
        .map(|row| {
            Ok(Similar {
                statement: statement::Model::from_query_result(&row, "")?,
                similarity: row.try_get::<f32>("", "similarity")?,
            })
        })
        .collect()
}

/// How a similarity search finds its statements (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Through the trigram index: exact, for small collections.
    Trigrams,
    /// Through the signature bands (claim matching: through the word index), re-ranked
    /// exactly: for large collections.
    Bands,
}

impl Strategy {
    /// The strategy for the collection at hand: the planner's row estimate for
    /// `statement`, or, before the table was ever analyzed, a count that stops past
    /// [`EXACT_UP_TO`].
    pub async fn choose<C: ConnectionTrait>(db: &C) -> ApiResult<Self> {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint \
                        ELSE (SELECT count(*) FROM (SELECT 1 FROM statement LIMIT $1) s) END AS n \
                 FROM pg_class c WHERE c.oid = 'statement'::regclass",
                [Value::from(EXACT_UP_TO + 1)],
            ))
            .await?
            .ok_or_else(|| ApiError::Internal("no statement table".into()))?;
        let statements: i64 = row.try_get("", "n")?;
        Ok(if statements <= EXACT_UP_TO {
            Self::Trigrams
        } else {
            Self::Bands
        })
    }
}

/// Live statements whose text is at least `min` similar to `text` (normalized), most
/// similar first, ties by id; `except` leaves one statement out (the one asked about).
#[instrument(skip(db, text))]
pub async fn similar<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    text: &str,
    except: Option<Uuid>,
    min: f64,
    limit: usize,
) -> ApiResult<Vec<Similar>> {
    let strategy = Strategy::choose(db).await?;
    similar_by(db, strategy, text, except, min, limit).await
}

/// [`similar`], the strategy given.
#[instrument(skip(db, text))]
pub async fn similar_by<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    strategy: Strategy,
    text: &str,
    except: Option<Uuid>,
    min: f64,
    limit: usize,
) -> ApiResult<Vec<Similar>> {
    let mut values = vec![
        Value::from(text.to_owned()),
        Value::from(except),
        Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
    ];
    let sql = match strategy {
        Strategy::Trigrams => format!(
            "SELECT {}, similarity(statement.text, $1) AS similarity FROM statement \
             WHERE statement.deleted_at IS NULL AND statement.text % $1 \
               AND statement.id IS DISTINCT FROM $2 \
             ORDER BY similarity DESC, statement.id LIMIT $3",
            columns()
        ),
        Strategy::Bands => {
            values.push(Value::from(
                i64::try_from(BAND_CANDIDATES.max(limit.saturating_mul(4))).unwrap_or(i64::MAX),
            ));
            values.push(Value::from(min));
            // The candidates sharing the most bands, then their exact similarity;
            // `OFFSET 0` keeps the similarity from being computed twice per row.
            format!(
                "WITH candidate AS ( \
                     SELECT b.statement_id, count(*) AS shared FROM statement_text_band b \
                     WHERE b.band = ANY (statement_text_bands($1)) \
                       AND b.statement_id IS DISTINCT FROM $2 \
                     GROUP BY b.statement_id ORDER BY shared DESC, b.statement_id LIMIT $4) \
                 SELECT * FROM ( \
                     SELECT {}, similarity(statement.text, $1) AS similarity \
                     FROM candidate JOIN statement ON statement.id = candidate.statement_id \
                     WHERE statement.deleted_at IS NULL OFFSET 0) found \
                 WHERE similarity >= $5 ORDER BY similarity DESC, id LIMIT $3",
                columns()
            )
        }
    };
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let rows = match strategy {
        // The index's threshold is a setting, for this transaction only.
        Strategy::Trigrams => {
            let txn = db.begin().await?;
            set_threshold(&txn, "pg_trgm.similarity_threshold", min).await?;
            let rows = txn.query_all_raw(statement).await?;
            txn.commit().await?;
            rows
        }
        Strategy::Bands => db.query_all_raw(statement).await?,
    };
    read(rows)
}

/// The statements of a claim-matching page: live, taking no stance on the claim yet,
/// with a stretch of text at least `min` word-similar to the claim's; best first, ties
/// by id.
#[instrument(skip(db))]
pub async fn matching<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    claim: &claim::Model,
    min: f64,
    limit: usize,
) -> ApiResult<Vec<Similar>> {
    let strategy = Strategy::choose(db).await?;
    matching_by(db, strategy, claim, min, limit).await
}

/// [`matching`], the strategy given: [`Strategy::Bands`] takes its candidates from the
/// word index (see the module's documentation).
#[instrument(skip(db))]
pub async fn matching_by<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    strategy: Strategy,
    claim: &claim::Model,
    min: f64,
    limit: usize,
) -> ApiResult<Vec<Similar>> {
    let text = claim.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let txn = db.begin().await?;
    set_threshold(&txn, "pg_trgm.word_similarity_threshold", min).await?;
    let found = match strategy {
        Strategy::Trigrams => {
            let sql = format!(
                "SELECT {}, word_similarity($1, statement.text) AS similarity FROM statement \
                 WHERE $1 <% statement.text AND {UNTIED} \
                 ORDER BY similarity DESC, statement.id LIMIT $3",
                columns()
            );
            let values = [
                Value::from(text),
                Value::from(claim.id),
                Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
            ];
            read(
                txn.query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    values,
                ))
                .await?,
            )?
        }
        Strategy::Bands => {
            // Candidates come through the word index only. Seeing common words ORed,
            // the planner would rather walk the table for a tier's few rows, computing
            // each statement's words on the way (118 ms against 1 at a million).
            txn.execute_unprepared(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off",
            )
            .await?;
            let mut tiers = word_tiers(&txn, &text, min).await?;
            // The rarest words' tier only when the strict ones fall short of a page.
            let loose = (tiers.len() > 2).then(|| tiers.split_off(2));
            let mut found = by_words(&txn, claim, &text, &tiers, min, limit).await?;
            if let Some(loose) = loose.filter(|_| found.len() < limit) {
                tiers.extend(loose);
                found = by_words(&txn, claim, &text, &tiers, min, limit).await?;
            }
            found
        }
    };
    txn.commit().await?;
    Ok(found)
}

/// A statement that takes no stance on the claim `$2` yet.
const UNTIED: &str = "statement.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM stance s \
                      WHERE s.statement_id = statement.id AND s.claim_id = $2)";

/// The statements of a claim-matching page among the candidates of `tiers` (word index
/// queries, see [`word_tiers`]), each tier giving at most [`WORD_CANDIDATES`].
async fn by_words<C: ConnectionTrait>(
    db: &C,
    claim: &claim::Model,
    text: &str,
    tiers: &[String],
    min: f64,
    limit: usize,
) -> ApiResult<Vec<Similar>> {
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let mut values = vec![
        Value::from(text.to_owned()),
        Value::from(claim.id),
        Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
        Value::from(i64::try_from(WORD_CANDIDATES).unwrap_or(i64::MAX)),
        Value::from(min),
    ];
    let first = values.len() + 1;
    let candidates: Vec<String> = (first..)
        .zip(tiers)
        .map(|(n, _)| {
            format!(
                "(SELECT statement.id FROM statement \
                  WHERE to_tsvector('simple', statement.text) @@ ${n}::tsquery \
                    AND {UNTIED} LIMIT $4)"
            )
        })
        .collect();
    values.extend(tiers.iter().cloned().map(Value::from));
    // Each candidate is scored once (`OFFSET 0`), then read whole only if listed.
    let sql = format!(
        "WITH candidate AS ({}), \
         scored AS (SELECT c.id, word_similarity($1, statement.text) AS similarity \
             FROM (SELECT DISTINCT id FROM candidate) c \
             JOIN statement ON statement.id = c.id OFFSET 0) \
         SELECT {}, scored.similarity FROM scored JOIN statement ON statement.id = scored.id \
         WHERE scored.similarity >= $5 ORDER BY scored.similarity DESC, statement.id LIMIT $3",
        candidates.join(" UNION ALL "),
        columns()
    );
    read(
        db.query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?,
    )
}

#[derive(Debug, FromQueryResult)]
struct WordRow {
    word: String,
    /// The share of statements holding it, by the index's statistics (0 when they do
    /// not list it as common).
    share: f64,
}

/// Words held by this share of statements or more are left out of the first two
/// tiers' queries: each would add a posting list of a twentieth of the collection or
/// more to read, and hardly narrow the candidates.
const COMMON_WORD: f64 = 0.05;

/// The word index's queries for a claim's candidates, strictest first (see the
/// module's documentation): every word; every word but one (with three words or more);
/// any of the rarest words a statement holding the share `min` of the words must
/// hold one of. None when the claim has no word.
async fn word_tiers<C: ConnectionTrait>(db: &C, text: &str, min: f64) -> ApiResult<Vec<String>> {
    // The claim's distinct words, rarest first: those the index's statistics do not
    // list as common come first, then the common ones by frequency.
    let words: Vec<(String, f64)> = WordRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT w.word, coalesce(common.freq, 0)::float8 AS share \
         FROM unnest(tsvector_to_array(to_tsvector('simple', $1))) AS w (word) \
         LEFT JOIN (SELECT unnest(s.most_common_elems::text::text[]) AS elem, \
                           unnest(s.most_common_elem_freqs) AS freq \
                    FROM pg_stats s WHERE s.schemaname = current_schema() \
                      AND s.tablename = 'statement_text_fts_idx') common ON common.elem = w.word \
         ORDER BY coalesce(common.freq, 0), w.word",
        [Value::from(text.to_owned())],
    ))
    .all(db)
    .await?
    .into_iter()
    .map(|row| (row.word, row.share))
    .collect();
    Ok(tiers_of(&words, min))
}

/// A word as a `tsquery` operand: quoted, its quotes and backslashes escaped.
fn operand(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

/// The tiers' queries for `words` (rarest first, with the share of statements holding
/// each): all of them; all but one; any of the rarest a statement must hold one of to
/// hold the share `min` of them. The first two leave out [`COMMON_WORD`]s (unless every
/// word is one).
fn tiers_of(words: &[(String, f64)], min: f64) -> Vec<String> {
    if words.is_empty() {
        return Vec::new();
    }
    let rare: Vec<&str> = words
        .iter()
        .filter(|(_, share)| *share < COMMON_WORD)
        .map(|(w, _)| w.as_str())
        .collect();
    let strict: Vec<&str> = if rare.is_empty() {
        words.iter().map(|(w, _)| w.as_str()).collect()
    } else {
        rare
    };
    let all = |skip: Option<usize>| {
        strict
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, w)| operand(w))
            .collect::<Vec<_>>()
            .join(" & ")
    };
    let mut tiers = vec![all(None)];
    if strict.len() >= 3 {
        let most: Vec<String> = (0..strict.len())
            .map(|i| format!("({})", all(Some(i))))
            .collect();
        tiers.push(most.join(" | "));
    }
    // Holding at least `needed` of n words, a statement lacks at most n - needed, so
    // it holds one of any n - needed + 1 of them.
    let n = u32::try_from(words.len()).unwrap_or(u32::MAX);
    let needed = (1..=n)
        .find(|k| f64::from(*k) >= min * f64::from(n))
        .and_then(|k| usize::try_from(k).ok())
        .unwrap_or(words.len());
    let rarest = words.len() - needed + 1;
    if needed < words.len() && rarest < words.len() {
        tiers.push(
            words[..rarest]
                .iter()
                .map(|(w, _)| operand(w))
                .collect::<Vec<_>>()
                .join(" | "),
        );
    }
    tiers
}

/// Sets a pg_trgm threshold for the rest of the transaction.
async fn set_threshold<C: ConnectionTrait>(txn: &C, setting: &str, value: f64) -> ApiResult<()> {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config($1, $2, true)",
        [
            Value::from(setting.to_owned()),
            Value::from(value.to_string()),
        ],
    ))
    .await?;
    Ok(())
}

/// Gives each statement a stance on the claim, in one transaction: each statement is
/// updated as `updateStatement` would (new version, revision, contradiction candidates
/// refreshed). A statement that already takes a stance on the claim, or a repeated
/// id, is refused and nothing is written.
#[instrument(skip(db))]
pub async fn attach<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    claim_id: Uuid,
    statement_ids: &[Uuid],
    stance: StanceKind,
) -> ApiResult<Vec<statement::Model>> {
    if statement_ids.is_empty() || statement_ids.len() > MAX_ATTACH {
        return Err(ApiError::bad_input(
            "input.statementIds",
            format!("give between 1 and {MAX_ATTACH} statements"),
        ));
    }
    for (i, id) in statement_ids.iter().enumerate() {
        if statement_ids[..i].contains(id) {
            return Err(ApiError::bad_input(
                format!("input.statementIds[{i}]"),
                "is listed twice",
            ));
        }
    }
    let txn = db.begin().await?;
    // Every speaker's lock at once, in their order, before any row: each update below
    // takes its speaker's again (already held), never a new one after a row.
    let speakers = statement::Entity::find()
        .filter(statement::Column::Id.is_in(statement_ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.speaker_id);
    suggestion::lock_speakers(&txn, speakers).await?;
    ensure_exists::<claim::Entity, _>(&txn, claim_id, "input.claimId").await?;
    let mut attached = Vec::with_capacity(statement_ids.len());
    for (i, id) in statement_ids.iter().enumerate() {
        let field = format!("input.statementIds[{i}]");
        let current = match record::find_live::<statement::Entity, _>(&txn, *id).await {
            Err(ApiError::NotFound { .. }) => {
                return Err(ApiError::unknown_reference("statement", field));
            }
            found => found?,
        };
        let mut stances: Vec<(Uuid, StanceKind)> = stance::Entity::find()
            .filter(stance::Column::StatementId.eq(*id))
            .order_by_asc(stance::Column::ClaimId)
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.claim_id, s.stance))
            .collect();
        if stances.iter().any(|(c, _)| *c == claim_id) {
            return Err(ApiError::bad_input(
                field,
                "already takes a stance on this claim",
            ));
        }
        if stances.len() >= MAX_STANCES {
            return Err(ApiError::bad_input(
                field,
                format!("already takes the most stances a statement may ({MAX_STANCES})"),
            ));
        }
        stances.push((claim_id, stance));
        let patch = StatementPatch {
            stances: Some(stances),
            ..Default::default()
        };
        attached.push(statements::update(&txn, actor, *id, current.version, patch).await?);
    }
    txn.commit().await?;
    Ok(attached)
}

#[cfg(test)]
mod tests {
    use super::tiers_of;

    fn words(list: &[&str]) -> Vec<(String, f64)> {
        list.iter().map(|w| ((*w).to_owned(), 0.0)).collect()
    }

    #[test]
    fn word_tiers_go_from_every_word_to_the_rarest_a_match_must_hold() {
        let tiers = tiers_of(&words(&["joint", "cyber", "russia", "the"]), 0.5);
        assert_eq!(tiers[0], "'joint' & 'cyber' & 'russia' & 'the'");
        assert_eq!(
            tiers[1],
            "('cyber' & 'russia' & 'the') | ('joint' & 'russia' & 'the') | \
             ('joint' & 'cyber' & 'the') | ('joint' & 'cyber' & 'russia')"
        );
        // Half of four words: a match lacks at most two, so holds one of the three rarest.
        assert_eq!(tiers[2], "'joint' | 'cyber' | 'russia'");
        assert_eq!(tiers.len(), 3);
    }

    #[test]
    fn common_words_are_left_out_of_the_strict_tiers_only() {
        let mut list = words(&["joint", "cyber", "russia"]);
        list.push(("the".to_owned(), 0.3));
        let tiers = tiers_of(&list, 0.5);
        assert_eq!(tiers[0], "'joint' & 'cyber' & 'russia'");
        assert_eq!(
            tiers[1],
            "('cyber' & 'russia') | ('joint' & 'russia') | ('joint' & 'cyber')"
        );
        assert_eq!(tiers[2], "'joint' | 'cyber' | 'russia'");
    }

    #[test]
    fn short_claims_take_every_word_and_quotes_are_escaped() {
        assert_eq!(tiers_of(&words(&["it's"]), 0.5), vec!["'it''s'"]);
        assert_eq!(tiers_of(&words(&["a", "b"]), 1.0), vec!["'a' & 'b'"]);
        assert!(tiers_of(&[], 0.5).is_empty());
    }
}
