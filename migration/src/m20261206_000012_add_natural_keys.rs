//! Natural keys, so that data brought in from outside merges with what is there instead
//! of repeating it: a statement is known by its speaker, its date and its text, a claim
//! by its text, a verdict by its review's address.
//!
//! `text_key` is the one definition of "the same text": Unicode NFKC, lower case, runs
//! of white space as one space, no space at either end. So `Taxes  went UP.` and
//! `taxes went up.` are one statement; punctuation and wording still count.
//!
//! `import_fingerprint` remembers the rows imports brought in, so that running the
//! same import again skips them without merging them again.
//!
//! `uuid_v7()` makes time-ordered ids in SQL, for records written by set-based
//! statements (the revisions of an import).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- The two steps skip the work where it would change nothing (ASCII is its own NFKC;
-- text without a run of white space or any but the space has nothing to collapse),
-- which makes the key of a typical statement three times cheaper to compute.
CREATE FUNCTION text_key_nfkc(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN value ~ '[^\x01-\x7f]' THEN normalize(value, NFKC) ELSE value END;

CREATE FUNCTION text_key_spaces(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN value ~ '\s\s' OR translate(value, ' ', '') ~ '\s'
            THEN regexp_replace(value, '\s+', ' ', 'g') ELSE value END;

CREATE FUNCTION text_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN btrim(lower(text_key_spaces(text_key_nfkc(value))));

CREATE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
RETURN encode(
    set_bit(set_bit(
        overlay(uuid_send(gen_random_uuid())
                PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                FROM 1 FOR 6),
        52, 1), 53, 1),
    'hex')::uuid;

CREATE INDEX statement_natural_key_idx ON statement (speaker_id, stated_on, text_key(text))
    WHERE deleted_at IS NULL;
CREATE INDEX claim_text_key_idx ON claim (text_key(text)) WHERE deleted_at IS NULL;
CREATE INDEX verdict_url_idx ON verdict (url) WHERE deleted_at IS NULL AND url IS NOT NULL;
-- What an import already brought in, by the fingerprint (SHA-256) of each row as read:
-- a row seen before whose records are all still live is skipped without merging again.
CREATE TABLE import_fingerprint (
    fingerprint  bytea PRIMARY KEY CHECK (length(fingerprint) = 32),
    statement_id uuid REFERENCES statement (id) ON DELETE CASCADE,
    claim_id     uuid REFERENCES claim (id) ON DELETE CASCADE,
    verdict_id   uuid REFERENCES verdict (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(statement_id, claim_id) = 1)
);
CREATE INDEX import_fingerprint_statement_idx ON import_fingerprint (statement_id);
CREATE INDEX import_fingerprint_claim_idx ON import_fingerprint (claim_id);
CREATE INDEX import_fingerprint_verdict_idx ON import_fingerprint (verdict_id);
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS import_fingerprint;
DROP INDEX IF EXISTS verdict_url_idx, claim_text_key_idx,
    statement_natural_key_idx;
DROP FUNCTION IF EXISTS uuid_v7(), text_key(text), text_key_spaces(text),
    text_key_nfkc(text);
"#;

sql_migration!(UP, DOWN);
