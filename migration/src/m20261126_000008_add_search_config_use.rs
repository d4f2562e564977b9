//! The text-search configurations in use: a search reads its query once per
//! configuration and scans the index once per distinct reading, so it should read it
//! only in the configurations that statements and article titles actually use (a
//! handful), not in all 29. Statement-level triggers keep the list as rows arrive; a
//! configuration once used stays listed (an extra reading costs one empty index scan).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE search_config_use (
    config regconfig NOT NULL,
    source text NOT NULL CHECK (source IN ('statement', 'article')),
    PRIMARY KEY (config, source)
);
INSERT INTO search_config_use
    SELECT DISTINCT search_config, 'statement' FROM statement WHERE search_config IS NOT NULL
    UNION
    SELECT DISTINCT search_config, 'article' FROM article WHERE search_config IS NOT NULL;

CREATE FUNCTION note_search_config_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_config_use (config, source)
        SELECT DISTINCT search_config, TG_TABLE_NAME FROM changed WHERE search_config IS NOT NULL
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER statement_search_config_insert AFTER INSERT ON statement
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_search_config_use();
CREATE TRIGGER statement_search_config_update AFTER UPDATE ON statement
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_search_config_use();
CREATE TRIGGER article_search_config_insert AFTER INSERT ON article
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_search_config_use();
CREATE TRIGGER article_search_config_update AFTER UPDATE ON article
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_search_config_use();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS article_search_config_update ON article;
DROP TRIGGER IF EXISTS article_search_config_insert ON article;
DROP TRIGGER IF EXISTS statement_search_config_update ON statement;
DROP TRIGGER IF EXISTS statement_search_config_insert ON statement;
DROP FUNCTION IF EXISTS note_search_config_use();
DROP TABLE IF EXISTS search_config_use;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
