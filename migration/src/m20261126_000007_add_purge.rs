//! Hard deletes ("purges") for takedowns and erasure requests. A purge removes a
//! record's row and blanks the content of its revisions, so the text is gone from the
//! database, while the trail keeps that the record existed, who purged it, when and
//! why: a PURGE revision with its reason is appended, and every blanked revision keeps
//! its place, its action, its key and its time, with `redacted_at` set.
//!
//! The append-only trigger is narrowed for this one case, and only this case: an
//! UPDATE that blanks `before` and `after` and sets `redacted_at`, changing nothing
//! else, of a revision whose record no longer exists and has a PURGE revision.
//! Everything else (any other UPDATE, every DELETE and TRUNCATE) is still refused for
//! every role.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// `ALTER TYPE … ADD VALUE` may run in a transaction, but the new value cannot be used
// in that same transaction: below it is only compared as text, at run time.
const UP: &str = r#"
ALTER TYPE revision_action ADD VALUE IF NOT EXISTS 'PURGE';

ALTER TABLE revision
    ADD COLUMN reason text CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    ADD COLUMN redacted_at timestamptz;
ALTER TABLE revision DROP CONSTRAINT revision_check;
ALTER TABLE revision ADD CONSTRAINT revision_has_content
    CHECK (before IS NOT NULL OR after IS NOT NULL OR redacted_at IS NOT NULL OR action::text = 'PURGE');

CREATE OR REPLACE FUNCTION revision_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone boolean;
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
       AND NEW.before IS NULL AND NEW.after IS NULL
       AND OLD.action::text <> 'PURGE'
       AND (NEW.id, NEW.entity_type, NEW.entity_id, NEW.version, NEW.action, NEW.actor_key_id,
            NEW.created_at, NEW.updated_at, NEW.reason)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.entity_type, OLD.entity_id, OLD.version, OLD.action, OLD.actor_key_id,
            OLD.created_at, OLD.updated_at, OLD.reason)
       AND EXISTS (SELECT 1 FROM revision p
                   WHERE p.entity_id = OLD.entity_id AND p.action::text = 'PURGE')
    THEN
        EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I WHERE id = $1)', OLD.entity_type)
            INTO gone USING OLD.entity_id;
        IF gone THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'revisions are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"#;

const DOWN: &str = r#"
CREATE OR REPLACE FUNCTION revision_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'revisions are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
ALTER TABLE revision DROP CONSTRAINT IF EXISTS revision_has_content;
ALTER TABLE revision DROP COLUMN IF EXISTS redacted_at, DROP COLUMN IF EXISTS reason;
ALTER TABLE revision ADD CONSTRAINT revision_check CHECK (before IS NOT NULL OR after IS NOT NULL)
    NOT VALID;
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
