//! ClaimTrack's own exchange format, and its ClaimReview feed.
//!
//! The own format is JSON Lines, one record a line: `{"type": "speaker", …}` with every
//! stored column of the record's table (ids, versions and times included; columns
//! PostgreSQL derives left out), tables in the order their references need. The
//! columns are read from the database itself, so a column added to a table travels
//! without a change here. Importing such a file into an empty database gives back
//! the same records; into one that has them, a record whose id is there is left as it
//! is unless the file's version is newer, and then updated.
//!
//! The ClaimReview feed lists published verdicts that carry their review's address,
//! as schema.org `ClaimReview` items of a Data Commons-style `DataFeed`.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use super::import::{FileError, FileReport, Problem};
use crate::service::statement::snapshot_sql;
use crate::service::verdict::claim_review_sql;

/// A table of the export, in load order, with the references a record needs in place
/// (column, table).
struct Table {
    name: &'static str,
    references: &'static [(&'static str, &'static str)],
    /// Whether the table has `id`, `version` and `deleted_at`.
    versioned: bool,
    /// Columns that identify a row of a table without an id.
    key: &'static [&'static str],
}

const TABLES: &[Table] = &[
    Table {
        name: "outlet",
        references: &[],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "speaker",
        references: &[],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "speaker_role",
        references: &[("speaker_id", "speaker")],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "topic",
        references: &[("parent_id", "topic")],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "claim",
        references: &[],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "claim_topic",
        references: &[("claim_id", "claim"), ("topic_id", "topic")],
        versioned: false,
        key: &["claim_id", "topic_id"],
    },
    Table {
        name: "article",
        references: &[("outlet_id", "outlet")],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "statement",
        references: &[("speaker_id", "speaker"), ("reported_by_id", "speaker")],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "statement_topic",
        references: &[("statement_id", "statement"), ("topic_id", "topic")],
        versioned: false,
        key: &["statement_id", "topic_id"],
    },
    Table {
        name: "stance",
        references: &[("statement_id", "statement"), ("claim_id", "claim")],
        versioned: false,
        key: &["id"],
    },
    Table {
        name: "appearance",
        references: &[("statement_id", "statement"), ("article_id", "article")],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "verdict",
        references: &[
            ("statement_id", "statement"),
            ("claim_id", "claim"),
            ("reviewer_id", "outlet"),
        ],
        versioned: true,
        key: &["id"],
    },
    Table {
        name: "link",
        references: &[
            ("source_statement_id", "statement"),
            ("target_statement_id", "statement"),
            ("target_article_id", "article"),
        ],
        versioned: true,
        key: &["id"],
    },
];

/// Whether a line is a record of the own format.
pub fn is_own_line(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| {
        v.get("type")
            .and_then(|t| t.as_str())
            .is_some_and(|t| TABLES.iter().any(|table| table.name == t))
    })
}

/// The stored (not derived) columns of a table, in table order.
async fn columns(conn: &mut PgConnection, table: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(conn)
    .await
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Statements of these speakers (slugs), and what they need.
    pub speakers: Vec<String>,
    /// Statements taking a stance on these claims (slugs), the claims, and what they need.
    pub claims: Vec<String>,
    /// Records changed on or after this day.
    pub since: Option<NaiveDate>,
}

impl Selection {
    fn is_everything(&self) -> bool {
        self.speakers.is_empty() && self.claims.is_empty() && self.since.is_none()
    }
}

/// The rows of `table` a selection takes, as a WHERE clause over `t` (`$1` speaker
/// slugs, `$2` claim slugs, `$3` since). A row that names a deleted record (the stance
/// of a deleted statement) is left out with it: an import would refuse it.
fn selected(table: &str, selection: &Selection) -> String {
    let references = TABLES
        .iter()
        .filter(|t| t.name == table)
        .flat_map(|t| t.references)
        .map(|(column, target)| {
            format!(
                " AND (t.{column} IS NULL OR EXISTS (SELECT 1 FROM {target} r \
                 WHERE r.id = t.{column} AND r.deleted_at IS NULL))"
            )
        })
        .collect::<String>();
    format!("({}){references}", chosen(table, selection))
}

fn chosen(table: &str, selection: &Selection) -> String {
    let live = |alias: &str| format!("{alias}.deleted_at IS NULL");
    if selection.is_everything() {
        return match table {
            "claim_topic" | "statement_topic" | "stance" => "true".into(),
            _ => live("t"),
        };
    }
    // The statements chosen, then everything they reach.
    let statements = "SELECT s.id FROM statement s WHERE s.deleted_at IS NULL \
        AND (cardinality($1::text[]) = 0 OR s.speaker_id IN (SELECT id FROM speaker WHERE slug = ANY($1))) \
        AND (cardinality($2::text[]) = 0 OR s.id IN (SELECT x.statement_id FROM stance x JOIN claim c ON c.id = x.claim_id WHERE c.slug = ANY($2))) \
        AND ($3::date IS NULL OR s.updated_at >= $3::date)";
    let claims = format!(
        "SELECT x.claim_id FROM stance x WHERE x.statement_id IN ({statements}) \
         UNION SELECT c.id FROM claim c WHERE c.slug = ANY($2) AND c.deleted_at IS NULL"
    );
    let verdicts = format!(
        "SELECT v.id FROM verdict v WHERE v.deleted_at IS NULL \
         AND (v.statement_id IN ({statements}) OR v.claim_id IN ({claims}))"
    );
    let articles = format!(
        "SELECT a.article_id FROM appearance a WHERE a.deleted_at IS NULL AND a.statement_id IN ({statements}) \
         UNION SELECT l.target_article_id FROM link l WHERE l.deleted_at IS NULL AND l.source_statement_id IN ({statements})"
    );
    let speakers = format!(
        "SELECT s.speaker_id FROM statement s WHERE s.id IN ({statements}) \
         UNION SELECT s.reported_by_id FROM statement s WHERE s.id IN ({statements})"
    );
    let topics = format!(
        "WITH RECURSIVE up(id) AS ( \
           SELECT topic_id FROM statement_topic WHERE statement_id IN ({statements}) \
           UNION SELECT topic_id FROM claim_topic WHERE claim_id IN ({claims}) \
           UNION SELECT t.parent_id FROM topic t JOIN up ON up.id = t.id WHERE t.parent_id IS NOT NULL) \
         SELECT id FROM up"
    );
    let rule = match table {
        "outlet" => format!(
            "t.id IN (SELECT outlet_id FROM article WHERE id IN ({articles})) \
             OR t.id IN (SELECT reviewer_id FROM verdict WHERE id IN ({verdicts}))"
        ),
        "speaker" => format!("t.id IN ({speakers})"),
        "speaker_role" => format!("t.speaker_id IN ({speakers})"),
        "topic" => format!("t.id IN ({topics})"),
        "claim" => format!("t.id IN ({claims})"),
        "claim_topic" => return format!("t.claim_id IN ({claims}) AND t.topic_id IN ({topics})"),
        "article" => format!("t.id IN ({articles})"),
        "statement" => format!("t.id IN ({statements})"),
        "statement_topic" => return format!("t.statement_id IN ({statements})"),
        "stance" => return format!("t.statement_id IN ({statements})"),
        "appearance" => format!("t.statement_id IN ({statements})"),
        "verdict" => format!("t.id IN ({verdicts})"),
        "link" => format!(
            "t.source_statement_id IN ({statements}) \
             AND (t.target_statement_id IS NULL OR t.target_statement_id IN ({statements}))"
        ),
        _ => "false".into(),
    };
    format!("{} AND ({rule})", live("t"))
}

/// Writes the selection as JSON Lines; returns the records written per table.
pub async fn export(
    pool: &sqlx::PgPool,
    selection: &Selection,
    out: &mut (dyn Write + Send),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<(String, u64)>, FileError> {
    let mut conn = pool.begin().await?;
    // One snapshot for the whole export.
    sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = 0")
        .execute(&mut *conn)
        .await?;
    let mut written = Vec::new();
    let mut total = 0;
    for table in TABLES {
        let cols = columns(&mut conn, table.name).await?;
        let list = cols
            .iter()
            .map(|c| format!("'{c}', t.{c}"))
            .collect::<Vec<_>>()
            .chunks(40)
            .map(|chunk| format!("jsonb_build_object({})", chunk.join(", ")))
            .collect::<Vec<_>>()
            .join(" || ");
        let order = table.key.join(", ");
        let sql = format!(
            "SELECT (jsonb_build_object('type', '{name}') || {list})::text FROM {name} t \
             WHERE {where_} ORDER BY {order}",
            name = table.name,
            where_ = selected(table.name, selection),
        );
        let mut rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .bind(&selection.speakers)
            .bind(&selection.claims)
            .bind(selection.since)
            .fetch(&mut *conn);
        let mut n = 0;
        while let Some(line) = rows.try_next().await? {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            n += 1;
            total += 1;
            if total % 10_000 == 0 {
                progress(total);
            }
        }
        written.push((table.name.to_owned(), n));
    }
    out.flush()?;
    progress(total);
    conn.commit().await?;
    Ok(written)
}

/// Imports a file of the own format in one transaction (rolled back for a dry run, as
/// `report` says).
pub async fn import(
    pool: &sqlx::PgPool,
    path: &Path,
    actor: Option<Uuid>,
    report: &mut FileReport,
) -> Result<(), FileError> {
    let text = std::fs::read(path)?;
    let text = std::str::from_utf8(&text).map_err(|e| {
        FileError::Own(format!(
            "not UTF-8: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })?;
    // Every line must be JSON; a truncated file fails here, before anything is written.
    let mut staged = String::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            FileError::Own(format!(
                "line {}, column {}: not JSON: {e}",
                i + 1,
                e.column()
            ))
        })?;
        report.read += 1;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        if !TABLES.iter().any(|t| t.name == kind) {
            report.refused += 1;
            report.refusals.push(Problem {
                line: Some(i as u64 + 1),
                pointer: Some("/type".into()),
                field: "type".into(),
                reason: format!("{kind:?} is not a kind of record ClaimTrack exports"),
            });
            continue;
        }
        staged.push_str(&(i + 1).to_string());
        staged.push('\t');
        for c in line.trim().chars() {
            match c {
                '\\' => staged.push_str("\\\\"),
                '\t' => staged.push_str("\\t"),
                '\r' => staged.push_str("\\r"),
                c => staged.push(c),
            }
        }
        staged.push('\n');
    }
    let mut txn = pool.begin().await?;
    sqlx::raw_sql(
        "SET LOCAL statement_timeout = 0; \
         SELECT pg_advisory_xact_lock(hashtextextended('claimtrack import', 0)); \
         CREATE TEMP TABLE import_record (line integer NOT NULL, doc jsonb NOT NULL) ON COMMIT DROP; \
         CREATE TEMP TABLE import_created (entity_type text NOT NULL, id uuid NOT NULL) ON COMMIT DROP; \
         CREATE TEMP TABLE import_updated (entity_type text NOT NULL, id uuid NOT NULL, before jsonb NOT NULL) \
           ON COMMIT DROP",
    )
    .execute(&mut *txn)
    .await?;
    if !staged.is_empty() {
        let mut copy = txn
            .copy_in_raw("COPY import_record (line, doc) FROM STDIN")
            .await?;
        copy.send(staged.as_bytes()).await?;
        copy.finish().await?;
    }
    sqlx::raw_sql("CREATE INDEX ON import_record ((doc->>'type')); ANALYZE import_record")
        .execute(&mut *txn)
        .await?;
    for table in TABLES {
        load(&mut txn, table, actor, report).await?;
    }
    // Statements and claims are recorded with their stances and topics, now in place.
    let statement = snapshot_sql("c");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, after) \
         SELECT uuid_v7(), 'statement', c.id, c.version, 'CREATE', $1, {statement} \
         FROM statement c JOIN import_created i ON i.id = c.id AND i.entity_type = 'statement'; \
         "
    )))
    .bind(actor)
    .execute(&mut *txn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, after) \
         SELECT uuid_v7(), 'claim', c.id, c.version, 'CREATE', $1, {} \
         FROM claim c JOIN import_created i ON i.id = c.id AND i.entity_type = 'claim'",
        claim_snapshot("c")
    )))
    .bind(actor)
    .execute(&mut *txn)
    .await?;
    for (name, after) in [("statement", statement), ("claim", claim_snapshot("c"))] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, before, after) \
             SELECT uuid_v7(), '{name}', c.id, c.version, 'UPDATE', $1, i.before, {after} \
             FROM {name} c JOIN import_updated i ON i.id = c.id AND i.entity_type = '{name}'"
        )))
        .bind(actor)
        .execute(&mut *txn)
        .await?;
    }
    super::import::finish(pool, txn, report).await
}

/// A claim's revision snapshot, for the claim row `alias`: the row with its topics.
fn claim_snapshot(alias: &str) -> String {
    format!(
        "to_jsonb({alias}) || jsonb_build_object('topic_ids', \
           (SELECT coalesce(jsonb_agg(t.topic_id ORDER BY t.topic_id), '[]') \
            FROM claim_topic t WHERE t.claim_id = {alias}.id))"
    )
}

/// Loads one table's records: new ones inserted, newer versions of existing ones
/// applied, records whose references are missing refused.
async fn load(
    txn: &mut PgConnection,
    table: &Table,
    actor: Option<Uuid>,
    report: &mut FileReport,
) -> Result<(), FileError> {
    let name = table.name;
    let cols = columns(&mut *txn, name).await?;
    let list = cols.join(", ");
    let values = cols
        .iter()
        .map(|c| format!("i.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let key_match = table
        .key
        .iter()
        .map(|k| format!("x.{k} = i.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let references = table
        .references
        .iter()
        .map(|(column, target)| {
            format!(
                "(i.{column} IS NULL OR EXISTS (SELECT 1 FROM {target} r WHERE r.id = i.{column}))"
            )
        })
        .collect::<Vec<_>>();
    let references_ok = if references.is_empty() {
        "true".to_owned()
    } else {
        references.join(" AND ")
    };
    let incoming = format!(
        "incoming AS (SELECT r.line, (jsonb_populate_record(NULL::{name}, r.doc)).* \
         FROM import_record r WHERE r.doc->>'type' = '{name}')"
    );
    let snapshot = "(to_jsonb(c) - 'search_doc' - 'search_config')";
    // The stances and topics of a statement or claim the file has a newer version of
    // are the file's: those it does not have as they are go, its own are loaded below.
    if !table.versioned
        && let Some((column, parent)) = table.references.first()
        && matches!(*parent, "statement" | "claim")
    {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {name} x USING import_updated u \
             WHERE u.entity_type = '{parent}' AND x.{column} = u.id \
               AND NOT EXISTS (SELECT 1 FROM import_record r WHERE r.doc->>'type' = '{name}' \
                 AND r.doc = to_jsonb(x) || jsonb_build_object('type', '{name}'))"
        )))
        .execute(&mut *txn)
        .await?;
    }
    let mut created_here = 0;
    let mut updated_here = 0;
    // A topic may name a parent later in the file: rounds until nothing more loads.
    loop {
        let created_revision = match name {
            "statement" | "claim" => format!(
                "INSERT INTO import_created (entity_type, id) SELECT '{name}', c.id FROM created c"
            ),
            _ if table.versioned => format!(
                "INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, after) \
                 SELECT uuid_v7(), '{name}', c.id, c.version, 'CREATE', $1, {snapshot} FROM created c"
            ),
            _ => "SELECT 1 FROM created".into(),
        };
        let sql = format!(
            "WITH {incoming}, \
             created AS (INSERT INTO {name} ({list}) SELECT {values} FROM incoming i \
               WHERE NOT EXISTS (SELECT 1 FROM {name} x WHERE {key_match}) AND {references_ok} \
               ON CONFLICT DO NOTHING RETURNING *) \
             {created_revision}"
        );
        let created = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(actor)
            .execute(&mut *txn)
            .await?
            .rows_affected();
        created_here += created;
        count(&mut report.records, name, created);
        if name != "topic" || created == 0 {
            break;
        }
    }
    if table.versioned {
        // Statements and claims are recorded once their stances and topics are in
        // place; their state before is taken now, with the stances and topics it had.
        let updated_revision = match name {
            "statement" | "claim" => format!(
                "INSERT INTO import_updated (entity_type, id, before) SELECT '{name}', o.id, {} \
                 FROM updated u JOIN old o ON o.id = u.id",
                if name == "statement" {
                    snapshot_sql("o")
                } else {
                    claim_snapshot("o")
                }
            ),
            _ => format!(
                "INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, before, after) \
                 SELECT uuid_v7(), '{name}', u.id, u.version, 'UPDATE', $1, \
                   to_jsonb(o) - 'search_doc' - 'search_config', to_jsonb(u) - 'search_doc' - 'search_config' \
                 FROM updated u JOIN old o ON o.id = u.id"
            ),
        };
        let set = cols
            .iter()
            .filter(|c| *c != "id")
            .map(|c| format!("{c} = i.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "WITH {incoming}, \
             old AS (SELECT x.* FROM {name} x JOIN incoming i ON i.id = x.id \
               WHERE i.version > x.version AND {references_ok} FOR UPDATE OF x), \
             updated AS (UPDATE {name} x SET {set} FROM incoming i \
               WHERE x.id = i.id AND x.id IN (SELECT id FROM old) RETURNING x.*) \
             {updated_revision}"
        );
        updated_here += sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(actor)
            .execute(&mut *txn)
            .await?
            .rows_affected();
    }
    // What is there now as the file has it (or newer) is unchanged; what could not
    // be placed is refused, with the reference at fault.
    let refusals = format!(
        "WITH {incoming} SELECT i.line, {} FROM incoming i \
         WHERE NOT EXISTS (SELECT 1 FROM {name} x WHERE {key_match})",
        if references.is_empty() {
            "NULL::text".to_owned()
        } else {
            format!(
                "CASE {} END",
                table
                    .references
                    .iter()
                    .map(|(column, target)| format!(
                        "WHEN i.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.id = i.{column}) \
                         THEN '{column}'"
                    ))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(refusals))
        .fetch_all(&mut *txn)
        .await?;
    for row in &rows {
        let line: i32 = row.try_get(0)?;
        let column: Option<String> = row.try_get(1)?;
        report.refused += 1;
        report.refusals.push(match column {
            Some(column) => Problem {
                line: Some(line as u64),
                pointer: Some(format!("/{column}")),
                field: column.clone(),
                reason: "names a record that is neither in the database nor in the file".into(),
            },
            None => Problem {
                line: Some(line as u64),
                pointer: None,
                field: "id".into(),
                reason: format!("another {name} already holds one of this record's unique values"),
            },
        });
    }
    let present: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "WITH {incoming} SELECT count(*) FROM incoming i WHERE EXISTS (SELECT 1 FROM {name} x WHERE {key_match})"
    )))
    .fetch_one(&mut *txn)
    .await?;
    // Present now: created, updated or unchanged.
    report.created += created_here;
    report.merged += updated_here;
    report.unchanged += (present as u64).saturating_sub(created_here + updated_here);
    Ok(())
}

fn count(records: &mut super::merge::Records, table: &str, n: u64) {
    match table {
        "speaker" => records.speakers += n,
        "outlet" => records.outlets += n,
        "article" => records.articles += n,
        "statement" => records.statements += n,
        "claim" => records.claims += n,
        "appearance" => records.appearances += n,
        "verdict" => records.verdicts_created += n,
        _ => {}
    }
}

/// Published verdicts with a review address, oldest first, from `$1` on.
fn feed_sql(limit: bool) -> String {
    let mut sql = claim_review_sql(
        "v.status = 'PUBLISHED' AND v.url IS NOT NULL AND (s.id IS NOT NULL OR c.id IS NOT NULL) \
         AND ($1::timestamptz IS NULL OR v.published_at >= $1)",
    );
    sql.push_str(" ORDER BY v.published_at, v.id");
    if limit {
        sql.push_str(" LIMIT $2 OFFSET $3");
    }
    sql
}

/// The head of a DataFeed; its items follow, then [`FEED_END`].
fn feed_start(now: DateTime<Utc>) -> String {
    format!(
        "{{\"@context\":\"https://schema.org\",\"@type\":\"DataFeed\",\"dateModified\":\"{}\",\"dataFeedElement\":[",
        now.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

const FEED_END: &str = "]}\n";

fn feed_item(review: &str, now: DateTime<Utc>) -> String {
    format!(
        "{{\"@type\":\"DataFeedItem\",\"dateCreated\":\"{}\",\"item\":[{review}]}}",
        now.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// Writes every published verdict (from `since` on) as one DataFeed, streaming.
pub async fn export_feed(
    pool: &sqlx::PgPool,
    since: Option<DateTime<Utc>>,
    out: &mut (dyn Write + Send),
) -> Result<u64, FileError> {
    let now = Utc::now();
    let mut conn = pool.acquire().await?;
    out.write_all(feed_start(now).as_bytes())?;
    let mut rows = sqlx::query_as::<_, (Uuid, String)>(sqlx::AssertSqlSafe(feed_sql(false)))
        .bind(since)
        .fetch(&mut *conn);
    let mut n = 0;
    while let Some((_, review)) = rows.try_next().await? {
        if n > 0 {
            out.write_all(b",")?;
        }
        out.write_all(feed_item(&review, now).as_bytes())?;
        n += 1;
    }
    out.write_all(FEED_END.as_bytes())?;
    out.flush()?;
    Ok(n)
}

/// Items per page of `GET /claimreview.json`.
pub const FEED_PAGE: i64 = 100;

/// One page of the feed (1-based), and whether another follows.
pub async fn feed_page(
    pool: &sqlx::PgPool,
    since: Option<DateTime<Utc>>,
    page: i64,
) -> Result<(String, bool), sqlx::Error> {
    let now = Utc::now();
    let reviews: Vec<(Uuid, String)> = sqlx::query_as(sqlx::AssertSqlSafe(feed_sql(true)))
        .bind(since)
        .bind(FEED_PAGE + 1)
        .bind((page - 1) * FEED_PAGE)
        .fetch_all(pool)
        .await?;
    let more = reviews.len() as i64 > FEED_PAGE;
    let mut body = feed_start(now);
    for (i, (_, review)) in reviews.iter().take(FEED_PAGE as usize).enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&feed_item(review, now));
    }
    body.push_str(FEED_END);
    Ok((body, more))
}
