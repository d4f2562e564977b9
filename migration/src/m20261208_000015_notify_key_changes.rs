//! Key changes are announced: every instance LISTENs on `claimtrack_keys` and reloads
//! its keys when one is made, revoked or purged, so a revoked key stops working on
//! every instance at once rather than at each one's next reload. Use times
//! (`last_used_at`) change nothing a verifier reads and are not announced.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION claimtrack_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('claimtrack_keys', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER api_key_changed
    AFTER INSERT OR DELETE OR UPDATE OF name, role, prefix, secret_hash, revoked_at ON api_key
    FOR EACH STATEMENT EXECUTE FUNCTION claimtrack_keys_changed();
CREATE TRIGGER api_key_truncated
    AFTER TRUNCATE ON api_key
    FOR EACH STATEMENT EXECUTE FUNCTION claimtrack_keys_changed();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS api_key_truncated ON api_key;
DROP TRIGGER IF EXISTS api_key_changed ON api_key;
DROP FUNCTION IF EXISTS claimtrack_keys_changed();
"#;

sql_migration!(UP, DOWN);
