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
//! Claim matching uses word similarity (`<%`) through the trigram index.
//!
//! A claim's matching statements are those whose text holds a stretch like the claim
//! (word similarity: a claim is short, a statement long) and that take no stance on
//! it yet; editors attach them with one mutation.

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
    /// Through the signature bands, re-ranked exactly: for large collections.
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
/// with a stretch of text at least `min` word-similar to the claim's; best first.
#[instrument(skip(db))]
pub async fn matching<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    claim: &claim::Model,
    min: f64,
    limit: usize,
) -> ApiResult<Vec<Similar>> {
    let txn = db.begin().await?;
    set_threshold(&txn, "pg_trgm.word_similarity_threshold", min).await?;
    let sql = format!(
        "SELECT {}, word_similarity($1, statement.text) AS similarity FROM statement \
         WHERE statement.deleted_at IS NULL AND $1 <% statement.text \
           AND NOT EXISTS (SELECT 1 FROM stance s WHERE s.statement_id = statement.id AND s.claim_id = $2) \
         ORDER BY similarity DESC, statement.id LIMIT $3",
        columns()
    );
    let text = claim.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [
                Value::from(text),
                Value::from(claim.id),
                Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        ))
        .await?;
    txn.commit().await?;
    read(rows)
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
