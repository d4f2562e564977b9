//! Appearances by article, with their statement: the index a search reads to go from
//! the articles whose headline matches to the statements they reported. With the
//! statement in the index, that is an index-only scan; keyed on the article alone, each
//! of the thousands of appearances behind a common headline word was a table read.
//! The new index replaces the old one (its first column is the old key).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE INDEX appearance_article_statement_idx ON appearance (article_id, statement_id)
    WHERE deleted_at IS NULL;
DROP INDEX appearance_article_idx;
"#;

const DOWN: &str = r#"
CREATE INDEX appearance_article_idx ON appearance (article_id) WHERE deleted_at IS NULL;
DROP INDEX IF EXISTS appearance_article_statement_idx;
"#;

sql_migration!(UP, DOWN);
