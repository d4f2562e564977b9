//! The whole data model: enums, tables, constraints and the indexes its queries use.
//!
//! Written as SQL rather than through the query builder: the model leans on PostgreSQL
//! features (enum types, generated columns, partial unique indexes, check constraints,
//! trigram and full-text GIN indexes) that read more plainly in the database's own words.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TYPE speaker_kind AS ENUM ('PERSON', 'ORGANIZATION', 'GROUP');
CREATE TYPE statement_kind AS ENUM ('QUOTE', 'PARAPHRASE');
CREATE TYPE date_precision AS ENUM ('DAY', 'MONTH', 'YEAR');
CREATE TYPE stance_kind AS ENUM ('SUPPORTS', 'OPPOSES', 'NEUTRAL', 'UNCLEAR');
CREATE TYPE verdict_status AS ENUM ('DRAFT', 'IN_REVIEW', 'PUBLISHED', 'RETRACTED');
CREATE TYPE link_relation AS ENUM ('FOLLOWS_UP', 'CORROBORATES', 'CONTRADICTS', 'UPDATES',
    'CORRECTS', 'RETRACTS', 'REPEATS', 'REAFFIRMS', 'SOFTENS', 'HARDENS', 'REVERSES',
    'CLARIFIES', 'DENIES_SAYING');
CREATE TYPE link_status AS ENUM ('SUGGESTED', 'CONFIRMED');
CREATE TYPE api_role AS ENUM ('READER', 'EDITOR', 'ADMIN');
CREATE TYPE revision_action AS ENUM ('CREATE', 'UPDATE', 'DELETE');

-- Shared checks, as domains so every table spells them once.
CREATE DOMAIN slug AS text
    CHECK (VALUE ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(VALUE) <= 100);
CREATE DOMAIN language_tag AS text
    CHECK (VALUE ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$');
CREATE DOMAIN web_url AS text
    CHECK (VALUE ~ '^https?://[^\s/]+' AND length(VALUE) <= 2048);

CREATE TABLE api_key (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    role         api_role NOT NULL,
    prefix       text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE speaker (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 300),
    slug        slug NOT NULL,
    kind        speaker_kind NOT NULL,
    description text CHECK (length(description) <= 5000),
    wikidata_id text CHECK (wikidata_id ~ '^Q[1-9][0-9]*$'),
    aliases     text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX speaker_slug_key ON speaker (slug) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX speaker_wikidata_id_key ON speaker (wikidata_id) WHERE deleted_at IS NULL;
CREATE INDEX speaker_name_id_idx ON speaker (name, id) WHERE deleted_at IS NULL;

CREATE TABLE speaker_role (
    id           uuid PRIMARY KEY,
    speaker_id   uuid NOT NULL REFERENCES speaker (id) ON DELETE CASCADE,
    title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 300),
    organization text CHECK (length(organization) <= 300),
    started_on   date,
    ended_on     date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at   timestamptz,
    CHECK (ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on)
);
CREATE INDEX speaker_role_speaker_idx ON speaker_role (speaker_id, started_on) WHERE deleted_at IS NULL;

CREATE TABLE outlet (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 300),
    slug       slug NOT NULL,
    homepage   web_url,
    country    text CHECK (country ~ '^[A-Z]{2}$'),
    language   language_tag,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at timestamptz
);
CREATE UNIQUE INDEX outlet_slug_key ON outlet (slug) WHERE deleted_at IS NULL;
CREATE INDEX outlet_name_id_idx ON outlet (name, id) WHERE deleted_at IS NULL;

CREATE TABLE article (
    id           uuid PRIMARY KEY,
    outlet_id    uuid NOT NULL REFERENCES outlet (id),
    url          web_url,
    title        text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 1000),
    published_at timestamptz,
    language     language_tag,
    byline       text CHECK (length(byline) <= 500),
    archive_url  web_url,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX article_url_key ON article (url) WHERE deleted_at IS NULL;
CREATE INDEX article_outlet_idx ON article (outlet_id, published_at, id) WHERE deleted_at IS NULL;
CREATE INDEX article_published_idx ON article (published_at, id) WHERE deleted_at IS NULL;

CREATE TABLE topic (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    slug       slug NOT NULL,
    parent_id  uuid REFERENCES topic (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at timestamptz,
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX topic_slug_key ON topic (slug) WHERE deleted_at IS NULL;
CREATE INDEX topic_name_id_idx ON topic (name, id) WHERE deleted_at IS NULL;

CREATE TABLE claim (
    id         uuid PRIMARY KEY,
    text       text NOT NULL CHECK (length(btrim(text)) BETWEEN 1 AND 2000),
    slug       slug,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at timestamptz
);
CREATE UNIQUE INDEX claim_slug_key ON claim (slug) WHERE deleted_at IS NULL;
CREATE INDEX claim_created_idx ON claim (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE claim_topic (
    claim_id   uuid NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
    topic_id   uuid NOT NULL REFERENCES topic (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (claim_id, topic_id)
);
CREATE INDEX claim_topic_topic_idx ON claim_topic (topic_id, claim_id);

CREATE TABLE statement (
    id                        uuid PRIMARY KEY,
    speaker_id                uuid NOT NULL REFERENCES speaker (id),
    text                      text NOT NULL CHECK (length(btrim(text)) BETWEEN 1 AND 10000),
    kind                      statement_kind NOT NULL,
    stated_on                 date NOT NULL,
    stated_on_precision       date_precision NOT NULL DEFAULT 'DAY',
    stated_time               time,
    stated_utc_offset_minutes smallint CHECK (stated_utc_offset_minutes BETWEEN -1080 AND 1080),
    venue                     text CHECK (length(venue) <= 1000),
    context                   text CHECK (length(context) <= 5000),
    language                  language_tag NOT NULL,
    reported_by_id            uuid REFERENCES speaker (id),
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    version                   integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at                timestamptz,
    CHECK (reported_by_id IS DISTINCT FROM speaker_id),
    -- An imprecise date is the start of its period.
    CHECK (stated_on_precision = 'DAY' OR extract(day FROM stated_on) = 1),
    CHECK (stated_on_precision <> 'YEAR' OR extract(month FROM stated_on) = 1),
    -- A time of day needs a day, and comes with its UTC offset.
    CHECK (stated_time IS NULL OR stated_on_precision = 'DAY'),
    CHECK ((stated_time IS NULL) = (stated_utc_offset_minutes IS NULL))
);
CREATE INDEX statement_speaker_stated_idx ON statement (speaker_id, stated_on, id) WHERE deleted_at IS NULL;
CREATE INDEX statement_stated_idx ON statement (stated_on, id) WHERE deleted_at IS NULL;
CREATE INDEX statement_reported_by_idx ON statement (reported_by_id) WHERE reported_by_id IS NOT NULL;
CREATE INDEX statement_text_fts_idx ON statement USING gin (to_tsvector('simple', text));
CREATE INDEX statement_text_trgm_idx ON statement USING gin (text gin_trgm_ops);

CREATE TABLE statement_topic (
    statement_id uuid NOT NULL REFERENCES statement (id) ON DELETE CASCADE,
    topic_id     uuid NOT NULL REFERENCES topic (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (statement_id, topic_id)
);
CREATE INDEX statement_topic_topic_idx ON statement_topic (topic_id, statement_id);

CREATE TABLE stance (
    id           uuid PRIMARY KEY,
    statement_id uuid NOT NULL REFERENCES statement (id) ON DELETE CASCADE,
    claim_id     uuid NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
    stance       stance_kind NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (statement_id, claim_id)
);
CREATE INDEX stance_claim_idx ON stance (claim_id, statement_id);

CREATE TABLE appearance (
    id           uuid PRIMARY KEY,
    statement_id uuid NOT NULL REFERENCES statement (id) ON DELETE CASCADE,
    article_id   uuid NOT NULL REFERENCES article (id) ON DELETE CASCADE,
    first        boolean NOT NULL DEFAULT false,
    excerpt      text CHECK (length(excerpt) <= 10000),
    char_offset  integer CHECK (char_offset >= 0),
    timecode_ms  bigint CHECK (timecode_ms >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX appearance_statement_article_key ON appearance (statement_id, article_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX appearance_first_key ON appearance (statement_id) WHERE first AND deleted_at IS NULL;
CREATE INDEX appearance_article_idx ON appearance (article_id) WHERE deleted_at IS NULL;

CREATE TABLE verdict (
    id           uuid PRIMARY KEY,
    statement_id uuid REFERENCES statement (id),
    claim_id     uuid REFERENCES claim (id),
    reviewer_id  uuid NOT NULL REFERENCES outlet (id),
    rating_label text NOT NULL CHECK (length(btrim(rating_label)) BETWEEN 1 AND 200),
    rating_value double precision,
    best_rating  double precision,
    worst_rating double precision,
    score        double precision GENERATED ALWAYS AS (
        CASE WHEN rating_value IS NOT NULL AND best_rating IS NOT NULL
                  AND worst_rating IS NOT NULL AND best_rating <> worst_rating
             THEN (rating_value - worst_rating) / (best_rating - worst_rating) END
    ) STORED,
    summary      text CHECK (length(summary) <= 10000),
    url          web_url,
    published_at timestamptz,
    status       verdict_status NOT NULL DEFAULT 'DRAFT',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at   timestamptz,
    CHECK (num_nonnulls(statement_id, claim_id) = 1),
    -- A value needs its scale, and lies on it.
    CHECK (rating_value IS NULL OR (best_rating IS NOT NULL AND worst_rating IS NOT NULL)),
    CHECK (best_rating IS NULL OR worst_rating IS NULL OR best_rating <> worst_rating),
    CHECK (rating_value IS NULL
           OR rating_value BETWEEN least(best_rating, worst_rating) AND greatest(best_rating, worst_rating)),
    CHECK (status <> 'PUBLISHED' OR published_at IS NOT NULL)
);
CREATE INDEX verdict_statement_idx ON verdict (statement_id) WHERE deleted_at IS NULL;
CREATE INDEX verdict_claim_idx ON verdict (claim_id) WHERE deleted_at IS NULL;
CREATE INDEX verdict_reviewer_idx ON verdict (reviewer_id, published_at) WHERE deleted_at IS NULL;

CREATE TABLE link (
    id                  uuid PRIMARY KEY,
    source_statement_id uuid NOT NULL REFERENCES statement (id) ON DELETE CASCADE,
    target_statement_id uuid REFERENCES statement (id) ON DELETE CASCADE,
    target_article_id   uuid REFERENCES article (id) ON DELETE CASCADE,
    relation            link_relation NOT NULL,
    note                text CHECK (length(note) <= 5000),
    status              link_status NOT NULL DEFAULT 'CONFIRMED',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    deleted_at          timestamptz,
    CHECK (num_nonnulls(target_statement_id, target_article_id) = 1),
    CHECK (target_statement_id IS DISTINCT FROM source_statement_id)
);
CREATE UNIQUE INDEX link_statement_key ON link (source_statement_id, target_statement_id, relation)
    WHERE deleted_at IS NULL AND target_statement_id IS NOT NULL;
CREATE UNIQUE INDEX link_article_key ON link (source_statement_id, target_article_id, relation)
    WHERE deleted_at IS NULL AND target_article_id IS NOT NULL;
CREATE INDEX link_target_statement_idx ON link (target_statement_id) WHERE deleted_at IS NULL;
CREATE INDEX link_target_article_idx ON link (target_article_id) WHERE deleted_at IS NULL;

CREATE TABLE revision (
    id           uuid PRIMARY KEY,
    entity_type  text NOT NULL,
    entity_id    uuid NOT NULL,
    version      integer NOT NULL,
    action       revision_action NOT NULL,
    actor_key_id uuid REFERENCES api_key (id),
    before       jsonb,
    after        jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entity_id, version),
    CHECK (before IS NOT NULL OR after IS NOT NULL)
);
CREATE INDEX revision_created_idx ON revision (created_at, id);
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS revision, link, verdict, appearance, stance, statement_topic, statement,
    claim_topic, claim, topic, article, outlet, speaker_role, speaker, api_key;
DROP DOMAIN IF EXISTS slug, language_tag, web_url;
DROP TYPE IF EXISTS speaker_kind, statement_kind, date_precision, stance_kind, verdict_status,
    link_relation, link_status, api_role, revision_action;
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
