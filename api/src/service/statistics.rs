//! The planner's statistics, kept up to date by the service itself. PostgreSQL plans
//! every read from its statistics of the tables, and a table loaded or rewritten in
//! bulk (an import, a restore, another process's load) has none, or stale ones, until
//! autovacuum's next round analyzes it: up to a minute (`autovacuum_naptime`), during
//! which the connections' cached plans, made for the table as it was, stay in use (the
//! first page after a 4,593-row load ran at 113 requests a second for a minute, then
//! at 4,400). The service's maintenance timer looks every few seconds and analyzes a
//! table that has rows but no statistics, or has changed by a tenth since its last
//! analysis; analyzing invalidates the cached plans that read it.
//!
//! One instance analyzes at a time (a transaction-level advisory lock), and a look
//! costs one query of `pg_stat_user_tables`.

use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult, TransactionTrait};
use tracing::{info, instrument};

use crate::error::ApiResult;
use crate::service::sql::Params;

/// The tables the reads plan over.
pub const TABLES: [&str; 17] = [
    "statement",
    "stance",
    "appearance",
    "article",
    "outlet",
    "speaker",
    "speaker_role",
    "claim",
    "verdict",
    "link",
    "topic",
    "statement_topic",
    "claim_topic",
    "revision",
    "statement_text_band",
    "search_config_use",
    "api_key",
];

/// Fewest rows changed since a table's last analysis that make it stale, whatever its
/// size (autovacuum's own threshold is 50 rows and a tenth of the table).
pub const MIN_CHANGES: i64 = 500;

/// The share of a table's rows that, changed since its last analysis, makes it stale.
pub const STALE_SHARE: f64 = 0.1;

/// The advisory lock held while analyzing, so that instances take turns.
const LOCK: &str = "claimtrack.statistics";

#[derive(Debug, FromQueryResult)]
struct Stale {
    relname: String,
}

/// The tables among [`TABLES`] whose statistics are missing or stale.
pub async fn stale<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<String>> {
    let mut params = Params::new();
    let sql = format!(
        "SELECT s.relname::text AS relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
         WHERE s.schemaname = current_schema() AND s.relname = ANY({tables}) \
           AND ((s.last_analyze IS NULL AND s.last_autoanalyze IS NULL AND s.n_live_tup > 0) \
                OR s.n_mod_since_analyze > greatest({min}, {share} * greatest(c.reltuples, 0))) \
         ORDER BY s.relname",
        tables = params.bind(TABLES.map(str::to_owned).to_vec()),
        min = params.bind(MIN_CHANGES),
        share = params.bind(STALE_SHARE),
    );
    Ok(Stale::find_by_statement(params.statement(sql))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.relname)
        .collect())
}

/// Analyzes the stale tables, unless another instance is at it; the tables analyzed.
#[instrument(skip(db))]
pub async fn refresh(db: &DatabaseConnection) -> ApiResult<Vec<String>> {
    let tables = stale(db).await?;
    if tables.is_empty() {
        return Ok(tables);
    }
    let txn = db.begin().await?;
    if !crate::service::jobs::try_lock(&txn, LOCK).await? {
        return Ok(Vec::new());
    }
    txn.execute_unprepared("SET LOCAL statement_timeout = 0")
        .await?;
    // The names come from TABLES (the query above only narrows them).
    let names: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| tables.iter().any(|s| s == t))
        .collect();
    txn.execute_unprepared(&format!("ANALYZE {}", names.join(", ")))
        .await?;
    txn.commit().await?;
    info!(tables = %names.join(", "), "analyzed tables whose statistics were missing or stale");
    Ok(names.into_iter().map(str::to_owned).collect())
}
