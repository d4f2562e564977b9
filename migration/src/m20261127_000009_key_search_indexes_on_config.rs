//! Statements' and article titles' text-search indexes key on the text-search
//! configuration too. A search reads its query once per configuration and meets each
//! reading only with rows of its own configurations; with the configuration outside
//! the index, a reading that also matched rows of other languages (a German `'syst'`
//! is found in English and French rows alike) fetched every one of them from the table
//! only to drop it. `btree_gin` lets one GIN index hold both keys.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX statement_config_search_idx ON statement
    USING gin ((search_config::oid), search_doc) WHERE deleted_at IS NULL;
DROP INDEX statement_search_idx;
CREATE INDEX article_config_search_idx ON article
    USING gin ((search_config::oid), search_doc) WHERE deleted_at IS NULL;
DROP INDEX article_search_idx;
"#;

const DOWN: &str = r#"
CREATE INDEX IF NOT EXISTS statement_search_idx ON statement USING gin (search_doc) WHERE deleted_at IS NULL;
DROP INDEX IF EXISTS statement_config_search_idx;
CREATE INDEX IF NOT EXISTS article_search_idx ON article USING gin (search_doc) WHERE deleted_at IS NULL;
DROP INDEX IF EXISTS article_config_search_idx;
"#;

sql_migration!(UP, DOWN);
