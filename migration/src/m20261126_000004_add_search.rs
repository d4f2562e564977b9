//! Full-text search in each row's own language, and what similarity search reads.
//!
//! `text_search_config(language)` maps a language tag (`en`, `pt-BR`) to the PostgreSQL
//! text-search configuration of its primary subtag, `simple` (no stemming, no stop
//! words) when PostgreSQL has none. It is IMMUTABLE (its body is parsed once, the
//! configurations bound by OID), so stored generated columns and indexes can use it.
//!
//! Statements get `search_config` and a weighted `search_doc` (text A, venue B, context
//! C); article titles get the same in the article's language; claims, which carry no
//! language, are indexed word for word (`simple`). Each document has a GIN index over
//! live rows. Similarity search uses the trigram index on `statement.text` that the
//! first migration made.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION text_search_config(language text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE split_part(lower(coalesce(language, '')), '-', 1)
    WHEN 'ar' THEN 'arabic'::regconfig
    WHEN 'hy' THEN 'armenian'::regconfig
    WHEN 'eu' THEN 'basque'::regconfig
    WHEN 'ca' THEN 'catalan'::regconfig
    WHEN 'da' THEN 'danish'::regconfig
    WHEN 'nl' THEN 'dutch'::regconfig
    WHEN 'en' THEN 'english'::regconfig
    WHEN 'fi' THEN 'finnish'::regconfig
    WHEN 'fr' THEN 'french'::regconfig
    WHEN 'de' THEN 'german'::regconfig
    WHEN 'el' THEN 'greek'::regconfig
    WHEN 'hi' THEN 'hindi'::regconfig
    WHEN 'hu' THEN 'hungarian'::regconfig
    WHEN 'id' THEN 'indonesian'::regconfig
    WHEN 'ga' THEN 'irish'::regconfig
    WHEN 'it' THEN 'italian'::regconfig
    WHEN 'lt' THEN 'lithuanian'::regconfig
    WHEN 'ne' THEN 'nepali'::regconfig
    WHEN 'no' THEN 'norwegian'::regconfig
    WHEN 'nb' THEN 'norwegian'::regconfig
    WHEN 'nn' THEN 'norwegian'::regconfig
    WHEN 'pt' THEN 'portuguese'::regconfig
    WHEN 'ro' THEN 'romanian'::regconfig
    WHEN 'ru' THEN 'russian'::regconfig
    WHEN 'sr' THEN 'serbian'::regconfig
    WHEN 'es' THEN 'spanish'::regconfig
    WHEN 'sv' THEN 'swedish'::regconfig
    WHEN 'ta' THEN 'tamil'::regconfig
    WHEN 'tr' THEN 'turkish'::regconfig
    WHEN 'yi' THEN 'yiddish'::regconfig
    ELSE 'simple'::regconfig
END;

ALTER TABLE statement
    ADD COLUMN search_config regconfig GENERATED ALWAYS AS (text_search_config(language)) STORED,
    ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(text_search_config(language), text), 'A')
        || setweight(to_tsvector(text_search_config(language), coalesce(venue, '')), 'B')
        || setweight(to_tsvector(text_search_config(language), coalesce(context, '')), 'C')
    ) STORED;
CREATE INDEX statement_search_idx ON statement USING gin (search_doc) WHERE deleted_at IS NULL;

ALTER TABLE article
    ADD COLUMN search_config regconfig GENERATED ALWAYS AS (text_search_config(language)) STORED,
    ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (
        to_tsvector(text_search_config(language), title)
    ) STORED;
CREATE INDEX article_search_idx ON article USING gin (search_doc) WHERE deleted_at IS NULL;

ALTER TABLE claim
    ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED;
CREATE INDEX claim_search_idx ON claim USING gin (search_doc) WHERE deleted_at IS NULL;
"#;

const DOWN: &str = r#"
DROP INDEX IF EXISTS claim_search_idx, article_search_idx, statement_search_idx;
ALTER TABLE claim DROP COLUMN IF EXISTS search_doc;
ALTER TABLE article DROP COLUMN IF EXISTS search_doc, DROP COLUMN IF EXISTS search_config;
ALTER TABLE statement DROP COLUMN IF EXISTS search_doc, DROP COLUMN IF EXISTS search_config;
DROP FUNCTION IF EXISTS text_search_config(text);
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
