//! The event log (a transactional outbox), watchlists and webhooks.
//!
//! Every change writes a `revision` row in its own transaction; a statement-level
//! trigger on `revision` turns the revisions that matter into `event` rows in that same
//! transaction, so an event exists exactly when its change committed, whatever wrote it
//! (a mutation, an import, the command line). After the rows, the trigger sends
//! `NOTIFY claimtrack_events` with the last event's id; PostgreSQL delivers it at
//! commit, to every listening instance.
//!
//! Order: `pos`, given at commit. A deferred constraint trigger runs as the writing
//! transaction commits: it takes an advisory lock (held until the commit is done and
//! visible) and numbers the transaction's events from a sequence, in the order they
//! were written (`seq`). Transactions that write events thus commit one after another
//! in `pos` order, so a reader that has seen `pos` n has seen every event numbered
//! below it, and one committing late can never appear before one already delivered:
//! the log reads the same to every reader, live or catching up. A long transaction
//! (an import) holds nobody back until it commits; the lock covers only the numbering
//! and the commit itself.
//!
//! Set `claimtrack.events = 'off'` in a transaction to write no events (generated
//! benchmark data).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
-- uuid v7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
CREATE FUNCTION claimtrack_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $fn$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$fn$;

CREATE TABLE event (
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    id           uuid NOT NULL PRIMARY KEY DEFAULT claimtrack_uuid_v7(),
    txid         bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    -- Numbered at commit (see above); NULL only inside the writing transaction.
    pos          bigint,
    type         text NOT NULL CHECK (type IN ('statement.created', 'statement.updated',
                     'statement.deleted', 'verdict.published', 'verdict.retracted',
                     'position.changed', 'link.confirmed', 'claim.created')),
    at           timestamptz NOT NULL DEFAULT now(),
    actor_key_id uuid,
    revision_id  uuid NOT NULL,
    speaker_id   uuid,
    claim_ids    uuid[] NOT NULL DEFAULT '{}',
    topic_ids    uuid[] NOT NULL DEFAULT '{}',
    statement_id uuid,
    verdict_id   uuid,
    link_id      uuid,
    data         jsonb
);
CREATE SEQUENCE event_pos_seq;
CREATE UNIQUE INDEX event_pos_idx ON event (pos);
CREATE INDEX event_unnumbered_idx ON event (txid) WHERE pos IS NULL;
CREATE INDEX event_at_idx ON event (at);

-- The topics an event concerns: its statement's own, and those of the claims it
-- concerns (as the timeline's topic filter reads them).
CREATE FUNCTION claimtrack_event_topics(topics uuid[], claims uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(array_agg(DISTINCT t), '{}') FROM (
        SELECT unnest(topics) AS t
        UNION
        SELECT ct.topic_id FROM claim_topic ct WHERE ct.claim_id = ANY(claims)
    ) found
$fn$;

CREATE FUNCTION claimtrack_revision_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    last_id uuid;
BEGIN
    IF coalesce(current_setting('claimtrack.events', true), '') = 'off' THEN
        RETURN NULL;
    END IF;
    WITH r AS (
        SELECT * FROM added
        WHERE entity_type IN ('statement', 'verdict', 'link', 'claim')
    ),
    found AS (
        -- Statements: created, updated, deleted.
        SELECT r.id AS revision_id, 0 AS part, r.actor_key_id,
               CASE r.action WHEN 'CREATE' THEN 'statement.created'
                             WHEN 'UPDATE' THEN 'statement.updated'
                             ELSE 'statement.deleted' END AS type,
               (coalesce(r.after, r.before)->>'speaker_id')::uuid AS speaker_id,
               coalesce((SELECT array_agg((x->>'claim_id')::uuid)
                         FROM jsonb_array_elements(coalesce(r.after, r.before)->'stances') x), '{}') AS claim_ids,
               coalesce((SELECT array_agg(t::uuid)
                         FROM jsonb_array_elements_text(coalesce(r.after, r.before)->'topic_ids') t), '{}') AS topic_ids,
               r.entity_id AS statement_id, NULL::uuid AS verdict_id, NULL::uuid AS link_id,
               NULL::jsonb AS data
        FROM r WHERE r.entity_type = 'statement'
        UNION ALL
        -- Positions: a statement whose stance differs from the speaker's position on
        -- the claim just before it (position order), when it was written or moved.
        -- The statement is read from the revision's own snapshot, and only statements
        -- with stances look further: a bulk load into tables without statistics yet
        -- must not meet a join the planner cannot cost.
        SELECT r.id, 1, r.actor_key_id, 'position.changed', s.speaker_id,
               ARRAY[(x->>'claim_id')::uuid], coalesce((SELECT array_agg(t::uuid)
                         FROM jsonb_array_elements_text(r.after->'topic_ids') t), '{}'),
               s.id, NULL, NULL,
               jsonb_build_object('claim_id', x->>'claim_id', 'from_statement_id', prev.id,
                                  'from', prev.stance, 'to', x->>'stance')
        FROM r
        CROSS JOIN LATERAL (
            SELECT r.entity_id AS id, (r.after->>'speaker_id')::uuid AS speaker_id,
                   (r.after->>'stated_on')::date AS stated_on,
                   (r.after->>'stated_at_utc')::timestamp AS stated_at_utc
        ) s
        CROSS JOIN LATERAL jsonb_array_elements(r.after->'stances') x
        CROSS JOIN LATERAL (
            SELECT p.id, st.stance::text AS stance
            FROM stance st JOIN statement p ON p.id = st.statement_id
            WHERE st.claim_id = (x->>'claim_id')::uuid AND p.speaker_id = s.speaker_id
              AND p.deleted_at IS NULL
              AND (p.stated_on, coalesce(p.stated_at_utc, '-infinity'::timestamp), p.id)
                < (s.stated_on, coalesce(s.stated_at_utc, '-infinity'::timestamp), s.id)
            ORDER BY p.stated_on DESC, coalesce(p.stated_at_utc, '-infinity'::timestamp) DESC, p.id DESC
            LIMIT 1
        ) prev
        WHERE r.entity_type = 'statement' AND r.action IN ('CREATE', 'UPDATE')
          AND r.after->>'deleted_at' IS NULL
          AND jsonb_array_length(coalesce(r.after->'stances', '[]')) > 0
          AND prev.stance <> x->>'stance'
          AND (r.action = 'CREATE'
               OR NOT coalesce(r.before->'stances' @> jsonb_build_array(x), false)
               OR r.before->'stated_on' IS DISTINCT FROM r.after->'stated_on'
               OR r.before->'stated_at_utc' IS DISTINCT FROM r.after->'stated_at_utc')
        UNION ALL
        -- Verdicts: published (now public, before not) or retracted (the reverse).
        SELECT r.id, 0, r.actor_key_id,
               CASE WHEN public_after THEN 'verdict.published' ELSE 'verdict.retracted' END,
               (SELECT s.speaker_id FROM statement s WHERE s.id = v.statement_id),
               CASE WHEN v.claim_id IS NOT NULL THEN ARRAY[v.claim_id]
                    ELSE coalesce((SELECT array_agg(st.claim_id) FROM stance st
                                   WHERE st.statement_id = v.statement_id), '{}') END,
               coalesce((SELECT array_agg(t.topic_id) FROM statement_topic t
                         WHERE t.statement_id = v.statement_id), '{}'),
               v.statement_id, r.entity_id, NULL, NULL
        FROM r
        CROSS JOIN LATERAL (
            SELECT (r.after->>'status' = 'PUBLISHED' AND r.after->>'deleted_at' IS NULL)
                       AS public_after,
                   coalesce(r.before->>'status' = 'PUBLISHED' AND r.before->>'deleted_at' IS NULL,
                            false) AS public_before,
                   (coalesce(r.after, r.before)->>'statement_id')::uuid AS statement_id,
                   (coalesce(r.after, r.before)->>'claim_id')::uuid AS claim_id
        ) v
        WHERE r.entity_type = 'verdict' AND coalesce(public_after, false) <> public_before
        UNION ALL
        -- Links: confirmed.
        SELECT r.id, 0, r.actor_key_id, 'link.confirmed',
               (SELECT s.speaker_id FROM statement s WHERE s.id = l.source),
               coalesce((SELECT array_agg(st.claim_id) FROM stance st WHERE st.statement_id = l.source), '{}'),
               coalesce((SELECT array_agg(t.topic_id) FROM statement_topic t WHERE t.statement_id = l.source), '{}'),
               l.source, NULL, r.entity_id, NULL
        FROM r
        CROSS JOIN LATERAL (SELECT (r.after->>'source_statement_id')::uuid AS source) l
        WHERE r.entity_type = 'link' AND r.after->>'status' = 'CONFIRMED'
          AND r.after->>'deleted_at' IS NULL
          AND (r.before IS NULL OR r.before->>'status' IS DISTINCT FROM 'CONFIRMED'
               OR r.before->>'deleted_at' IS NOT NULL)
        UNION ALL
        -- Claims: created.
        SELECT r.id, 0, r.actor_key_id, 'claim.created', NULL,
               ARRAY[r.entity_id], '{}'::uuid[],
               NULL, NULL, NULL, NULL
        FROM r WHERE r.entity_type = 'claim' AND r.action = 'CREATE'
    ),
    written AS (
        INSERT INTO event (type, actor_key_id, revision_id, speaker_id, claim_ids, topic_ids,
                           statement_id, verdict_id, link_id, data)
        SELECT type, actor_key_id, revision_id, speaker_id, claim_ids,
               claimtrack_event_topics(topic_ids, claim_ids),
               statement_id, verdict_id, link_id, data
        FROM found ORDER BY revision_id, part
        RETURNING id, seq
    )
    SELECT (array_agg(id ORDER BY seq DESC))[1] INTO last_id FROM written;
    IF last_id IS NOT NULL THEN
        PERFORM pg_notify('claimtrack_events', last_id::text);
    END IF;
    RETURN NULL;
END
$fn$;

-- Numbers a transaction's events as it commits: the first firing does them all.
CREATE FUNCTION claimtrack_number_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('claimtrack.events_numbered', true) = NEW.txid::text THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('claimtrack.events.order'));
    UPDATE event e SET pos = numbered.pos
    FROM (SELECT id, nextval('event_pos_seq') AS pos
          FROM (SELECT id FROM event WHERE txid = NEW.txid AND pos IS NULL ORDER BY seq) w) numbered
    WHERE e.id = numbered.id;
    PERFORM set_config('claimtrack.events_numbered', NEW.txid::text, true);
    RETURN NULL;
END
$fn$;

CREATE CONSTRAINT TRIGGER event_number AFTER INSERT ON event
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION claimtrack_number_events();

CREATE TRIGGER revision_events AFTER INSERT ON revision
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION claimtrack_revision_events();

-- A key's saved lists of what it follows.
CREATE TABLE watchlist (
    id          uuid PRIMARY KEY,
    key_id      uuid NOT NULL REFERENCES api_key (id) ON DELETE CASCADE,
    name        text NOT NULL,
    speaker_ids uuid[] NOT NULL DEFAULT '{}',
    claim_ids   uuid[] NOT NULL DEFAULT '{}',
    topic_ids   uuid[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (key_id, name)
);

CREATE TABLE webhook (
    id           uuid PRIMARY KEY,
    url          text NOT NULL,
    event_types  text[] NOT NULL,
    watchlist_id uuid REFERENCES watchlist (id),
    secret       text NOT NULL,
    created_by   uuid REFERENCES api_key (id) ON DELETE SET NULL,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE delivery_status AS ENUM ('PENDING', 'DELIVERED', 'FAILED');

-- One event to one webhook. A sender claims due rows with FOR UPDATE SKIP LOCKED and
-- moves `next_attempt_at` past its lease, so a sender that dies leaves the row due
-- again for another.
CREATE TABLE webhook_delivery (
    id              uuid PRIMARY KEY,
    webhook_id      uuid NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL,
    status          delivery_status NOT NULL DEFAULT 'PENDING',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Attempts stop after this (24 hours after the event, or after a redelivery).
    retry_until     timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at) WHERE status = 'PENDING';

-- How far a reader of the log has got (the webhook dispatcher).
CREATE TABLE event_cursor (
    name text PRIMARY KEY,
    pos  bigint NOT NULL
);
INSERT INTO event_cursor VALUES ('webhooks', 0);
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS event_cursor, webhook_delivery, webhook, watchlist;
DROP TYPE IF EXISTS delivery_status;
DROP TRIGGER IF EXISTS revision_events ON revision;
DROP FUNCTION IF EXISTS claimtrack_revision_events();
DROP FUNCTION IF EXISTS claimtrack_event_topics(uuid[], uuid[]);
DROP TABLE IF EXISTS event;
DROP FUNCTION IF EXISTS claimtrack_number_events();
DROP SEQUENCE IF EXISTS event_pos_seq;
DROP FUNCTION IF EXISTS claimtrack_uuid_v7();
"#;

sql_migration!(UP, DOWN);
