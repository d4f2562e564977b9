//! A deterministic data generator for benchmarks: speakers with dated roles, claims,
//! topics, outlets and articles, statements of realistic length in five languages
//! (built from the phrase banks in [`phrases`], one statement in 23 repeating an
//! earlier one of another speaker nearly word for word), stance sequences that
//! reverse, appearances, verdicts on several rating scales, typed links, and the CREATE
//! revisions of statements (so "as of" queries have history to read).
//!
//! Everything is set-based SQL (`INSERT … SELECT generate_series`), so a million
//! statements load in minutes. The same scale and seed give the same data; ids are
//! uuid v7-shaped, derived from the row number.

mod phrases;

use std::time::Instant;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionSession, TransactionTrait};
use tracing::info;

use crate::error::ApiResult;
use phrases::{CLAIMS, HEADLINES, LANGUAGES, OPENERS, PLACES, REASONS, TOPICS, VENUES, sql_array};

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub statements: i64,
    pub seed: i64,
}

impl Scale {
    pub fn speakers(&self) -> i64 {
        (self.statements / 10).max(10)
    }
    pub fn claims(&self) -> i64 {
        (self.statements / 20).max(5)
    }
    pub fn articles(&self) -> i64 {
        (self.statements / 4).max(5)
    }
}

/// A uuid v7-shaped id for row `n` of table number `t` (distinct per table).
fn id(t: u8, n: &str) -> String {
    format!(
        "(lpad(to_hex(1500000000000 + {t}::bigint * 100000000000 + {n}), 12, '0') || '7000' || '8' \
         || lpad(to_hex({n}), 15, '0'))::uuid"
    )
}

/// Loads the data set; returns (table, rows) in load order and reports rows per second.
pub async fn generate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    scale: Scale,
) -> ApiResult<Vec<(String, u64)>> {
    let s = scale.statements;
    let seed = scale.seed;
    let (speakers, claims, articles) = (scale.speakers(), scale.claims(), scale.articles());
    let sp = |n: &str| id(1, n);
    let cl = |n: &str| id(2, n);
    let tp = |n: &str| id(3, n);
    let ou = |n: &str| id(4, n);
    let ar = |n: &str| id(5, n);
    let st = |n: &str| id(6, n);
    let openers_bank = sql_array(&OPENERS);
    let claims_bank = sql_array(&CLAIMS);
    let topics_bank = sql_array(&TOPICS);
    let reasons_bank = sql_array(&REASONS);
    let places_bank = sql_array(&PLACES);
    let venues_bank = sql_array(&VENUES);
    let headlines_bank = sql_array(&HEADLINES);
    let languages = sql_array(&LANGUAGES);
    let steps: Vec<(&str, String)> = vec![
        (
            "topic",
            format!(
                "INSERT INTO topic (id, name, slug) SELECT {}, 'Topic ' || i, 'gen-topic-' || i FROM generate_series(0, 49) i",
                tp("i")
            ),
        ),
        (
            "outlet",
            format!(
                "INSERT INTO outlet (id, name, slug, country, language) SELECT {}, 'Outlet ' || i, 'gen-outlet-' || i, \
             (ARRAY['US','RU','DE','FR','ES','GB','IN','BR'])[1 + i % 8], (ARRAY['en','ru','de','fr','es'])[1 + i % 5] \
             FROM generate_series(0, 199) i",
                ou("i")
            ),
        ),
        (
            "speaker",
            format!(
                "INSERT INTO speaker (id, name, slug, kind, description) SELECT {}, 'Speaker ' || i, 'gen-speaker-' || i, \
             (ARRAY['PERSON','PERSON','PERSON','ORGANIZATION','GROUP'])[1 + i % 5]::speaker_kind, 'Generated speaker' \
             FROM generate_series(0, {speakers} - 1) i",
                sp("i")
            ),
        ),
        (
            "speaker_role",
            format!(
                "INSERT INTO speaker_role (id, speaker_id, title, organization, started_on, ended_on) \
             SELECT {}, {}, (ARRAY['Minister','Senator','Governor','Spokesperson'])[1 + (i + {seed}) % 4], 'Office ' || (i % 97), \
                    date '2010-01-01' + ((i * 13 + {seed}) % 2000), date '2010-01-01' + ((i * 13 + {seed}) % 2000) + 1500 + (i % 900) \
             FROM generate_series(0, {speakers} - 1) i",
                id(7, "i"),
                sp("i")
            ),
        ),
        // English claims: a claim template, a topic and a number.
        (
            "claim",
            format!(
                "INSERT INTO claim (id, text, slug) SELECT {}, \
             replace(replace(({claims_bank})[1 + i % 10], '{{topic}}', ({topics_bank})[1 + (i / 10) % 16]), \
                     '{{n}}', (2 + (i * 37) % 95)::text), \
             'gen-claim-' || i FROM generate_series(0, {claims} - 1) i",
                cl("i")
            ),
        ),
        (
            "claim_topic",
            format!(
                "INSERT INTO claim_topic (claim_id, topic_id) SELECT {}, {} FROM generate_series(0, {claims} - 1) i",
                cl("i"),
                tp("(i % 50)")
            ),
        ),
        // Headlines in the article's language.
        (
            "article",
            format!(
                "INSERT INTO article (id, outlet_id, title, published_at, language) SELECT {}, {}, \
             replace(replace(({headlines_bank})[1 + (i % 5) * 2 + (i / 5) % 2], \
                             '{{topic}}', ({topics_bank})[1 + (i % 5) * 16 + (i / 10) % 16]), \
                     '{{place}}', ({places_bank})[1 + (i % 5) * 12 + (i / 7) % 12]), \
             timestamptz '2015-01-01' + ((i * 7 + {seed}) % 3650) * interval '1 day' + (i % 86400) * interval '1 second', \
             ({languages})[1 + i % 5] FROM generate_series(0, {articles} - 1) i",
                ar("i"),
                ou("(i % 200)")
            ),
        ),
        // Statement `i` is in language `l = i % 5` and reads opener, claim, reason, picked
        // by `k = i / 5`; one in 23 takes its opener, claim and number from one of the
        // five previous statements in its language (another speaker), its place from its own.
        (
            "statement",
            format!(
                "INSERT INTO statement (id, speaker_id, text, kind, stated_on, stated_on_precision, stated_time, \
                                    stated_utc_offset_minutes, venue, language) \
             SELECT {}, {}, \
               ({openers_bank})[1 + l * 8 + m % 8] || ' ' \
                 || replace(replace(({claims_bank})[1 + l * 10 + (m / 8) % 10], \
                                    '{{topic}}', ({topics_bank})[1 + l * 16 + (m / 80) % 16]), \
                            '{{n}}', (2 + (m * 37) % 95)::text) \
                 || ', ' || replace(({reasons_bank})[1 + l * 8 + (m / 1280) % 8], \
                                    '{{place}}', ({places_bank})[1 + l * 12 + (k * 7 + k / 12) % 12]), \
               (ARRAY['QUOTE','PARAPHRASE'])[1 + i % 2]::statement_kind, \
               CASE WHEN i % 10 = 0 THEN date_trunc('month', date '2015-01-01' + ((i / {speakers}) * 41 + i % 29 + {seed}) % 3650)::date \
                    ELSE date '2015-01-01' + ((i / {speakers}) * 41 + i % 29 + {seed}) % 3650 END, \
               (CASE WHEN i % 10 = 0 THEN 'MONTH' ELSE 'DAY' END)::date_precision, \
               CASE WHEN i % 10 <> 0 AND i % 3 = 0 THEN time '08:00' + (i % 600) * interval '1 minute' END, \
               CASE WHEN i % 10 <> 0 AND i % 3 = 0 THEN ((i % 5) - 2) * 60 END, \
               ({venues_bank})[1 + l * 5 + k % 5], \
               ({languages})[1 + l] \
             FROM generate_series(0, {s} - 1) i, \
               LATERAL (SELECT i % 5 AS l, i / 5 AS k) lk, \
               LATERAL (SELECT CASE WHEN i % 23 = 7 THEN greatest(k - 1 - (i / 23) % 5, 0) ELSE k END AS m) pick",
                st("i"),
                sp("(i % {speakers})")
            ),
        ),
        // The signature bands of the statements just loaded, in the primary key's order:
        // the row trigger is off during the load (see `generate`), and a million
        // statements' twenty million bands go in far faster sorted than at random.
        (
            "statement_text_band",
            format!(
                "INSERT INTO statement_text_band (band, statement_id) \
             SELECT DISTINCT b.band, s.id FROM statement s, unnest(statement_text_bands(s.text)) AS b(band) \
             WHERE s.id BETWEEN {} AND {} AND s.deleted_at IS NULL ORDER BY 1, 2",
                st("0"),
                st(&format!("({s} - 1)"))
            ),
        ),
        // Each speaker keeps coming back to a few claims; stances drift and reverse.
        (
            "stance",
            format!(
                "INSERT INTO stance (id, statement_id, claim_id, stance) \
             SELECT {}, {}, {}, (ARRAY['SUPPORTS','SUPPORTS','OPPOSES','NEUTRAL','UNCLEAR'])[1 + ((i / {speakers}) / 2 + i % 3 + {seed}) % 5]::stance_kind \
             FROM generate_series(0, {s} - 1) i",
                id(8, "i"),
                st("i"),
                cl("(((i % {speakers}) * 7 + (i / {speakers}) % 3) % {claims})")
            ),
        ),
        (
            "statement_topic",
            format!(
                "INSERT INTO statement_topic (statement_id, topic_id) SELECT {}, {} FROM generate_series(0, {s} - 1) i",
                st("i"),
                tp("(i % 50)")
            ),
        ),
        (
            "appearance",
            format!(
                "INSERT INTO appearance (id, statement_id, article_id, first) SELECT {}, {}, {}, true FROM generate_series(0, {s} - 1) i",
                id(9, "i"),
                st("i"),
                ar("(i % {articles})")
            ),
        ),
        // One statement in ten is fact-checked, on one of three scales.
        (
            "verdict",
            format!(
                "INSERT INTO verdict (id, statement_id, reviewer_id, rating_label, rating_value, best_rating, worst_rating, \
                                  summary, published_at, status) \
             SELECT {}, {}, {}, \
               (ARRAY['False','Mostly False','Half True','Mostly True','True'])[1 + (i / 10) % 5], \
               CASE (i / 10) % 3 WHEN 0 THEN 1 + (i / 10) % 5 WHEN 1 THEN ((i / 10) % 5) * 2.5 ELSE NULL END, \
               CASE (i / 10) % 3 WHEN 0 THEN 5 WHEN 1 THEN 10 ELSE NULL END, \
               CASE (i / 10) % 3 WHEN 0 THEN 1 WHEN 1 THEN 0 ELSE NULL END, \
               'Generated fact-check', timestamptz '2015-02-01' + ((i * 11) % 3650) * interval '1 day', \
               (CASE WHEN i % 40 = 0 THEN 'DRAFT' ELSE 'PUBLISHED' END)::verdict_status \
             FROM generate_series(0, {s} - 1, 10) i",
                id(10, "i"),
                st("i"),
                ou("(i % 200)")
            ),
        ),
        // One in twenty follows up the speaker's next statement; one in fifty an article.
        (
            "link",
            format!(
                "INSERT INTO link (id, source_statement_id, target_statement_id, target_article_id, relation, status) \
             SELECT {}, {}, CASE WHEN i % 50 = 0 THEN NULL ELSE {} END, CASE WHEN i % 50 = 0 THEN {} END, \
               (ARRAY['FOLLOWS_UP','REPEATS','CLARIFIES','REAFFIRMS'])[1 + i % 4]::link_relation, 'CONFIRMED' \
             FROM generate_series(0, {s} - 1 - {speakers}, 20) i \
             WHERE i % 50 = 0 OR EXISTS (SELECT 1 FROM statement a, statement b WHERE a.id = {} AND b.id = {} AND b.stated_on >= a.stated_on)",
                id(11, "i"),
                st("i"),
                st("(i + {speakers})"),
                ar("(i % {articles})"),
                st("i"),
                st("(i + {speakers})")
            ),
        ),
        // History for "as of": each statement's CREATE revision, with its stances and topics.
        (
            "revision",
            format!(
                "INSERT INTO revision (id, entity_type, entity_id, version, action, after, created_at, updated_at) \
             SELECT {}, 'statement', s.id, 1, 'CREATE', \
               {}, s.created_at, s.created_at \
             FROM statement s WHERE s.id BETWEEN {} AND {}",
                "md5('revision' || s.id::text)::uuid",
                crate::service::statement::snapshot_sql("s"),
                st("0"),
                st(&format!("({s} - 1)"))
            ),
        ),
    ];
    let mut loaded = Vec::new();
    let txn = db.begin().await?;
    // Loading a million rows takes minutes; the service's statement timeout is for requests.
    txn.execute_unprepared("SET LOCAL statement_timeout = 0")
        .await?;
    // Generated history is no news: it writes no events (see the event log's migration).
    txn.execute_unprepared("SET LOCAL claimtrack.events = 'off'")
        .await?;
    // Bands are loaded in one sorted pass after the statements (a step of its own).
    txn.execute_unprepared("ALTER TABLE statement DISABLE TRIGGER statement_text_bands_insert")
        .await?;
    for (table, sql) in steps {
        let started = Instant::now();
        let sql = sql
            .replace("{speakers}", &speakers.to_string())
            .replace("{articles}", &articles.to_string())
            .replace("{claims}", &claims.to_string());
        let rows = txn
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?
            .rows_affected();
        let secs = started.elapsed().as_secs_f64();
        info!(
            table,
            rows,
            seconds = format!("{secs:.1}"),
            rows_per_second = (rows as f64 / secs.max(1e-9)) as u64,
            "loaded"
        );
        loaded.push((table.to_owned(), rows));
    }
    txn.execute_unprepared("ALTER TABLE statement ENABLE TRIGGER statement_text_bands_insert")
        .await?;
    txn.commit().await?;
    let txn = db.begin().await?;
    txn.execute_unprepared("SET LOCAL statement_timeout = 0")
        .await?;
    txn.execute_unprepared("ANALYZE").await?;
    txn.commit().await?;
    Ok(loaded)
}
