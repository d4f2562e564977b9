//! Locality-sensitive hashing of statements' text, so that similar statements are
//! found without comparing a statement with every one that shares a trigram.
//!
//! The trigram index answers `text % query` by merging the posting lists of all the
//! query's trigrams; in a large collection the common ones (`" th"`, `"the"`, `"ion"`)
//! are in most rows, and one similarity search reads hundreds of thousands of
//! entries. Here each statement's text gets a MinHash signature over the same
//! trigrams pg_trgm compares (`show_trgm`), so two statements agree on a signature
//! position with a probability equal to their trigram similarity (Jaccard, which is
//! what `similarity()` computes). The signature is cut into bands; a band is one
//! `bigint`, and `statement_text_band` lists every live statement under each of its
//! bands. Statements sharing a band with the query are the candidates, the more bands
//! the likelier similar, and `similarity()` re-ranks the best of them exactly.
//!
//! `statement_text_bands`: one-permutation MinHash (each trigram hashed once into one
//! of 80 buckets, the smallest hash kept per bucket; an empty bucket borrows from the
//! next filled one, rotated), then 20 bands of 4 buckets. A pair at similarity s
//! shares at least one band with probability 1 - (1 - s^4)^20: 0.73 at 0.5, 0.94 at
//! 0.6, 0.996 at 0.7, above 0.9999 at 0.8.
//!
//! Statement-level triggers keep the table to the live statements' current text:
//! bands arrive with a row, move when its text changes, and leave when it is deleted
//! or purged.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION statement_text_bands(doc text) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    buckets constant int := 80;
    rows_per_band constant int := 4;
    mins bigint[] := array_fill(NULL::bigint, ARRAY[80]);
    trigram text;
    h bigint;
    b int;
    j int;
    filled int := 0;
    bands bigint[] := '{}';
BEGIN
    FOREACH trigram IN ARRAY show_trgm(doc) LOOP
        h := hashtextextended(trigram, 0);
        b := (h & 1048575)::int % buckets + 1;
        IF mins[b] IS NULL THEN
            filled := filled + 1;
            mins[b] := h;
        ELSIF h < mins[b] THEN
            mins[b] := h;
        END IF;
    END LOOP;
    IF filled = 0 THEN
        RETURN bands;
    END IF;
    IF filled < buckets THEN
        FOR b IN 1..buckets LOOP
            IF mins[b] IS NULL THEN
                j := b;
                WHILE mins[(j - 1) % buckets + 1] IS NULL LOOP
                    j := j + 1;
                END LOOP;
                mins[b] := hashint8extended(mins[(j - 1) % buckets + 1], j - b);
            END IF;
        END LOOP;
    END IF;
    FOR b IN 0..buckets / rows_per_band - 1 LOOP
        bands := bands || hashtextextended(
            array_to_string(mins[b * rows_per_band + 1 : (b + 1) * rows_per_band], ','), b);
    END LOOP;
    RETURN bands;
END
$$;

CREATE TABLE statement_text_band (
    band bigint NOT NULL,
    statement_id uuid NOT NULL
);
INSERT INTO statement_text_band (band, statement_id)
    SELECT DISTINCT b.band, s.id
    FROM statement s, unnest(statement_text_bands(s.text)) AS b(band)
    WHERE s.deleted_at IS NULL;
ALTER TABLE statement_text_band ADD PRIMARY KEY (band, statement_id);

CREATE FUNCTION add_statement_text_bands() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO statement_text_band (band, statement_id)
        SELECT DISTINCT b.band, n.id
        FROM changed n, unnest(statement_text_bands(n.text)) AS b(band)
        WHERE n.deleted_at IS NULL
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION move_statement_text_bands() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM statement_text_band t
        USING before_rows o
        JOIN after_rows n ON n.id = o.id
        CROSS JOIN unnest(statement_text_bands(o.text)) AS b(band)
        WHERE o.deleted_at IS NULL
          AND (n.deleted_at IS NOT NULL OR n.text IS DISTINCT FROM o.text)
          AND t.band = b.band AND t.statement_id = o.id;
    INSERT INTO statement_text_band (band, statement_id)
        SELECT DISTINCT b.band, n.id
        FROM after_rows n
        JOIN before_rows o ON o.id = n.id
        CROSS JOIN unnest(statement_text_bands(n.text)) AS b(band)
        WHERE n.deleted_at IS NULL
          AND (o.deleted_at IS NOT NULL OR n.text IS DISTINCT FROM o.text)
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION drop_statement_text_bands() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM statement_text_band t
        USING before_rows o
        CROSS JOIN unnest(statement_text_bands(o.text)) AS b(band)
        WHERE o.deleted_at IS NULL AND t.band = b.band AND t.statement_id = o.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER statement_text_bands_insert AFTER INSERT ON statement
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION add_statement_text_bands();
CREATE TRIGGER statement_text_bands_update AFTER UPDATE ON statement
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION move_statement_text_bands();
CREATE TRIGGER statement_text_bands_delete AFTER DELETE ON statement
    REFERENCING OLD TABLE AS before_rows FOR EACH STATEMENT EXECUTE FUNCTION drop_statement_text_bands();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS statement_text_bands_delete ON statement;
DROP TRIGGER IF EXISTS statement_text_bands_update ON statement;
DROP TRIGGER IF EXISTS statement_text_bands_insert ON statement;
DROP FUNCTION IF EXISTS drop_statement_text_bands();
DROP FUNCTION IF EXISTS move_statement_text_bands();
DROP FUNCTION IF EXISTS add_statement_text_bands();
DROP TABLE IF EXISTS statement_text_band;
DROP FUNCTION IF EXISTS statement_text_bands(text);
"#;

sql_migration!(UP, DOWN);
