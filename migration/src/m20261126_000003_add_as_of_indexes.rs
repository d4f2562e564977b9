//! Indexes that let "as of" queries rebuild records from the revisions without
//! scanning them all: the revisions of one record by time, and statement revisions by
//! speaker and by the claims their stances name; records by slug.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE INDEX revision_entity_time_idx ON revision (entity_id, created_at DESC, version DESC);
CREATE INDEX revision_slug_idx ON revision (entity_type, (after->>'slug')) WHERE after ? 'slug';
CREATE INDEX revision_statement_speaker_idx ON revision ((after->>'speaker_id'), created_at)
    WHERE entity_type = 'statement';
CREATE INDEX revision_statement_stances_idx ON revision USING gin ((after->'stances') jsonb_path_ops)
    WHERE entity_type = 'statement';
CREATE INDEX revision_type_time_idx ON revision (entity_type, created_at);
"#;

const DOWN: &str = r#"
DROP INDEX IF EXISTS revision_entity_time_idx, revision_slug_idx, revision_statement_speaker_idx,
    revision_statement_stances_idx, revision_type_time_idx;
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
