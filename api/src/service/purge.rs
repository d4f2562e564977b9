//! Hard deletes ("purges"), for admins: takedowns, erasure requests, records that
//! should never have been entered. A soft delete hides a record and keeps its content
//! in the trail; a purge removes the row and blanks the content of every revision of
//! it, so the text is gone from the database. What stays is that the record existed,
//! when it changed and by whose key, and a PURGE revision saying who purged it, when
//! and why. PostgreSQL's append-only trigger allows exactly this blanking and nothing
//! else (migration `m20261126_000007_add_purge`).
//!
//! A purge takes with it the records that belong to the purged one (a speaker's
//! roles; a statement's appearances and links; an article's appearances and the links
//! to it), each with its own PURGE revision. It refuses, naming them, while other
//! records still refer to it, soft-deleted ones included: those are purged first, or
//! edited to refer elsewhere, so nothing is ever removed as a side effect.

use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult, Statement, TransactionSession, TransactionTrait,
};
use tracing::{info, instrument};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::{self, Actor};
use crate::service::validate;

/// The longest reason a purge may give.
pub const MAX_REASON: usize = 2000;

/// A table whose records can be purged: who refers to its records, and which records
/// belong to them.
struct Kind {
    table: &'static str,
    /// `(table, column, what)`: rows that keep a record from being purged.
    referred_by: &'static [(&'static str, &'static str, &'static str)],
    /// `(table, column)`: records, with their own trail, purged along with it.
    owns: &'static [(&'static str, &'static str)],
}

const KINDS: &[Kind] = &[
    Kind {
        table: "speaker",
        referred_by: &[
            ("statement", "speaker_id", "statements"),
            ("statement", "reported_by_id", "reported statements"),
        ],
        owns: &[("speaker_role", "speaker_id")],
    },
    Kind {
        table: "speaker_role",
        referred_by: &[],
        owns: &[],
    },
    Kind {
        table: "outlet",
        referred_by: &[
            ("article", "outlet_id", "articles"),
            ("verdict", "reviewer_id", "verdicts"),
        ],
        owns: &[],
    },
    Kind {
        table: "article",
        referred_by: &[],
        owns: &[("appearance", "article_id"), ("link", "target_article_id")],
    },
    Kind {
        table: "topic",
        referred_by: &[
            ("topic", "parent_id", "subtopics"),
            ("claim_topic", "topic_id", "claims tagged with it"),
            ("statement_topic", "topic_id", "statements tagged with it"),
        ],
        owns: &[],
    },
    Kind {
        table: "claim",
        referred_by: &[
            ("stance", "claim_id", "statements taking a stance on it"),
            ("verdict", "claim_id", "verdicts"),
        ],
        owns: &[],
    },
    Kind {
        table: "statement",
        referred_by: &[("verdict", "statement_id", "verdicts")],
        owns: &[
            ("appearance", "statement_id"),
            ("link", "source_statement_id"),
            ("link", "target_statement_id"),
        ],
    },
    Kind {
        table: "appearance",
        referred_by: &[],
        owns: &[],
    },
    Kind {
        table: "verdict",
        referred_by: &[],
        owns: &[],
    },
    Kind {
        table: "link",
        referred_by: &[],
        owns: &[],
    },
];

/// One record a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub entity_type: &'static str,
    pub id: Uuid,
}

/// What a purge did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The record asked for first, then those that belonged to it.
    pub records: Vec<Purged>,
    /// Revisions whose content was blanked.
    pub redacted_revisions: u64,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    version: i32,
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

fn sql(sql: String, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Purges the record `id` read at `version`, live or soft-deleted, with the records
/// that belong to it, in one transaction.
#[instrument(skip(db, actor, reason))]
pub async fn purge<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    version: i32,
    reason: &str,
) -> ApiResult<Outcome> {
    let reason = validate::text("input.reason", reason, MAX_REASON)?;
    let txn = db.begin().await?;
    let kind = kind_of(&txn, id).await?;
    let current = Row::find_by_statement(sql(
        format!(
            "SELECT id, version FROM {} WHERE id = $1 FOR UPDATE",
            kind.table
        ),
        [id.into()],
    ))
    .one(&txn)
    .await?
    .ok_or(ApiError::not_found("record"))?;
    if current.version != version {
        return Err(ApiError::stale_version(kind.table, current.version));
    }
    ensure_unreferenced(&txn, kind, id).await?;

    let mut records = vec![(kind.table, current)];
    for (table, column) in kind.owns {
        let owned = Row::find_by_statement(sql(
            format!("SELECT id, version FROM {table} WHERE {column} = $1 ORDER BY id FOR UPDATE"),
            [id.into()],
        ))
        .all(&txn)
        .await?;
        records.extend(owned.into_iter().map(|row| (*table, row)));
    }
    // Owned rows go with it (ON DELETE CASCADE), and so do join rows without a trail
    // of their own (stances, topic tags).
    txn.execute_raw(sql(
        format!("DELETE FROM {} WHERE id = $1", kind.table),
        [id.into()],
    ))
    .await?;
    for (table, row) in &records {
        audit::purged(&txn, actor, table, row.id, row.version + 1, &reason).await?;
    }
    let ids: Vec<Uuid> = records.iter().map(|(_, row)| row.id).collect();
    let redacted = txn
        .execute_raw(sql(
            "UPDATE revision SET before = NULL, after = NULL, redacted_at = now() \
             WHERE entity_id = ANY($1) AND action <> 'PURGE' AND redacted_at IS NULL"
                .to_owned(),
            [ids.into()],
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    let records: Vec<Purged> = records
        .into_iter()
        .map(|(entity_type, row)| Purged {
            entity_type,
            id: row.id,
        })
        .collect();
    info!(
        %id,
        entity_type = kind.table,
        records = records.len(),
        redacted,
        "record purged"
    );
    Ok(Outcome {
        records,
        redacted_revisions: redacted,
    })
}

/// Which table holds `id`: ids are uuids v7, unique across tables.
async fn kind_of<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<&'static Kind> {
    #[derive(Debug, FromQueryResult)]
    struct Found {
        t: String,
    }
    let union = KINDS
        .iter()
        .map(|k| format!("SELECT '{0}' AS t FROM {0} WHERE id = $1", k.table))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let found = Found::find_by_statement(sql(union, [id.into()]))
        .one(db)
        .await?
        .ok_or(ApiError::not_found("record"))?;
    KINDS
        .iter()
        .find(|k| k.table == found.t)
        .ok_or_else(|| ApiError::Internal(format!("purge: unknown table {}", found.t)))
}

/// Refuses while other records, soft-deleted ones included, refer to the record.
async fn ensure_unreferenced<C: ConnectionTrait>(db: &C, kind: &Kind, id: Uuid) -> ApiResult<()> {
    let mut found = Vec::new();
    for (table, column, what) in kind.referred_by {
        let count = Count::find_by_statement(sql(
            format!("SELECT count(*) AS n FROM {table} WHERE {column} = $1"),
            [id.into()],
        ))
        .one(db)
        .await?
        .map_or(0, |c| c.n);
        if count > 0 {
            found.push(format!("{count} {what}"));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(ApiError::Conflict {
        message: format!(
            "this {} is still referred to by {} (deleted ones included); purge them first",
            kind.table,
            found.join(", ")
        ),
        field: Some("input.id".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::KINDS;

    #[test]
    fn every_kind_is_named_once() {
        let mut tables: Vec<&str> = KINDS.iter().map(|k| k.table).collect();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), KINDS.len());
    }

    /// An owned record is purged without its own checks, so it must own nothing and
    /// nothing may refer to it: otherwise a purge would remove more than it says.
    #[test]
    fn what_a_record_owns_is_a_leaf() {
        for kind in KINDS {
            for (table, _) in kind.owns {
                let owned = KINDS.iter().find(|k| k.table == *table);
                let owned = owned.unwrap_or_else(|| panic!("{table} has no purge rules"));
                assert!(owned.owns.is_empty(), "{table} owns records itself");
                assert!(owned.referred_by.is_empty(), "{table} is referred to");
            }
        }
    }
}
