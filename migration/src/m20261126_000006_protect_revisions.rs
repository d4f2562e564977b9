//! The audit trail is append-only, enforced by PostgreSQL itself: a trigger refuses
//! every UPDATE, DELETE and TRUNCATE of `revision`, whatever role the connection has
//! (the application's included). Who made a change is looked up by key, so
//! `revision.actor_key_id` gets an index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION revision_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'revisions are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER revision_no_update_or_delete BEFORE UPDATE OR DELETE ON revision
    FOR EACH ROW EXECUTE FUNCTION revision_is_append_only();
CREATE TRIGGER revision_no_truncate BEFORE TRUNCATE ON revision
    FOR EACH STATEMENT EXECUTE FUNCTION revision_is_append_only();
CREATE INDEX revision_actor_key_idx ON revision (actor_key_id) WHERE actor_key_id IS NOT NULL;
"#;

const DOWN: &str = r#"
DROP INDEX IF EXISTS revision_actor_key_idx;
DROP TRIGGER IF EXISTS revision_no_truncate ON revision;
DROP TRIGGER IF EXISTS revision_no_update_or_delete ON revision;
DROP FUNCTION IF EXISTS revision_is_append_only();
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
