//! Highlights: each hit's text, HTML-escaped, with the query's words marked.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use uuid::Uuid;

use super::paging::Hit;
use super::query::Query;
use crate::error::ApiResult;

#[derive(Debug, FromQueryResult)]
struct HighlightRow {
    id: Uuid,
    highlight: String,
}

/// Fills in the highlights of a page's hits: each text HTML-escaped, its matched words
/// in `<mark>…</mark>`, cut to the best fragments; a hit matched only through a claim
/// or a headline shows its first words.
pub(super) async fn highlight<C: ConnectionTrait>(
    db: &C,
    query: &Query,
    hits: &mut [Hit],
) -> ApiResult<()> {
    if hits.is_empty() {
        return Ok(());
    }
    let (configs, queries): (Vec<String>, Vec<String>) = query
        .statements
        .iter()
        .map(|r| (r.config.clone(), r.tsquery.clone()))
        .unzip();
    let ids: Vec<Uuid> = hits.iter().map(|h| h.statement.id).collect();
    let rows = HighlightRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        r#"SELECT s.id, CASE
             WHEN r.q IS NOT NULL AND to_tsvector(s.search_config, s.text) @@ r.q
             THEN ts_headline(s.search_config, e.text, r.q,
                  'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "')
             ELSE coalesce(substring(e.text FROM '^\s*(\S+(\s+\S+){0,34})'), '')
                  || CASE WHEN e.text ~ '^\s*\S+(\s+\S+){35}' THEN ' …' ELSE '' END
           END AS highlight
           FROM statement s
           CROSS JOIN LATERAL (SELECT replace(replace(replace(s.text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;') AS text) e
           LEFT JOIN (SELECT unnest($1::text[])::regconfig AS c, unnest($2::text[])::tsquery AS q) r
                  ON r.c = s.search_config
           WHERE s.id = ANY($3)"#,
        [
            Value::from(configs),
            Value::from(queries),
            Value::from(ids),
        ],
    ))
    .all(db)
    .await?;
    let by_id: BTreeMap<Uuid, String> = rows.into_iter().map(|r| (r.id, r.highlight)).collect();
    for hit in hits {
        if let Some(h) = by_id.get(&hit.statement.id) {
            hit.highlight = h.clone();
        }
    }
    Ok(())
}
