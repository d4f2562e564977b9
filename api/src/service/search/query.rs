//! Reading a query: web-search syntax read once per text-search configuration in use,
//! word for word for claims, and its exclusions apart.

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use tracing::instrument;

use crate::error::{ApiError, ApiResult};

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// The query as one text-search configuration reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reading {
    pub(super) config: String,
    /// The same configuration by oid. The arms compare with this: an oid is a constant
    /// when the statement is planned (`$n::int8::oid` folds), so the scan takes the
    /// configuration's own index (each has one, migration `000011`), where a cast of
    /// a name to `regconfig` (a stable function) would only filter what it found.
    pub(super) oid: i64,
    pub(super) tsquery: String,
}

/// A query as every configuration reads it.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Readings for statements (only the filter language's, when it names one).
    pub(super) statements: Vec<Reading>,
    /// Readings for article headlines (every configuration).
    pub(super) articles: Vec<Reading>,
    /// The word-for-word reading, for claims.
    pub(super) simple: Option<String>,
    /// Per configuration, the query's exclusions read as alternatives (`a OR b`): a
    /// statement found through a claim or a headline must not contain them itself.
    pub(super) exclusions: Vec<(String, String)>,
}

impl Query {
    /// Whether the query looks for anything at all.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.articles.is_empty() && self.simple.is_none()
    }
}

#[derive(Debug, FromQueryResult)]
struct ReadingRow {
    config: String,
    config_oid: i64,
    tsquery: String,
    exclusions: Option<String>,
    /// Statements use this configuration.
    statements: bool,
    /// Article titles use it.
    articles: bool,
}

/// The excluded terms of a web-search query (`-word`, `-"a phrase"`), joined with OR.
pub(super) fn exclusions(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if c == '"' {
            // Skip a quoted phrase: a '-' inside it excludes nothing.
            for q in chars.by_ref() {
                if q == '"' {
                    break;
                }
            }
            at_start = false;
            continue;
        }
        if c == '-' && at_start {
            let mut term = String::new();
            if chars.peek() == Some(&'"') {
                term.push('"');
                chars.next();
                for q in chars.by_ref() {
                    term.push(q);
                    if q == '"' {
                        break;
                    }
                }
            } else {
                while let Some(q) = chars.next_if(|q| !q.is_whitespace()) {
                    term.push(q);
                }
            }
            if !term.is_empty() {
                out.push(term);
            }
            at_start = true;
            continue;
        }
        at_start = c.is_whitespace();
    }
    out.join(" OR ")
}

/// Reads `text` in every configuration in use (refusing one over [`MAX_QUERY_CHARS`]),
/// and word for word for claims. With a `language`, statements are searched in that
/// language's configuration only.
#[instrument(skip(db))]
pub async fn parse<C: ConnectionTrait>(
    db: &C,
    text: &str,
    language: Option<&str>,
) -> ApiResult<Query> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_input(
            "query",
            format!("is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    if text.trim().is_empty() {
        return Ok(Query::default());
    }
    // `querytree` is 'T' when nothing in the query can be looked up in an index (only
    // exclusions), empty when nothing is left (only stop words).
    let rows = ReadingRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT c.config::text AS config, c.config::oid::int8 AS config_oid, q::text AS tsquery, \
                CASE WHEN querytree(x) NOT IN ('', 'T') THEN x::text END AS exclusions, \
                c.statements, c.articles \
         FROM (SELECT config, bool_or(source = 'statement') AS statements, \
                      bool_or(source = 'article') AS articles \
               FROM (SELECT config, source FROM search_config_use \
                     UNION ALL SELECT 'simple'::regconfig, 'claim') used \
               GROUP BY config) c, \
              websearch_to_tsquery(c.config, $1) q, websearch_to_tsquery(c.config, $2) x \
         WHERE querytree(q) NOT IN ('', 'T') ORDER BY c.config::text",
        [Value::from(text.to_owned()), Value::from(exclusions(text))],
    ))
    .all(db)
    .await?;
    let reading = |row: &ReadingRow| Reading {
        config: row.config.clone(),
        oid: row.config_oid,
        tsquery: row.tsquery.clone(),
    };
    let articles = rows.iter().filter(|r| r.articles).map(reading).collect();
    let statements = match language {
        None => rows.iter().filter(|r| r.statements).map(reading).collect(),
        Some(language) => {
            let config = language_config(db, language).await?;
            rows.iter()
                .filter(|r| r.statements && r.config == config)
                .map(reading)
                .collect()
        }
    };
    let simple = rows
        .iter()
        .find(|r| r.config == "simple")
        .map(|r| r.tsquery.clone());
    let exclusions = rows
        .iter()
        .filter_map(|r| Some((r.config.clone(), r.exclusions.clone()?)))
        .collect();
    Ok(Query {
        statements,
        articles,
        simple,
        exclusions,
    })
}

/// The text-search configuration of a language tag.
async fn language_config<C: ConnectionTrait>(db: &C, language: &str) -> ApiResult<String> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT text_search_config($1)::text",
            [Value::from(language.to_owned())],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_else(|| "simple".into()))
}

#[cfg(test)]
mod tests {
    use super::exclusions;

    #[test]
    fn exclusions_are_the_dashed_terms_outside_phrases() {
        assert_eq!(
            exclusions("cyber -hacking -\"election day\" x"),
            "hacking OR \"election day\""
        );
        assert_eq!(exclusions("\"a -b\" co-operation -"), "");
        assert_eq!(exclusions("-a"), "a");
    }
}
