//! Writing fact-checks brought in from outside: rows are copied (`COPY`) into staging
//! tables a batch at a time, then merged with what the database holds by set-based
//! statements, each record found by its natural key before one is created:
//!
//! - a speaker by Wikidata id, then slug, then one of its aliases (`text_key`);
//! - an outlet by slug, then the host of its homepage;
//! - an article by its normalized address;
//! - a statement by (speaker, date, `text_key(text)`), a claim by `text_key(text)`;
//! - a verdict by its review's address, or, without one, by what it rates and who
//!   rated it.
//!
//! Every record created gets its CREATE revision, every verdict changed its UPDATE
//! revision, in the same transaction. Imports take one advisory lock for their whole
//! transaction, so two running at once give what one gives: the second finds what
//! the first created.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::service::statement::snapshot_sql;
use entity::{SpeakerKind, StatementKind};

/// One fact-check, ready to merge: a statement (or a claim, when nobody is named as
/// having made it), where it appeared, and a verdict on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The speaker; None makes the text a claim.
    pub speaker: Option<Person>,
    pub text: String,
    pub kind: StatementKind,
    pub stated_on: NaiveDate,
    pub stated_time: Option<(NaiveTime, i16)>,
    pub context: Option<String>,
    pub language: String,
    /// Normalized addresses of the articles it appeared in, the first appearance first.
    pub appearances: Vec<String>,
    pub verdict: Option<Review>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub name: String,
    pub slug: String,
    pub kind: SpeakerKind,
    pub wikidata_id: Option<String>,
}

/// An outlet, known by its slug.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlet {
    pub name: String,
    pub slug: String,
    pub homepage: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub reviewer: Outlet,
    pub url: Option<String>,
    pub label: String,
    pub value: Option<f64>,
    pub best: Option<f64>,
    pub worst: Option<f64>,
    pub summary: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
}

/// What a batch did, row by row in total and record by record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// Rows whose statement or claim was new.
    pub created: u64,
    /// Rows whose statement or claim was there, and that added or changed a verdict or
    /// an appearance.
    pub merged: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    pub records: Records,
}

/// Records created or changed, by kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, async_graphql::SimpleObject,
)]
#[graphql(name = "ImportRecords")]
pub struct Records {
    /// Speakers created: claimants that no live speaker matched by Wikidata id, slug or
    /// alias.
    pub speakers: u64,
    /// Outlets created: reviewers and publishers that no live outlet matched by slug or by
    /// the host of its homepage.
    pub outlets: u64,
    /// Articles created: normalized addresses no live article had yet.
    pub articles: u64,
    /// Statements created: claimants' statements not recorded yet.
    pub statements: u64,
    /// Claims created, for reviews that name no claimant.
    pub claims: u64,
    /// Appearances created: statements newly recorded as reported in an article.
    pub appearances: u64,
    /// Verdicts created, each PUBLISHED: reviews not recorded yet.
    pub verdicts_created: u64,
    /// Verdicts already recorded (matched by review address, else by subject and reviewer)
    /// whose rating or summary changed.
    pub verdicts_updated: u64,
}

impl std::ops::AddAssign for Outcome {
    fn add_assign(&mut self, other: Self) {
        self.created += other.created;
        self.merged += other.merged;
        self.unchanged += other.unchanged;
        let (a, b) = (&mut self.records, other.records);
        a.speakers += b.speakers;
        a.outlets += b.outlets;
        a.articles += b.articles;
        a.statements += b.statements;
        a.claims += b.claims;
        a.appearances += b.appearances;
        a.verdicts_created += b.verdicts_created;
        a.verdicts_updated += b.verdicts_updated;
    }
}

/// How long a request waits for another import to finish before it is refused.
pub const REQUEST_LOCK_WAIT: &str = "5s";

/// Whether an error is a lock wait that ran out (another import holds the lock).
pub fn is_lock_timeout(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "55P03")
}

/// The advisory lock every import holds for its transaction.
const IMPORT_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended('claimtrack import', 0))";

const STAGING: &str = r#"
CREATE TEMP TABLE import_fact (
    n                 integer PRIMARY KEY,
    new_id            uuid NOT NULL,
    is_claim          boolean NOT NULL,
    speaker_name      text,
    speaker_slug      text,
    speaker_kind      speaker_kind,
    speaker_wikidata  text,
    new_speaker_id    uuid,
    text              text NOT NULL,
    kind              statement_kind NOT NULL,
    stated_on         date NOT NULL,
    stated_time       time,
    utc_offset        smallint,
    context           text,
    language          text NOT NULL,
    reviewer_slug     text,
    new_verdict_id    uuid,
    verdict_url       text,
    rating_label      text,
    rating_value      double precision,
    best_rating       double precision,
    worst_rating      double precision,
    summary           text,
    published_at      timestamptz,
    fingerprint       bytea NOT NULL,
    speaker_id        uuid,
    subject_id        uuid,
    reviewer_id       uuid,
    verdict_id        uuid,
    changed           boolean NOT NULL DEFAULT false
) ON COMMIT DROP;
CREATE TEMP TABLE import_outlet (
    slug      text PRIMARY KEY,
    name      text NOT NULL,
    host      text,
    homepage  text,
    new_id    uuid NOT NULL,
    outlet_id uuid
) ON COMMIT DROP;
CREATE TEMP TABLE import_article (
    url         text PRIMARY KEY,
    outlet_slug text NOT NULL,
    new_id      uuid NOT NULL,
    article_id  uuid
) ON COMMIT DROP;
CREATE TEMP TABLE import_appearance (
    n     integer NOT NULL,
    url   text NOT NULL,
    first boolean NOT NULL
) ON COMMIT DROP;
"#;

const CLEAR: &str = "TRUNCATE import_fact, import_outlet, import_article, import_appearance";

/// The revision of each row of the CTE `created`, as `{snapshot}` spells it.
fn revisions(entity_type: &str, snapshot: &str) -> String {
    format!(
        "INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, after) \
         SELECT uuid_v7(), '{entity_type}', c.id, c.version, 'CREATE', $1, {snapshot} FROM created c"
    )
}

/// A record's snapshot: its row without the columns PostgreSQL derives for search.
const ROW: &str = "(to_jsonb(c) - 'search_doc' - 'search_config')";

/// The merge, step by step; each step's row count is what it wrote. `$1` is the actor's
/// key id.
fn steps() -> Vec<(Step, String)> {
    let statement_snapshot = snapshot_sql("c");
    vec![
        // Outlets: by slug, then by the host of their homepage.
        (
            Step::Resolve,
            "UPDATE import_outlet i SET outlet_id = o.id FROM outlet o \
             WHERE o.slug = i.slug AND o.deleted_at IS NULL"
                .into(),
        ),
        (
            Step::Resolve,
            "WITH hosts AS MATERIALIZED ( \
               SELECT DISTINCT ON (host) host, id FROM ( \
                 SELECT lower(substring(o.homepage FROM '^https?://(?:www\\.)?([^/:?#]+)')) AS host, o.id \
                 FROM outlet o WHERE o.deleted_at IS NULL AND o.homepage IS NOT NULL) h \
               WHERE host IS NOT NULL ORDER BY host, id) \
             UPDATE import_outlet i SET outlet_id = h.id FROM hosts h \
             WHERE i.outlet_id IS NULL AND i.host = h.host"
                .into(),
        ),
        // New outlets of one host are one outlet, as they would be in two files: a
        // reviewer's own name before a stand-in named by the host.
        (
            Step::Resolve,
            "UPDATE import_outlet i SET new_id = f.new_id FROM ( \
               SELECT DISTINCT ON (host) host, new_id FROM import_outlet \
               WHERE outlet_id IS NULL AND host IS NOT NULL ORDER BY host, name = host, slug) f \
             WHERE i.outlet_id IS NULL AND i.host = f.host"
                .into(),
        ),
        (
            Step::Outlets,
            format!(
                "WITH created AS (INSERT INTO outlet (id, name, slug, homepage) \
                   SELECT DISTINCT ON (new_id) new_id, name, slug, homepage FROM import_outlet \
                   WHERE outlet_id IS NULL ORDER BY new_id, name = host, slug \
                   RETURNING *) {}",
                revisions("outlet", ROW)
            ),
        ),
        (
            Step::Resolve,
            "UPDATE import_outlet SET outlet_id = new_id WHERE outlet_id IS NULL".into(),
        ),
        // Speakers: by Wikidata id, slug, then alias.
        (
            Step::Resolve,
            "UPDATE import_fact f SET speaker_id = s.id FROM speaker s \
             WHERE f.speaker_wikidata IS NOT NULL AND s.wikidata_id = f.speaker_wikidata \
               AND s.deleted_at IS NULL"
                .into(),
        ),
        (
            Step::Resolve,
            "UPDATE import_fact f SET speaker_id = s.id FROM speaker s \
             WHERE f.speaker_id IS NULL AND f.speaker_slug IS NOT NULL AND s.slug = f.speaker_slug \
               AND s.deleted_at IS NULL"
                .into(),
        ),
        (
            Step::Resolve,
            "WITH names AS MATERIALIZED ( \
               SELECT DISTINCT speaker_name, text_key(speaker_name) AS key FROM import_fact \
               WHERE speaker_id IS NULL AND speaker_name IS NOT NULL), \
             aliases AS MATERIALIZED ( \
               SELECT s.id, text_key(a) AS key FROM speaker s, unnest(s.aliases) AS a \
               WHERE s.deleted_at IS NULL AND cardinality(s.aliases) > 0), \
             m AS (SELECT DISTINCT ON (n.speaker_name) n.speaker_name, a.id \
               FROM names n JOIN aliases a ON a.key = n.key ORDER BY n.speaker_name, a.id) \
             UPDATE import_fact f SET speaker_id = m.id FROM m \
             WHERE f.speaker_id IS NULL AND f.speaker_name = m.speaker_name"
                .into(),
        ),
        // Rows naming one Wikidata item by different names make one speaker, the first
        // row's: two inserts would both claim the item.
        (
            Step::Resolve,
            "UPDATE import_fact f SET speaker_slug = w.speaker_slug, speaker_name = w.speaker_name, \
               speaker_kind = w.speaker_kind \
             FROM (SELECT DISTINCT ON (speaker_wikidata) speaker_wikidata, speaker_slug, speaker_name, \
                     speaker_kind FROM import_fact \
                   WHERE speaker_id IS NULL AND speaker_wikidata IS NOT NULL \
                   ORDER BY speaker_wikidata, n) w \
             WHERE f.speaker_id IS NULL AND f.speaker_wikidata = w.speaker_wikidata \
               AND f.speaker_slug <> w.speaker_slug"
                .into(),
        ),
        (
            Step::Speakers,
            format!(
                "WITH created AS (INSERT INTO speaker (id, name, slug, kind, wikidata_id) \
                   SELECT DISTINCT ON (speaker_slug) new_speaker_id, speaker_name, speaker_slug, \
                          speaker_kind, speaker_wikidata \
                   FROM import_fact WHERE speaker_id IS NULL AND speaker_slug IS NOT NULL \
                   ORDER BY speaker_slug, n RETURNING *) {}",
                revisions("speaker", ROW)
            ),
        ),
        (
            Step::Resolve,
            "UPDATE import_fact f SET speaker_id = s.id FROM speaker s \
             WHERE f.speaker_id IS NULL AND f.speaker_slug IS NOT NULL AND s.slug = f.speaker_slug \
               AND s.deleted_at IS NULL"
                .into(),
        ),
        // Statements by (speaker, date, text key); claims by text key.
        (Step::Resolve, RESOLVE_STATEMENTS.into()),
        (Step::Resolve, RESOLVE_CLAIMS.into()),
        (
            Step::Statements,
            format!(
                "WITH created AS (INSERT INTO statement (id, speaker_id, text, kind, stated_on, \
                   stated_time, stated_utc_offset_minutes, context, language) \
                   SELECT DISTINCT ON (speaker_id, stated_on, text_key(text)) new_id, speaker_id, text, \
                          kind, stated_on, stated_time, utc_offset, context, language \
                   FROM import_fact WHERE NOT is_claim AND subject_id IS NULL \
                   ORDER BY speaker_id, stated_on, text_key(text), n RETURNING *), \
                 marked AS (UPDATE import_fact f SET subject_id = c.id FROM created c WHERE f.new_id = c.id) \
                 {}",
                revisions("statement", &statement_snapshot)
            ),
        ),
        (
            Step::Claims,
            format!(
                "WITH created AS (INSERT INTO claim (id, text) \
                   SELECT DISTINCT ON (text_key(text)) new_id, text \
                   FROM import_fact WHERE is_claim AND subject_id IS NULL \
                   ORDER BY text_key(text), n RETURNING *), \
                 marked AS (UPDATE import_fact f SET subject_id = c.id FROM created c WHERE f.new_id = c.id) \
                 {}",
                revisions(
                    "claim",
                    "to_jsonb(c) || jsonb_build_object('topic_ids', '[]'::jsonb)"
                )
            ),
        ),
        (Step::Resolve, RESOLVE_STATEMENTS.into()),
        (Step::Resolve, RESOLVE_CLAIMS.into()),
        // Articles by address, in the outlet of their host.
        (
            Step::Resolve,
            "UPDATE import_article i SET article_id = a.id FROM article a \
             WHERE a.url = i.url AND a.deleted_at IS NULL"
                .into(),
        ),
        (
            Step::Articles,
            format!(
                "WITH created AS (INSERT INTO article (id, outlet_id, url, title) \
                   SELECT i.new_id, o.outlet_id, i.url, i.url FROM import_article i \
                   JOIN import_outlet o ON o.slug = i.outlet_slug WHERE i.article_id IS NULL \
                   RETURNING *) {}",
                revisions("article", ROW)
            ),
        ),
        (
            Step::Resolve,
            "UPDATE import_article SET article_id = new_id WHERE article_id IS NULL".into(),
        ),
        // Appearances of statements (a claim has none); the first one only where the
        // statement has no first appearance yet.
        (
            Step::Appearances,
            format!(
                "WITH wanted AS ( \
                   SELECT DISTINCT ON (f.subject_id, a.article_id) f.n, f.subject_id, a.article_id, p.first \
                   FROM import_appearance p JOIN import_fact f ON f.n = p.n \
                   JOIN import_article a ON a.url = p.url \
                   WHERE NOT f.is_claim \
                   ORDER BY f.subject_id, a.article_id, p.first DESC, f.n), \
                 created AS (INSERT INTO appearance (id, statement_id, article_id, first) \
                   SELECT uuid_v7(), w.subject_id, w.article_id, \
                          w.first AND NOT EXISTS (SELECT 1 FROM appearance x WHERE x.statement_id = w.subject_id \
                                                  AND x.first AND x.deleted_at IS NULL) \
                   FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM appearance x \
                     WHERE x.statement_id = w.subject_id AND x.article_id = w.article_id AND x.deleted_at IS NULL) \
                   RETURNING *), \
                 marked AS (UPDATE import_fact f SET changed = true FROM created c \
                   JOIN wanted w ON w.subject_id = c.statement_id AND w.article_id = c.article_id \
                   WHERE f.n = w.n) \
                 {}",
                revisions("appearance", ROW)
            ),
        ),
        // Verdicts: by review address, else by subject and reviewer among those without one.
        (
            Step::Resolve,
            "UPDATE import_fact f SET reviewer_id = o.outlet_id FROM import_outlet o \
             WHERE o.slug = f.reviewer_slug"
                .into(),
        ),
        (Step::Resolve, RESOLVE_VERDICTS[0].into()),
        (Step::Resolve, RESOLVE_VERDICTS[1].into()),
        (Step::Resolve, RESOLVE_VERDICTS[2].into()),
        (
            Step::VerdictsUpdated,
            "WITH incoming AS ( \
               SELECT DISTINCT ON (verdict_id) * FROM import_fact WHERE verdict_id IS NOT NULL \
               ORDER BY verdict_id, n), \
             old AS (SELECT v.* FROM verdict v JOIN incoming i ON i.verdict_id = v.id \
               WHERE (v.rating_label, v.rating_value, v.best_rating, v.worst_rating, v.summary) \
                     IS DISTINCT FROM (i.rating_label, i.rating_value, i.best_rating, i.worst_rating, i.summary) \
               FOR UPDATE OF v), \
             updated AS (UPDATE verdict v SET rating_label = i.rating_label, rating_value = i.rating_value, \
                 best_rating = i.best_rating, worst_rating = i.worst_rating, summary = i.summary, \
                 version = v.version + 1, updated_at = now() \
               FROM incoming i WHERE i.verdict_id = v.id AND v.id IN (SELECT id FROM old) RETURNING v.*), \
             marked AS (UPDATE import_fact f SET changed = true FROM updated u WHERE f.verdict_id = u.id) \
             INSERT INTO revision (id, entity_type, entity_id, version, action, actor_key_id, before, after) \
             SELECT uuid_v7(), 'verdict', u.id, u.version, 'UPDATE', $1, to_jsonb(o), to_jsonb(u) \
             FROM updated u JOIN old o ON o.id = u.id"
                .into(),
        ),
        (
            Step::VerdictsCreated,
            format!(
                "WITH created AS (INSERT INTO verdict (id, statement_id, claim_id, reviewer_id, rating_label, \
                   rating_value, best_rating, worst_rating, summary, url, published_at, status) \
                   SELECT DISTINCT ON (coalesce(verdict_url, subject_id::text || reviewer_id::text)) \
                          new_verdict_id, CASE WHEN NOT is_claim THEN subject_id END, \
                          CASE WHEN is_claim THEN subject_id END, reviewer_id, rating_label, rating_value, \
                          best_rating, worst_rating, summary, verdict_url, coalesce(published_at, now()), \
                          'PUBLISHED' \
                   FROM import_fact WHERE verdict_id IS NULL AND rating_label IS NOT NULL \
                   ORDER BY coalesce(verdict_url, subject_id::text || reviewer_id::text), n RETURNING *), \
                 marked AS (UPDATE import_fact f SET changed = true, verdict_id = c.id FROM created c \
                   WHERE f.new_verdict_id = c.id) \
                 {}",
                revisions("verdict", ROW)
            ),
        ),
    ]
}

/// Facts seen before (`$1` positions, `$2` fingerprints) whose statement or claim and
/// verdict are still live: nothing to do for them.
const KNOWN: &str = "SELECT s.n FROM unnest($1::int[], $2::bytea[]) AS s(n, fingerprint) \
     JOIN import_fingerprint f ON f.fingerprint = s.fingerprint \
     WHERE (f.statement_id IS NULL OR EXISTS (SELECT 1 FROM statement x WHERE x.id = f.statement_id AND x.deleted_at IS NULL)) \
       AND (f.claim_id IS NULL OR EXISTS (SELECT 1 FROM claim x WHERE x.id = f.claim_id AND x.deleted_at IS NULL)) \
       AND (f.verdict_id IS NULL OR EXISTS (SELECT 1 FROM verdict x WHERE x.id = f.verdict_id AND x.deleted_at IS NULL))";

/// Remembers the facts of a batch that are now wholly in place, by fingerprint.
const REMEMBER: &str = "INSERT INTO import_fingerprint (fingerprint, statement_id, claim_id, verdict_id) \
     SELECT DISTINCT ON (fingerprint) fingerprint, CASE WHEN NOT is_claim THEN subject_id END, \
            CASE WHEN is_claim THEN subject_id END, verdict_id \
     FROM import_fact WHERE subject_id IS NOT NULL AND (rating_label IS NULL OR verdict_id IS NOT NULL) \
     ORDER BY fingerprint, n \
     ON CONFLICT (fingerprint) DO UPDATE SET statement_id = excluded.statement_id, \
       claim_id = excluded.claim_id, verdict_id = excluded.verdict_id";

const RESOLVE_STATEMENTS: &str = "UPDATE import_fact f SET subject_id = s.id FROM statement s \
     WHERE NOT f.is_claim AND f.subject_id IS NULL AND s.speaker_id = f.speaker_id \
       AND s.stated_on = f.stated_on AND text_key(s.text) = text_key(f.text) AND s.deleted_at IS NULL";

const RESOLVE_CLAIMS: &str = "UPDATE import_fact f SET subject_id = c.id FROM claim c \
     WHERE f.is_claim AND f.subject_id IS NULL AND text_key(c.text) = text_key(f.text) \
       AND c.deleted_at IS NULL";

/// Verdicts by review address, then (without one) by what they rate and who rated
/// them: one statement each, so each join can use its index.
const RESOLVE_VERDICTS: [&str; 3] = [
    "UPDATE import_fact f SET verdict_id = v.id FROM verdict v \
     WHERE f.rating_label IS NOT NULL AND f.verdict_url IS NOT NULL \
       AND v.url = f.verdict_url AND v.deleted_at IS NULL AND v.url IS NOT NULL",
    "UPDATE import_fact f SET verdict_id = v.id FROM verdict v \
     WHERE f.rating_label IS NOT NULL AND f.verdict_url IS NULL AND NOT f.is_claim \
       AND v.statement_id = f.subject_id AND v.reviewer_id = f.reviewer_id \
       AND v.url IS NULL AND v.deleted_at IS NULL",
    "UPDATE import_fact f SET verdict_id = v.id FROM verdict v \
     WHERE f.rating_label IS NOT NULL AND f.verdict_url IS NULL AND f.is_claim \
       AND v.claim_id = f.subject_id AND v.reviewer_id = f.reviewer_id \
       AND v.url IS NULL AND v.deleted_at IS NULL",
];

/// A fact's fingerprint: SHA-256 of everything it says.
pub fn fingerprint(fact: &Fact) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("{fact:?}").as_bytes()).to_vec()
}

/// Counts per row, once a batch is merged.
const TALLY: &str = "SELECT \
     count(*) FILTER (WHERE subject_id = new_id), \
     count(*) FILTER (WHERE subject_id <> new_id AND changed), \
     count(*) FILTER (WHERE subject_id <> new_id AND NOT changed) \
   FROM import_fact";

/// Tables an import writes, analyzed once it is committed.
pub const TOUCHED: &str = "speaker, outlet, article, statement, claim, appearance, verdict, revision, statement_text_band";

#[derive(Debug, Clone, Copy)]
enum Step {
    Resolve,
    Outlets,
    Speakers,
    Statements,
    Claims,
    Articles,
    Appearances,
    VerdictsUpdated,
    VerdictsCreated,
}

/// A transaction that merges batches of facts.
pub struct Merge<'c> {
    txn: Transaction<'c, Postgres>,
    actor: Option<Uuid>,
    steps: Vec<(Step, String)>,
}

impl<'c> Merge<'c> {
    /// Opens the transaction, takes the import lock and creates the staging tables.
    /// A bulk import waits for the lock as long as another import holds it; a request
    /// (`patient: false`) waits [`REQUEST_LOCK_WAIT`] and keeps the service's statement
    /// timeout.
    pub async fn begin(
        pool: &'c sqlx::PgPool,
        actor: Option<Uuid>,
        patient: bool,
    ) -> sqlx::Result<Self> {
        let mut txn = pool.begin().await?;
        let limits = if patient {
            "SET LOCAL statement_timeout = 0".to_owned()
        } else {
            format!("SET LOCAL lock_timeout = '{REQUEST_LOCK_WAIT}'")
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(limits))
            .execute(&mut *txn)
            .await?;
        sqlx::raw_sql(IMPORT_LOCK).execute(&mut *txn).await?;
        sqlx::raw_sql(STAGING).execute(&mut *txn).await?;
        Ok(Self {
            txn,
            actor,
            steps: steps(),
        })
    }

    /// Merges one batch.
    pub async fn batch(&mut self, facts: &[Fact]) -> sqlx::Result<Outcome> {
        let prints: Vec<Vec<u8>> = facts.iter().map(fingerprint).collect();
        self.batch_printed(facts, &prints).await
    }

    /// Merges one batch whose [`fingerprint`]s were taken already (by a reading thread,
    /// while the previous batch was merged).
    pub async fn batch_printed(
        &mut self,
        facts: &[Fact],
        prints: &[Vec<u8>],
    ) -> sqlx::Result<Outcome> {
        let known = self.known(prints).await?;
        let fresh: Vec<(&Fact, &Vec<u8>)> = facts
            .iter()
            .zip(prints)
            .enumerate()
            .filter(|(i, _)| !known.contains(i))
            .map(|(_, pair)| pair)
            .collect();
        let mut outcome = self.merge(&fresh).await?;
        outcome.unchanged += known.len() as u64;
        Ok(outcome)
    }

    /// The positions of facts imported before whose records are all still there.
    async fn known(
        &mut self,
        prints: &[Vec<u8>],
    ) -> sqlx::Result<std::collections::HashSet<usize>> {
        let positions: Vec<i32> = (0..prints.len() as i32).collect();
        let rows: Vec<i32> = sqlx::query_scalar(KNOWN)
            .bind(&positions)
            .bind(prints)
            .fetch_all(&mut *self.txn)
            .await?;
        Ok(rows.into_iter().map(|n| n as usize).collect())
    }

    async fn merge(&mut self, facts: &[(&Fact, &Vec<u8>)]) -> sqlx::Result<Outcome> {
        if facts.is_empty() {
            return Ok(Outcome::default());
        }
        let conn: &mut PgConnection = &mut self.txn;
        let staged = Staged::of(facts);
        copy(
            conn,
            "import_outlet (slug, name, host, homepage, new_id)",
            &staged.outlets,
        )
        .await?;
        copy(
            conn,
            "import_article (url, outlet_slug, new_id)",
            &staged.articles,
        )
        .await?;
        copy(
            conn,
            "import_appearance (n, url, first)",
            &staged.appearances,
        )
        .await?;
        copy(conn, FACT_COLUMNS, &staged.facts).await?;
        sqlx::raw_sql("ANALYZE import_fact, import_outlet, import_article, import_appearance")
            .execute(&mut *conn)
            .await?;
        let mut outcome = Outcome::default();
        for (i, (step, sql)) in self.steps.iter().enumerate() {
            let started = std::time::Instant::now();
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(self.actor)
                .persistent(false)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            tracing::debug!(
                step = i,
                ?step,
                rows,
                ms = started.elapsed().as_millis() as u64,
                "merge step"
            );
            let r = &mut outcome.records;
            match step {
                Step::Resolve => {}
                Step::Outlets => r.outlets += rows,
                Step::Speakers => r.speakers += rows,
                Step::Statements => r.statements += rows,
                Step::Claims => r.claims += rows,
                Step::Articles => r.articles += rows,
                Step::Appearances => r.appearances += rows,
                Step::VerdictsUpdated => r.verdicts_updated += rows,
                Step::VerdictsCreated => r.verdicts_created += rows,
            }
        }
        sqlx::raw_sql(REMEMBER).execute(&mut *conn).await?;
        let (created, merged, unchanged): (i64, i64, i64) =
            sqlx::query_as(TALLY).fetch_one(&mut *conn).await?;
        sqlx::raw_sql(CLEAR).execute(&mut *conn).await?;
        outcome.created = created as u64;
        outcome.merged = merged as u64;
        outcome.unchanged = unchanged as u64;
        Ok(outcome)
    }

    /// The transaction, to commit or roll back.
    pub fn into_transaction(self) -> Transaction<'c, Postgres> {
        self.txn
    }
}

/// Brings the planner's statistics up to date after an import, so the first query
/// after it is planned as well as the tenth.
pub async fn analyze(pool: &sqlx::PgPool) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {TOUCHED}")))
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql("RESET statement_timeout")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

const FACT_COLUMNS: &str = "import_fact (n, new_id, is_claim, speaker_name, speaker_slug, speaker_kind, \
     speaker_wikidata, new_speaker_id, text, kind, stated_on, stated_time, utc_offset, context, \
     language, reviewer_slug, new_verdict_id, verdict_url, rating_label, rating_value, best_rating, \
     worst_rating, summary, published_at, fingerprint)";

async fn copy(conn: &mut PgConnection, table: &str, data: &str) -> sqlx::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} FROM STDIN"))
        .await?;
    copy.send(data.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// A batch as `COPY` text: facts, the outlets and articles they name (once each) and
/// their appearances.
#[derive(Default)]
struct Staged {
    facts: String,
    outlets: String,
    articles: String,
    appearances: String,
}

impl Staged {
    fn of(facts: &[(&Fact, &Vec<u8>)]) -> Self {
        let mut out = Staged::default();
        let mut outlets = std::collections::HashSet::new();
        let mut articles = std::collections::HashSet::new();
        let mut outlet = |out: &mut Staged, o: &Outlet| {
            if outlets.insert(o.slug.clone()) {
                let host = o.homepage.as_deref().and_then(host_of);
                Row::new(&mut out.outlets)
                    .text(Some(&o.slug))
                    .text(Some(&o.name))
                    .text(host.as_deref())
                    .text(o.homepage.as_deref())
                    .uuid(Some(Uuid::now_v7()))
                    .end();
            }
        };
        // An article on a reviewer's own site belongs to the reviewer, not to an outlet
        // named after the host.
        let reviewers: std::collections::HashMap<String, Outlet> = facts
            .iter()
            .filter_map(|(f, _)| f.verdict.as_ref())
            .filter_map(|r| {
                Some((
                    r.reviewer.homepage.as_deref().and_then(host_of)?,
                    r.reviewer.clone(),
                ))
            })
            .collect();
        for (n, (fact, print)) in facts.iter().enumerate() {
            let person = fact.speaker.as_ref();
            let review = fact.verdict.as_ref();
            if let Some(review) = review {
                outlet(&mut out, &review.reviewer);
            }
            for (i, url) in fact.appearances.iter().enumerate() {
                if articles.insert(url.clone()) {
                    let site = host_of(url)
                        .and_then(|h| reviewers.get(&h).cloned())
                        .unwrap_or_else(|| site_of(url));
                    outlet(&mut out, &site);
                    Row::new(&mut out.articles)
                        .text(Some(url))
                        .text(Some(&site.slug))
                        .uuid(Some(Uuid::now_v7()))
                        .end();
                }
                Row::new(&mut out.appearances)
                    .int(n as i64)
                    .text(Some(url))
                    .bool(i == 0)
                    .end();
            }
            Row::new(&mut out.facts)
                .int(n as i64)
                .uuid(Some(Uuid::now_v7()))
                .bool(person.is_none())
                .text(person.map(|p| p.name.as_str()))
                .text(person.map(|p| p.slug.as_str()))
                .text(person.map(|p| speaker_kind(p.kind)))
                .text(person.and_then(|p| p.wikidata_id.as_deref()))
                .uuid(person.map(|_| Uuid::now_v7()))
                .text(Some(&fact.text))
                .text(Some(statement_kind(fact.kind)))
                .text(Some(&fact.stated_on.to_string()))
                .text(
                    fact.stated_time
                        .map(|(t, _)| t.format("%H:%M:%S").to_string())
                        .as_deref(),
                )
                .int_opt(fact.stated_time.map(|(_, o)| i64::from(o)))
                .text(fact.context.as_deref())
                .text(Some(&fact.language))
                .text(review.map(|r| r.reviewer.slug.as_str()))
                .uuid(review.map(|_| Uuid::now_v7()))
                .text(review.and_then(|r| r.url.as_deref()))
                .text(review.map(|r| r.label.as_str()))
                .float(review.and_then(|r| r.value))
                .float(review.and_then(|r| r.best))
                .float(review.and_then(|r| r.worst))
                .text(review.and_then(|r| r.summary.as_deref()))
                .text(
                    review
                        .and_then(|r| r.published_at)
                        .map(|t| t.to_rfc3339())
                        .as_deref(),
                )
                .text(Some(&format!("\\x{}", hex::encode(print))))
                .end();
        }
        out
    }
}

fn speaker_kind(kind: SpeakerKind) -> &'static str {
    match kind {
        SpeakerKind::Person => "PERSON",
        SpeakerKind::Organization => "ORGANIZATION",
        SpeakerKind::Group => "GROUP",
    }
}

fn statement_kind(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::Quote => "QUOTE",
        StatementKind::Paraphrase => "PARAPHRASE",
    }
}

/// The host of an address without `www.`, lower-cased.
pub fn host_of(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_owned())
}

/// The outlet an article's address belongs to: its site, named by its host.
pub fn site_of(url: &str) -> Outlet {
    let host = host_of(url).unwrap_or_else(|| "unknown".into());
    let homepage = url::Url::parse(url)
        .ok()
        .map(|u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default()));
    Outlet {
        slug: crate::service::validate::slugify(&host).unwrap_or_else(|| "unknown".into()),
        name: host,
        homepage,
    }
}

/// One line of `COPY … FROM STDIN` text format.
struct Row<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Row<'a> {
    fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
    }

    fn text(mut self, value: Option<&str>) -> Self {
        self.sep();
        match value {
            None => self.out.push_str("\\N"),
            Some(v) => {
                for c in v.chars() {
                    match c {
                        '\\' => self.out.push_str("\\\\"),
                        '\n' => self.out.push_str("\\n"),
                        '\r' => self.out.push_str("\\r"),
                        '\t' => self.out.push_str("\\t"),
                        c => self.out.push(c),
                    }
                }
            }
        }
        self
    }

    fn uuid(self, value: Option<Uuid>) -> Self {
        self.text(value.map(|u| u.to_string()).as_deref())
    }

    fn int(self, value: i64) -> Self {
        self.int_opt(Some(value))
    }

    fn int_opt(mut self, value: Option<i64>) -> Self {
        self.sep();
        match value {
            Some(v) => {
                let _ = write!(self.out, "{v}");
            }
            None => self.out.push_str("\\N"),
        }
        self
    }

    fn float(mut self, value: Option<f64>) -> Self {
        self.sep();
        match value {
            Some(v) => {
                let _ = write!(self.out, "{v:?}");
            }
            None => self.out.push_str("\\N"),
        }
        self
    }

    fn bool(mut self, value: bool) -> Self {
        self.sep();
        self.out.push(if value { 't' } else { 'f' });
        self
    }

    fn end(self) {
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_field_or_a_row() {
        let mut out = String::new();
        Row::new(&mut out)
            .text(Some("a\tb\nc\\d\re"))
            .text(None)
            .int(3)
            .float(Some(0.5))
            .bool(true)
            .end();
        assert_eq!(out, "a\\tb\\nc\\\\d\\re\t\\N\t3\t0.5\tt\n");
    }

    #[test]
    fn an_address_belongs_to_its_host_without_www() {
        let site = site_of("https://www.PolitiFact.com/factchecks/2022/jul/28/x/");
        assert_eq!(site.name, "politifact.com");
        assert_eq!(site.slug, "politifact-com");
        assert_eq!(site.homepage.as_deref(), Some("https://www.politifact.com"));
    }
}
