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
//!
//! The modules: [`query`] reads the query in each configuration; [`arms`] finds and
//! ranks what each arm (own words, claims, headlines) matches, with [`levels`] walking
//! the claims and headlines that share a rank; [`paging`] cuts a page from them;
//! [`highlight`] marks the matched words of a page's hits; [`facets`] counts the hits.

mod arms;
mod facets;
mod highlight;
mod levels;
mod paging;
mod query;
pub mod similar;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait, Value,
};

use crate::error::{ApiError, ApiResult};
use crate::service::sql::Params;

pub use facets::{EXACT_UP_TO, Facets, MAX_FACET_ENTRIES, SAMPLE_PAGES, facets};
pub use paging::{Hit, RankKey, SecondReads, page};
pub use query::{MAX_QUERY_CHARS, Query, parse};

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

/// SQL under construction: the text, and the values of its placeholders (bound with
/// the service's one binder, [`Params`]).
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    params: Params,
}

impl Sql {
    /// Starts after the filter's own placeholders.
    pub(super) fn after(conditions: &Conditions) -> Self {
        Self {
            text: String::new(),
            params: Params::from_values(conditions.values.clone()),
        }
    }

    /// Adds a value; returns its placeholder.
    pub(super) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.params.bind(value)
    }

    pub(super) fn statement(self) -> Statement {
        self.params.statement(self.text)
    }
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
pub(super) async fn custom_plans<C: TransactionTrait>(db: &C) -> ApiResult<C::Transaction> {
    custom_plans_in(db, None).await
}

/// [`custom_plans`], reading in an exported `snapshot` when one is named.
pub(super) async fn custom_plans_in<C: TransactionTrait>(
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
