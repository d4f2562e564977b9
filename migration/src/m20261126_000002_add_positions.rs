//! What positions over time need: the instant a statement was made (for same-day
//! ties), a DISMISSED link status (a dismissed suggestion is never proposed again),
//! and indexes for position histories, timelines and suggestions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// `ALTER TYPE … ADD VALUE` may run in a transaction, but the new value cannot be used
// in that same transaction: nothing below mentions DISMISSED.
const UP: &str = r#"
ALTER TYPE link_status ADD VALUE IF NOT EXISTS 'DISMISSED';

-- UTC instant of a statement whose time of day is known.
ALTER TABLE statement ADD COLUMN stated_at_utc timestamp
    GENERATED ALWAYS AS (stated_on + stated_time - make_interval(mins => stated_utc_offset_minutes)) STORED;

-- Position order: date, then time of day when known, then creation (uuid v7).
CREATE INDEX statement_speaker_position_idx ON statement (speaker_id, stated_on, stated_at_utc, id)
    WHERE deleted_at IS NULL;
CREATE INDEX stance_statement_idx ON stance (statement_id, claim_id, stance);
CREATE INDEX verdict_published_idx ON verdict (published_at, id)
    WHERE status = 'PUBLISHED' AND deleted_at IS NULL;
CREATE INDEX link_source_idx ON link (source_statement_id) WHERE deleted_at IS NULL;
CREATE INDEX link_suggested_idx ON link (id) WHERE status = 'SUGGESTED' AND deleted_at IS NULL;
"#;

// PostgreSQL cannot drop an enum value; links marked DISMISSED become SUGGESTED again.
const DOWN: &str = r#"
DROP INDEX IF EXISTS link_suggested_idx, link_source_idx, verdict_published_idx, stance_statement_idx,
    statement_speaker_position_idx;
ALTER TABLE statement DROP COLUMN IF EXISTS stated_at_utc;
UPDATE link SET status = 'SUGGESTED' WHERE status::text = 'DISMISSED';
ALTER TYPE link_status RENAME TO link_status_old;
CREATE TYPE link_status AS ENUM ('SUGGESTED', 'CONFIRMED');
ALTER TABLE link ALTER COLUMN status DROP DEFAULT;
ALTER TABLE link ALTER COLUMN status TYPE link_status USING status::text::link_status;
ALTER TABLE link ALTER COLUMN status SET DEFAULT 'CONFIRMED';
DROP TYPE link_status_old;
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
