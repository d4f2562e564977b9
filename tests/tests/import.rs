//! Bulk import and export: real ClaimReview documents in every container shape met in
//! the wild, spreadsheets read through a column mapping, records found by their
//! natural keys, repeated and concurrent runs, broken files that write nothing, the
//! JSON Lines round trip between two databases, the history of imported records, the
//! ClaimReview feed, the command line (`claimtrack import`/`export`) and the
//! `importClaimReview` mutation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{Days, NaiveDate};
use claimtrack::auth::{KeyStore, Viewer};
use claimtrack::ingest::claimreview::{self, Item, Review};
use claimtrack::ingest::exchange::{self, Selection};
use claimtrack::ingest::import::{self, FileReport, Format, Settings};
use claimtrack::ingest::table;
use claimtrack::service::validate;
use entity::ApiRole;
use serde_json::{Value, json};
use tests::TestDb;
use tests::fixtures::instant;

// ---------------------------------------------------------------------------------
// Files, settings and the database

const MAP: &str = "speaker=speaker,text=statement,stated_on=date,rating=label,summary=justification,context=context";
const SCALE: &str = "pants-fire,false,barely-true,half-true,mostly-true,true";

/// A directory of its own under the temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("claimtrack-import-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write a scratch file");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn claimreview_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/claimreview")
}

/// The real ClaimReview documents, in the order a folder import takes them.
fn fixture_paths() -> Vec<PathBuf> {
    import::expand(&[claimreview_dir()]).expect("the fixtures")
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn fixture(name: &str) -> Value {
    let bytes = std::fs::read(claimreview_dir().join(name)).expect("a fixture");
    serde_json::from_slice(&bytes).expect("a JSON fixture")
}

/// The one review a fixture holds, as the reader reads it.
fn review_of(path: &Path) -> Option<Review> {
    let items = claimreview::read(&std::fs::read(path).expect("a fixture")).expect("readable");
    assert_eq!(items.len(), 1, "{}", path.display());
    match items.into_iter().next() {
        Some(Item::Review(review)) => Some(*review),
        _ => None,
    }
}

/// Settings that tell the format from the content.
fn settings() -> Settings {
    Settings {
        format: None,
        csv: None,
        reviewer: None,
        language: "en".into(),
        dry_run: false,
        progress: false,
    }
}

/// Settings for a spreadsheet, as the command line builds them from its flags.
fn spreadsheet(
    map: &str,
    scale: Option<&str>,
    reviewer: Option<&str>,
    date_format: Option<&str>,
) -> Settings {
    Settings {
        csv: Some(table::Options {
            mapping: map.parse().expect("a mapping"),
            scale: scale.map(|s| s.parse().expect("a scale")),
            date_format: date_format.map(str::to_owned),
            delimiter: b',',
        }),
        reviewer: reviewer.map(str::to_owned),
        ..settings()
    }
}

fn pool(db: &TestDb) -> &sqlx::PgPool {
    db.db().get_postgres_connection_pool()
}

async fn import_file(db: &TestDb, path: &Path, settings: &Settings) -> FileReport {
    import::file(pool(db), path, settings, None).await
}

/// Imports a file that must be read whole (refused rows allowed).
async fn imported(db: &TestDb, path: &Path, settings: &Settings) -> FileReport {
    let report = import_file(db, path, settings).await;
    assert_eq!(report.error, None, "{}", report.human());
    report
}

async fn rows<T>(db: &TestDb, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(pool(db))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    tests::scalar(db.db(), sql).await
}

/// Row counts of every table but the keys.
async fn counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    let mut all = db.counts().await;
    all.retain(|(table, _)| *table != "api_key");
    all
}

/// A CSV cell, quoted when it must be.
fn cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn csv_line(cells: &[&str]) -> String {
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

/// A small spreadsheet in the PolitiFact form: two speakers, ratings on the scale.
fn small_sheet() -> String {
    let mut text = csv_line(&[
        "speaker",
        "date",
        "statement",
        "label",
        "justification",
        "context",
    ]);
    for (speaker, date, statement, label) in [
        (
            "Ada Example",
            "July 28, 2022",
            "The bridge will open in May.",
            "3",
        ),
        (
            "Ada Example",
            "2022-08-02",
            "Taxes fell for everyone.",
            "false",
        ),
        (
            "Ada Example",
            "2022-09-10",
            "Unemployment is at a record low.",
            "mostly-true",
        ),
        (
            "Ben Sample",
            "Aug. 3, 2022",
            "Crime doubled in two years.",
            "PANTS_FIRE",
        ),
        (
            "Ben Sample",
            "2022-10-01",
            "We built 300 schools.",
            "half-true",
        ),
        ("Ben Sample", "2022-10-02", "Says nothing rated here.", ""),
    ] {
        text.push_str(&csv_line(&[
            speaker,
            date,
            statement,
            label,
            "Because, \"reasons\".",
            "a speech",
        ]));
    }
    text
}

// ---------------------------------------------------------------------------------
// The real ClaimReview documents

/// A JSON value at a dotted path (`reviewRating.icon`, `*` for every array element)
/// below any object of `document`.
fn has_field(document: &Value, path: &str) -> bool {
    fn at(value: &Value, parts: &[&str]) -> bool {
        let Some((first, rest)) = parts.split_first() else {
            return true;
        };
        match (value, *first) {
            (Value::Array(items), "*") => items.iter().any(|v| at(v, rest)),
            (Value::Object(map), key) => map.get(key).is_some_and(|v| at(v, rest)),
            _ => false,
        }
    }
    fn anywhere(value: &Value, parts: &[&str]) -> bool {
        at(value, parts)
            || match value {
                Value::Array(items) => items.iter().any(|v| anywhere(v, parts)),
                Value::Object(map) => map.values().any(|v| anywhere(v, parts)),
                _ => false,
            }
    }
    let parts: Vec<&str> = path.split('.').collect();
    anywhere(document, &parts)
}

#[tokio::test]
async fn every_real_document_is_imported_with_its_verdict_published_at_its_address() {
    let db = TestDb::new().await;
    let paths = fixture_paths();
    assert_eq!(paths.len(), 34);
    let mut reports = BTreeMap::new();
    for path in &paths {
        let report = imported(&db, path, &settings()).await;
        assert_eq!(report.format, Some(Format::Claimreview));
        assert_eq!(report.read, 1, "{}", report.human());
        reports.insert(name_of(path), report);
    }

    // One row each: the Estadão review names no reviewer (a reporter and a relative
    // address), and the Data Commons feed item is the review the raw file holds.
    for (name, report) in &reports {
        let (created, unchanged, refused) = match name.as_str() {
            "19-estadao_raw.json" => (0, 0, 1),
            "datacommons-feed-item.json" => (0, 1, 0),
            _ => (1, 0, 0),
        };
        assert_eq!(
            (
                report.created,
                report.merged,
                report.unchanged,
                report.refused
            ),
            (created, 0, unchanged, refused),
            "{name}: {}",
            report.human()
        );
    }
    let estadao = &reports["19-estadao_raw.json"];
    assert_eq!(estadao.refusals.len(), 1);
    assert_eq!(estadao.refusals[0].field, "author");
    assert_eq!(estadao.refusals[0].pointer.as_deref(), Some("/author"));

    // What the records say, from what the reader makes of each document: a review
    // that names who made the claim rates a statement of that speaker, one that names
    // nobody (the seven Newtral fakes, the TFC Taiwan review) rates a claim.
    let mut expected = BTreeMap::new();
    for path in &paths {
        let Some(review) = review_of(path) else {
            continue;
        };
        if review.reviewer.is_none() {
            continue;
        }
        let url = validate::normalize_url("url", review.url.as_deref().expect("an address"))
            .expect("a valid address");
        let speaker = review
            .claimant
            .as_ref()
            .map(|p| validate::slugify(&p.name).expect("a slug"));
        let label = review.rating.label.clone().expect("a label");
        expected.insert(url, (speaker, review.claim.clone(), label));
    }
    let found: Vec<(String, String, String, Option<String>, String, String)> = rows(
        &db,
        "SELECT v.url, v.status::text, v.rating_label, p.slug, coalesce(s.text, c.text), o.name \
         FROM verdict v JOIN outlet o ON o.id = v.reviewer_id \
         LEFT JOIN statement s ON s.id = v.statement_id LEFT JOIN speaker p ON p.id = s.speaker_id \
         LEFT JOIN claim c ON c.id = v.claim_id",
    )
    .await;
    let got: BTreeMap<String, (Option<String>, String, String)> = found
        .iter()
        .map(|(url, status, label, speaker, text, _)| {
            assert_eq!(status, "PUBLISHED", "{url}");
            (url.clone(), (speaker.clone(), text.clone(), label.clone()))
        })
        .collect();
    assert_eq!(found.len(), got.len(), "one verdict per review address");
    assert_eq!(got, expected);
    assert_eq!(got.len(), 32);
    let claims = expected.values().filter(|(s, ..)| s.is_none()).count();
    assert_eq!(claims, 8);
    assert_eq!(db.count("claim").await, 8);
    assert_eq!(db.count("statement").await, 24);
    assert_eq!(db.count("speaker").await, 24);
    assert_eq!(db.count("verdict").await, 32);

    // Every reviewer is an outlet; Google's review, published by the site
    // vishvasnews.com, is Vishvas News's: the outlet at that host.
    let reviewers: BTreeMap<&str, &str> = found
        .iter()
        .map(|(url, .., reviewer)| (url.as_str(), reviewer.as_str()))
        .collect();
    for path in &paths {
        let Some(review) = review_of(path) else {
            continue;
        };
        let Some(reviewer) = &review.reviewer else {
            continue;
        };
        let url = validate::normalize_url("url", review.url.as_deref().expect("an address"))
            .expect("a valid address");
        let expected = match name_of(path).as_str() {
            "google-factcheck-api-claim.json" => "Vishvas News",
            _ => reviewer.name.as_str(),
        };
        assert_eq!(reviewers[url.as_str()], expected, "{}", path.display());
    }

    // The records reported are the records written, each with its CREATE revision.
    let total = |f: fn(&FileReport) -> u64| reports.values().map(f).sum::<u64>() as i64;
    assert_eq!(total(|r| r.records.speakers), db.count("speaker").await);
    assert_eq!(total(|r| r.records.outlets), db.count("outlet").await);
    assert_eq!(total(|r| r.records.articles), db.count("article").await);
    assert_eq!(total(|r| r.records.statements), 24);
    assert_eq!(total(|r| r.records.claims), 8);
    assert_eq!(
        total(|r| r.records.appearances),
        db.count("appearance").await
    );
    assert_eq!(total(|r| r.records.verdicts_created), 32);
    let unrevised = count(
        &db,
        "SELECT count(*) FROM (SELECT id FROM speaker UNION ALL SELECT id FROM outlet \
         UNION ALL SELECT id FROM article UNION ALL SELECT id FROM statement \
         UNION ALL SELECT id FROM claim UNION ALL SELECT id FROM appearance \
         UNION ALL SELECT id FROM verdict) r \
         WHERE NOT EXISTS (SELECT 1 FROM revision v WHERE v.entity_id = r.id AND v.action = 'CREATE')",
    )
    .await;
    assert_eq!(unrevised, 0);

    // What was left behind is named by the source's own fields, never by one that was
    // read.
    assert_eq!(
        reports["17-data_commons_raw.json"].unmapped["sdPublisher"],
        1
    );
    assert_eq!(
        reports["datacommons-feed-item.json"].unmapped["sdPublisher"],
        1
    );
    let newtral = &reports["27-newtral_fact_check_index_raw.json"].unmapped;
    for field in [
        "postTerms",
        "sdLicense",
        "subtitle",
        "reviewRating.icon",
        "itemReviewed.author.affiliation",
    ] {
        assert!(newtral.contains_key(field), "{field}: {newtral:?}");
    }
    for (name, report) in &reports {
        let document = fixture(name);
        for field in report.unmapped.keys() {
            assert!(has_field(&document, field), "{name}: {field}");
            for read in [
                "claimReviewed",
                "reviewRating",
                "reviewRating.alternateName",
                "url",
                "author",
                "itemReviewed",
                "itemReviewed.author",
                "itemReviewed.author.name",
                "datePublished",
            ] {
                assert_ne!(field, read, "{name}");
            }
        }
    }
}

/// Reviews to build documents of every shape from: two statements and a claim.
fn three_reviews() -> [Value; 3] {
    [
        fixture("61-uol_confere_raw.json"),
        fixture("15-boom_live_raw.json"),
        fixture("43-newtral_fakes_index_raw.json"),
    ]
}

/// A Google Fact Check Tools `claims:search` response: the fixture's claim, and a
/// second claim reviewed twice.
fn google_response() -> Value {
    let first = fixture("google-factcheck-api-claim.json");
    let mut second = first.clone();
    second["text"] = json!("A doctor beating a patient in Jaipur is a staged video");
    let mut review = second["claimReview"][0].clone();
    review["url"] = json!("https://www.vishvasnews.com/urdu/society/staged-video-jaipur/");
    let mut other = review.clone();
    other["url"] = json!("https://factcheck.example.org/staged-video-jaipur");
    other["publisher"] = json!({ "name": "Example Checks", "site": "factcheck.example.org" });
    second["claimReview"] = json!([review, other]);
    json!({ "claims": [first, second], "nextPageToken": "CAE" })
}

#[tokio::test]
async fn every_container_shape_yields_its_reviews() {
    let scratch = Scratch::new();
    let [a, b, c] = three_reviews();
    let d = fixture("11-africa_check_raw.json");
    let feed = |items: Vec<Vec<&Value>>| {
        json!({
            "@context": "https://schema.org",
            "@type": "DataFeed",
            "dataFeedElement": items.into_iter()
                .map(|item| json!({ "@type": "DataFeedItem", "item": item }))
                .collect::<Vec<_>>(),
        })
    };
    let lines = [
        a.clone(),
        json!([b, c]),
        feed(vec![vec![&d]]),
        google_response(),
    ]
    .iter()
    .map(|v| serde_json::to_string(v).expect("JSON"))
    .collect::<Vec<_>>()
    .join("\n");
    // (name, document, reviews read, refused, rows created, rows merged, verdicts)
    let cases: [(&str, String, u64, u64, u64, u64, i64); 6] = [
        ("object.json", a.to_string(), 1, 0, 1, 0, 1),
        ("array.json", json!([a, b, c]).to_string(), 3, 0, 3, 0, 3),
        (
            // A page's @graph holds other nodes too; they are not reviews.
            "graph.json",
            json!({
                "@context": "https://schema.org",
                "@graph": [{ "@type": "WebPage", "name": "Fact check" }, a, b, c],
            })
            .to_string(),
            4,
            1,
            3,
            0,
            3,
        ),
        (
            "feed.json",
            feed(vec![vec![&a], vec![&b, &c], vec![&d]]).to_string(),
            4,
            0,
            4,
            0,
            4,
        ),
        // The second claim's second review rates the statement its first review
        // created: merged.
        ("google.json", google_response().to_string(), 3, 0, 2, 1, 3),
        ("lines.jsonl", lines, 7, 0, 6, 1, 7),
    ];
    for (name, document, read, refused, created, merged, verdicts) in cases {
        let db = TestDb::new().await;
        let path = scratch.file(name, &document);
        let report = imported(&db, &path, &settings()).await;
        assert_eq!(report.format, Some(Format::Claimreview), "{name}");
        assert_eq!(
            (
                report.read,
                report.refused,
                report.created,
                report.merged,
                report.unchanged
            ),
            (read, refused, created, merged, 0),
            "{name}: {}",
            report.human()
        );
        let subjects = db.count("statement").await + db.count("claim").await;
        assert_eq!(subjects, created as i64, "{name}");
        assert_eq!(db.count("verdict").await, verdicts, "{name}");
        assert_eq!(report.records.verdicts_created, verdicts as u64, "{name}");
        if name == "graph.json" {
            assert_eq!(
                report.refusals[0].pointer.as_deref(),
                Some("/@graph/0/@type")
            );
            assert_eq!(report.refusals[0].field, "@type");
        }
    }
}

// ---------------------------------------------------------------------------------
// Runs again, natural keys

#[tokio::test]
async fn a_second_run_of_the_same_files_changes_nothing() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let sheet = scratch.file("sheet.csv", small_sheet());
    let csv = spreadsheet(MAP, Some(SCALE), Some("PolitiFact"), None);
    let mut files: Vec<(PathBuf, Settings)> = fixture_paths()
        .into_iter()
        .map(|p| (p, settings()))
        .collect();
    files.push((sheet, csv));
    for (path, settings) in &files {
        imported(&db, path, settings).await;
    }
    let before = counts(&db).await;
    let revisions = db.count("revision").await;
    assert!(revisions > 0);

    // Rows seen before are known by their fingerprint; forgotten, the merge finds each
    // of their records by its natural key all the same.
    for forget in [false, true] {
        if forget {
            sqlx::raw_sql("DELETE FROM import_fingerprint")
                .execute(pool(&db))
                .await
                .expect("forget the rows seen");
        }
        for (path, settings) in &files {
            let report = imported(&db, path, settings).await;
            assert_eq!(
                (report.created, report.merged, report.unchanged),
                (0, 0, report.read - report.refused),
                "{}: {}",
                path.display(),
                report.human()
            );
            assert_eq!(
                report.records,
                Default::default(),
                "{}: {}",
                path.display(),
                report.human()
            );
        }
        assert_eq!(counts(&db).await, before);
        assert_eq!(db.count("revision").await, revisions);
    }
}

#[tokio::test]
async fn a_row_imported_before_comes_back_when_its_record_was_deleted() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let sheet = scratch.file("sheet.csv", small_sheet());
    let csv = spreadsheet(MAP, Some(SCALE), Some("PolitiFact"), None);
    imported(&db, &sheet, &csv).await;
    let unrated: Vec<(String,)> = rows(
        &db,
        "SELECT id::text FROM statement WHERE text = 'Says nothing rated here.'",
    )
    .await;
    db.ok(
        "mutation($id: ID!) { deleteStatement(input: { id: $id, version: 1 }) { deletedId } }",
        json!({ "id": unrated[0].0 }),
    )
    .await;

    let report = imported(&db, &sheet, &csv).await;
    assert_eq!(
        (report.created, report.merged, report.unchanged),
        (1, 0, 5),
        "{}",
        report.human()
    );
    let live: Vec<(String,)> = rows(
        &db,
        "SELECT id::text FROM statement WHERE text = 'Says nothing rated here.' AND deleted_at IS NULL",
    )
    .await;
    assert_eq!(live.len(), 1);
    assert_ne!(
        live[0].0, unrated[0].0,
        "a new statement, the deleted one stays deleted"
    );
}

#[tokio::test]
async fn one_speaker_however_a_spreadsheet_spells_the_name() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let mut text = csv_line(&["speaker", "date", "statement"]);
    for (speaker, statement) in [
        ("Barack Obama", "We will close Guantanamo."),
        ("barack obama", "Yes we can."),
        ("barack-obama", "The economy added jobs."),
        ("  BARACK   OBAMA ", "Health care is a right."),
    ] {
        text.push_str(&csv_line(&[speaker, "2009-01-20", statement]));
    }
    let path = scratch.file("obama.csv", text);
    let report = imported(
        &db,
        &path,
        &spreadsheet(
            "speaker=speaker,text=statement,stated_on=date",
            None,
            None,
            None,
        ),
    )
    .await;
    assert_eq!((report.created, report.records.speakers), (4, 1));
    let speakers: Vec<(String, String)> = rows(&db, "SELECT name, slug FROM speaker").await;
    assert_eq!(
        speakers,
        [("Barack Obama".to_owned(), "barack-obama".to_owned())]
    );
    assert_eq!(db.count("statement").await, 4);
}

#[tokio::test]
async fn a_speaker_is_found_by_an_alias() {
    let db = TestDb::new().await;
    let obama = db
        .created(
            r#"mutation { createSpeaker(input: { name: "Barack Hussein Obama", kind: PERSON,
                aliases: ["Obama", "President Obama"] }) { speaker { id } } }"#,
        )
        .await;
    let scratch = Scratch::new();
    let mut text = csv_line(&["speaker", "date", "statement"]);
    text.push_str(&csv_line(&["Obama", "2009-01-20", "Yes we can."]));
    text.push_str(&csv_line(&[
        "president  OBAMA",
        "2009-02-01",
        "We will close Guantanamo.",
    ]));
    text.push_str(&csv_line(&[
        "Michelle Obama",
        "2009-02-02",
        "When they go low, we go high.",
    ]));
    let path = scratch.file("aliases.csv", text);
    let report = imported(
        &db,
        &path,
        &spreadsheet(
            "speaker=speaker,text=statement,stated_on=date",
            None,
            None,
            None,
        ),
    )
    .await;
    assert_eq!((report.created, report.records.speakers), (3, 1));
    let by_speaker: Vec<(String, String)> = rows(
        &db,
        "SELECT s.text, p.id::text FROM statement s JOIN speaker p ON p.id = s.speaker_id ORDER BY s.stated_on",
    )
    .await;
    assert_eq!(by_speaker[0].1, obama);
    assert_eq!(by_speaker[1].1, obama);
    assert_ne!(by_speaker[2].1, obama, "another speaker: no alias of hers");
}

#[tokio::test]
async fn a_speaker_is_found_by_its_wikidata_id() {
    let db = TestDb::new().await;
    let trump = db
        .created(
            r#"mutation { createSpeaker(input: { name: "Donald J. Trump", kind: PERSON,
                wikidataId: "Q22686" }) { speaker { id } } }"#,
        )
        .await;
    let base = fixture("61-uol_confere_raw.json");
    let review = |claimant: &str, entity: &str, claim: &str, url: &str| {
        let mut review = base.clone();
        review["claimReviewed"] = json!(claim);
        review["url"] = json!(url);
        review["itemReviewed"]["author"] = json!({
            "@type": "Person",
            "name": claimant,
            "url": format!("https://www.wikidata.org/wiki/{entity}"),
        });
        review
    };
    // Two spellings of one person, known by one Wikidata item, in one file.
    let reviews = json!([
        review(
            "Trump, Donald",
            "Q22686",
            "The wall is being built.",
            "https://example.org/r/1"
        ),
        review(
            "Barack Obama",
            "Q76",
            "We will close Guantanamo.",
            "https://example.org/r/2"
        ),
        review(
            "President Obama",
            "Q76",
            "Yes we can.",
            "https://example.org/r/3"
        ),
    ]);
    let scratch = Scratch::new();
    let path = scratch.file("wikidata.json", reviews.to_string());
    let report = imported(&db, &path, &settings()).await;
    assert_eq!(
        (report.created, report.records.speakers),
        (3, 1),
        "{}",
        report.human()
    );
    let speakers: Vec<(String, Option<String>, i64)> = rows(
        &db,
        "SELECT p.id::text, p.wikidata_id, count(s.id) FROM speaker p \
         LEFT JOIN statement s ON s.speaker_id = p.id GROUP BY p.id ORDER BY p.wikidata_id",
    )
    .await;
    assert_eq!(
        speakers,
        [
            (trump, Some("Q22686".to_owned()), 1),
            (speakers[1].0.clone(), Some("Q76".to_owned()), 2),
        ]
    );
}

#[tokio::test]
async fn an_outlet_is_found_by_the_host_of_its_homepage_within_one_file_too() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    // Vishvas News's own review, and one Google lists under its site's name.
    let both = json!([
        fixture("63-vishvas_news_raw.json"),
        fixture("google-factcheck-api-claim.json"),
    ]);
    let path = scratch.file("both.json", both.to_string());
    let report = imported(&db, &path, &settings()).await;
    assert_eq!(report.created, 2, "{}", report.human());
    let reviewers: Vec<(String, i64)> = rows(
        &db,
        "SELECT o.name, count(*) FROM verdict v JOIN outlet o ON o.id = v.reviewer_id GROUP BY o.name",
    )
    .await;
    assert_eq!(reviewers, [("Vishvas News".to_owned(), 2)]);
}

#[tokio::test]
async fn a_verdict_without_an_address_is_found_by_what_it_rates_and_who_rated_it() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let map = "speaker=speaker,text=statement,stated_on=date,rating=label";
    let sheet = |label: &str| {
        format!(
            "{}{}",
            csv_line(&["speaker", "date", "statement", "label"]),
            csv_line(&[
                "Ada Example",
                "2022-07-28",
                "Taxes fell for everyone.",
                label
            ])
        )
    };
    let csv = spreadsheet(map, Some(SCALE), Some("PolitiFact"), None);
    imported(&db, &scratch.file("first.csv", sheet("false")), &csv).await;
    let report = imported(&db, &scratch.file("second.csv", sheet("barely-true")), &csv).await;
    assert_eq!(
        (
            report.merged,
            report.records.verdicts_created,
            report.records.verdicts_updated
        ),
        (1, 0, 1),
        "{}",
        report.human()
    );
    // Another reviewer's rating of it is another verdict.
    let other = spreadsheet(map, Some(SCALE), Some("FactCheck.org"), None);
    let report = imported(&db, &scratch.file("third.csv", sheet("true")), &other).await;
    assert_eq!(report.records.verdicts_created, 1, "{}", report.human());
    let verdicts: Vec<(String, String, i32)> = rows(
        &db,
        "SELECT o.name, v.rating_label, v.version FROM verdict v JOIN outlet o ON o.id = v.reviewer_id ORDER BY o.name",
    )
    .await;
    assert_eq!(
        verdicts,
        [
            ("FactCheck.org".to_owned(), "true".to_owned(), 1),
            ("PolitiFact".to_owned(), "barely-true".to_owned(), 2),
        ]
    );
}

#[tokio::test]
async fn one_statement_whatever_the_case_and_spacing_of_its_text() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let mut text = csv_line(&["speaker", "date", "statement"]);
    for (date, statement) in [
        ("2022-07-28", "The economy grew by 3% last year."),
        ("2022-07-28", "the  ECONOMY grew by 3%   last year. "),
        ("2022-07-28", "The economy\ngrew by 3% last year."),
        ("2022-07-29", "The economy grew by 3% last year."),
    ] {
        text.push_str(&csv_line(&["Ada Example", date, statement]));
    }
    let map = "speaker=speaker,text=statement,stated_on=date";
    let path = scratch.file("same.csv", &text);
    let report = imported(&db, &path, &spreadsheet(map, None, None, None)).await;
    // The same words on another day are another statement.
    assert_eq!(
        (report.read, report.records.statements),
        (4, 2),
        "{}",
        report.human()
    );
    assert_eq!(report.created + report.merged + report.unchanged, 4);
    let stored: Vec<(String, NaiveDate)> = rows(
        &db,
        "SELECT text, stated_on FROM statement ORDER BY stated_on",
    )
    .await;
    assert_eq!(
        stored,
        [
            (
                "The economy grew by 3% last year.".to_owned(),
                NaiveDate::from_ymd_opt(2022, 7, 28).expect("a date")
            ),
            (
                "The economy grew by 3% last year.".to_owned(),
                NaiveDate::from_ymd_opt(2022, 7, 29).expect("a date")
            ),
        ]
    );

    // Another file spelling it another way finds it.
    let again = scratch.file(
        "again.csv",
        format!(
            "{}{}",
            csv_line(&["speaker", "date", "statement"]),
            csv_line(&[
                "ada example",
                "July 28, 2022",
                "THE ECONOMY GREW BY 3% LAST YEAR."
            ])
        ),
    );
    let report = imported(&db, &again, &spreadsheet(map, None, None, None)).await;
    assert_eq!(
        (report.created, report.unchanged),
        (0, 1),
        "{}",
        report.human()
    );
    assert_eq!(db.count("statement").await, 2);
}

#[tokio::test]
async fn a_verdict_is_found_by_its_review_address_and_updated() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let original = claimreview_dir().join("61-uol_confere_raw.json");
    imported(&db, &original, &settings()).await;
    let (id, label, version): (String, String, i32) =
        rows(&db, "SELECT id::text, rating_label, version FROM verdict")
            .await
            .pop()
            .expect("the verdict");
    assert_eq!((label.as_str(), version), ("Falso", 1));

    // The same review, rated anew, at its address as another page may spell it.
    let mut review = fixture("61-uol_confere_raw.json");
    review["reviewRating"]["alternateName"] = json!("Enganoso");
    review["url"] = json!(
        "https://NOTICIAS.uol.com.br/confere/ultimas-noticias/2022/09/01/e-falso-que-violencia-no-campo-caiu-como-disse-bolsonaro-na-redetv.htm?utm_source=twitter#comments"
    );
    let path = scratch.file("rerated.json", review.to_string());
    let report = imported(&db, &path, &settings()).await;
    assert_eq!(
        (report.created, report.merged, report.unchanged),
        (0, 1, 0),
        "{}",
        report.human()
    );
    assert_eq!(
        (
            report.records.verdicts_created,
            report.records.verdicts_updated
        ),
        (0, 1)
    );
    let verdicts: Vec<(String, String, i32)> =
        rows(&db, "SELECT id::text, rating_label, version FROM verdict").await;
    assert_eq!(verdicts, [(id.clone(), "Enganoso".to_owned(), 2)]);
    let updates: Vec<(i32, String, String)> = rows(
        &db,
        &format!(
            "SELECT version, before->>'rating_label', after->>'rating_label' FROM revision \
             WHERE entity_id = '{id}' AND action = 'UPDATE'"
        ),
    )
    .await;
    assert_eq!(updates, [(2, "Falso".to_owned(), "Enganoso".to_owned())]);

    // Once more: nothing to change.
    let revisions = db.count("revision").await;
    let report = imported(&db, &path, &settings()).await;
    assert_eq!((report.unchanged, report.records.verdicts_updated), (1, 0));
    assert_eq!(db.count("revision").await, revisions);
}

// ---------------------------------------------------------------------------------
// Spreadsheets

/// A generated spreadsheet in the PolitiFact form, and what importing it must give.
struct Sheet {
    text: String,
    /// (line the row starts on, field at fault) of each broken row.
    broken: Vec<(u64, &'static str)>,
    good: u64,
    /// Verdicts expected per label of the scale.
    labels: BTreeMap<&'static str, i64>,
    speakers: i64,
}

/// `rows` rows, one in a hundred broken in turn by a date that is no date, an empty
/// text or a rating off the scale; quoted fields with commas, doubled quotes and
/// line breaks; dates in words; ratings as numbers and as labels in any spelling.
fn politifact_sheet(rows: usize) -> Sheet {
    const LABELS: [&str; 6] = [
        "pants-fire",
        "false",
        "barely-true",
        "half-true",
        "mostly-true",
        "true",
    ];
    const SPELLED: [&str; 6] = [
        "PANTS_FIRE",
        "False",
        "barely true",
        "Half-True",
        "mostly_true",
        "TRUE",
    ];
    const SPEAKERS: usize = 40;
    let mut text = csv_line(&[
        "id",
        "speaker",
        "date",
        "statement",
        "label",
        "justification",
        "context",
        "extra",
    ]);
    let (mut line, mut broken, mut good, mut labels) = (2u64, Vec::new(), 0, BTreeMap::new());
    let start = NaiveDate::from_ymd_opt(2019, 1, 1).expect("a date");
    for i in 0..rows {
        let day = start + Days::new((i % 1500) as u64);
        let mut date = day.format("%B %-d, %Y").to_string();
        let mut statement = if i % 9 == 0 {
            format!("Says the line\nbreaks here, in \"row\" {i}")
        } else {
            format!("Statement number {i}, said \"plainly\"")
        };
        let mut label = if i % 2 == 0 {
            (i % 6).to_string()
        } else {
            SPELLED[i % 6].to_owned()
        };
        let context = if i % 4 == 0 {
            "a rally,\nin two lines"
        } else {
            "a speech"
        };
        if i % 100 == 42 {
            match (i / 100) % 3 {
                0 => {
                    date = "Julember 45, 2022".into();
                    broken.push((line, "stated_on"));
                }
                1 => {
                    statement = "  ".into();
                    broken.push((line, "text"));
                }
                _ => {
                    label = "sorta-true".into();
                    broken.push((line, "rating"));
                }
            }
        } else {
            good += 1;
            *labels.entry(LABELS[i % 6]).or_default() += 1;
        }
        let row = csv_line(&[
            &i.to_string(),
            &format!("Speaker {}", i % SPEAKERS),
            &date,
            &statement,
            &label,
            &format!("Because, \"reason\" {i}."),
            context,
            "x",
        ]);
        line += row.matches('\n').count() as u64;
        text.push_str(&row);
    }
    Sheet {
        text,
        broken,
        good,
        labels,
        speakers: SPEAKERS as i64,
    }
}

fn refusals(report: &FileReport) -> Vec<(u64, String)> {
    report
        .refusals
        .iter()
        .map(|p| (p.line.expect("a line"), p.field.clone()))
        .collect()
}

fn expected_refusals(sheet: &Sheet) -> Vec<(u64, String)> {
    sheet
        .broken
        .iter()
        .map(|(line, field)| (*line, (*field).to_owned()))
        .collect()
}

#[tokio::test]
async fn ten_thousand_rows_are_imported_and_each_broken_row_is_refused_by_its_line() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let sheet = politifact_sheet(10_000);
    assert_eq!(sheet.broken.len(), 100);
    let path = scratch.file("politifact.csv", &sheet.text);
    let report = imported(
        &db,
        &path,
        &spreadsheet(MAP, Some(SCALE), Some("PolitiFact"), None),
    )
    .await;
    assert_eq!(report.format, Some(Format::Csv));
    assert_eq!(
        (report.read, report.created, report.refused),
        (10_000, sheet.good, 100)
    );
    assert_eq!(refusals(&report), expected_refusals(&sheet));
    let reasons: Vec<&str> = report.refusals.iter().map(|p| p.reason.as_str()).collect();
    assert!(reasons[0].contains("Julember 45, 2022"), "{}", reasons[0]);
    assert_eq!(reasons[1], "empty");
    assert!(reasons[2].contains("sorta-true"), "{}", reasons[2]);
    assert_eq!(
        report.unmapped,
        BTreeMap::from([("extra".to_owned(), 10_000), ("id".to_owned(), 10_000)])
    );

    assert_eq!(db.count("statement").await, sheet.good as i64);
    assert_eq!(db.count("speaker").await, sheet.speakers);
    let outlets: Vec<(String,)> = rows(&db, "SELECT name FROM outlet").await;
    assert_eq!(outlets, [("PolitiFact".to_owned(),)]);
    let labels: Vec<(String, i64, f64, f64, f64)> = rows(
        &db,
        "SELECT rating_label, count(*), min(rating_value), max(best_rating), max(worst_rating) \
         FROM verdict WHERE status = 'PUBLISHED' GROUP BY rating_label, rating_value ORDER BY rating_value",
    )
    .await;
    let got: BTreeMap<&str, i64> = labels
        .iter()
        .enumerate()
        .map(|(i, (label, n, value, best, worst))| {
            assert_eq!((*value, *best, *worst), (i as f64, 5.0, 0.0), "{label}");
            (label.as_str(), *n)
        })
        .collect();
    assert_eq!(got, sheet.labels);

    // A row that spans lines, read as written.
    let row: Vec<(String, NaiveDate, String, String, String)> = rows(
        &db,
        "SELECT s.text, s.stated_on, coalesce(s.context, '-'), v.rating_label, coalesce(v.summary, '-') \
         FROM statement s JOIN verdict v ON v.statement_id = s.id WHERE s.text LIKE '%row\" 909'",
    )
    .await;
    assert_eq!(
        row,
        [(
            "Says the line\nbreaks here, in \"row\" 909".to_owned(),
            NaiveDate::from_ymd_opt(2021, 6, 28).expect("a date"),
            "a speech".to_owned(),
            "half-true".to_owned(),
            "Because, \"reason\" 909.".to_owned(),
        )]
    );
}

#[tokio::test]
async fn a_date_format_reads_days_first_dates() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let text = format!(
        "{}{}{}",
        csv_line(&["speaker", "date", "statement"]),
        csv_line(&["Ada Example", "28/07/2022", "One."]),
        csv_line(&["Ada Example", "03/04/2022", "Two."]),
    );
    let path = scratch.file("days.csv", text);
    let map = "speaker=speaker,text=statement,stated_on=date";

    let without = imported(&db, &path, &spreadsheet(map, None, None, None)).await;
    assert_eq!(
        refusals(&without),
        [(2, "stated_on".to_owned()), (3, "stated_on".to_owned())]
    );
    assert!(
        without.refusals[0].reason.contains("--date-format"),
        "{}",
        without.refusals[0].reason
    );
    assert_eq!(db.count("statement").await, 0);

    let with = imported(&db, &path, &spreadsheet(map, None, None, Some("%d/%m/%Y"))).await;
    assert_eq!((with.created, with.refused), (2, 0));
    let days: Vec<(NaiveDate,)> = rows(&db, "SELECT stated_on FROM statement ORDER BY text").await;
    assert_eq!(
        days,
        [
            (NaiveDate::from_ymd_opt(2022, 7, 28).expect("a date"),),
            (NaiveDate::from_ymd_opt(2022, 4, 3).expect("a date"),),
        ]
    );
}

// ---------------------------------------------------------------------------------
// Concurrency and broken files

/// `rows` rows of 50 speakers, each with a rating.
fn plain_sheet(rows: usize) -> String {
    let mut text = csv_line(&["speaker", "date", "statement", "label"]);
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).expect("a date");
    for i in 0..rows {
        text.push_str(&csv_line(&[
            &format!("Speaker {}", i % 50),
            &(start + Days::new((i % 700) as u64)).to_string(),
            &format!("Plain statement number {i}"),
            ["false", "true", "half-true"][i % 3],
        ]));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_imports_of_one_file_at_once_give_what_one_gives() {
    let scratch = Scratch::new();
    let path = scratch.file("twice.csv", plain_sheet(2_000));
    let settings = spreadsheet(
        "speaker=speaker,text=statement,stated_on=date,rating=label",
        Some(SCALE),
        Some("PolitiFact"),
        None,
    );
    let once = TestDb::new().await;
    imported(&once, &path, &settings).await;

    let db = TestDb::new().await;
    let (a, b) = tokio::join!(
        import::file(pool(&db), &path, &settings, None),
        import::file(pool(&db), &path, &settings, None)
    );
    assert_eq!((a.error.as_deref(), b.error.as_deref()), (None, None));
    // Every row created once across both runs; the other run found it.
    assert_eq!(a.created + b.created, 2_000, "{}{}", a.human(), b.human());
    assert_eq!(a.unchanged + b.unchanged, 2_000);
    assert_eq!((a.merged, b.merged), (0, 0));
    assert_eq!(a.records.statements + b.records.statements, 2_000);
    assert_eq!(a.records.speakers + b.records.speakers, 50);
    assert_eq!(a.records.outlets + b.records.outlets, 1);
    assert_eq!(
        a.records.verdicts_created + b.records.verdicts_created,
        2_000
    );
    assert_eq!(counts(&db).await, counts(&once).await);
}

#[tokio::test]
async fn a_truncated_document_names_where_it_ends_and_writes_nothing() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    imported(
        &db,
        &claimreview_dir().join("61-uol_confere_raw.json"),
        &settings(),
    )
    .await;
    let before = counts(&db).await;

    // A pretty-printed document cut in half: it ends inside its last line.
    let whole =
        std::fs::read_to_string(claimreview_dir().join("27-newtral_fact_check_index_raw.json"))
            .expect("a fixture");
    let mut cut = whole.len() / 2;
    while !whole.is_char_boundary(cut) {
        cut -= 1;
    }
    let half = &whole[..cut];
    let path = scratch.file("half.json", half);
    let report = import_file(&db, &path, &settings()).await;
    let error = report.error.clone().expect("not imported");
    let last_line = half.matches('\n').count() + 1;
    assert!(
        error.contains(&format!("line {last_line}, column")),
        "{error}"
    );
    assert_eq!((report.created, report.records), (0, Default::default()));

    // JSON Lines whose last line was cut: the lines before it are not written either.
    let reviews: Vec<String> = three_reviews()
        .iter()
        .map(|r| serde_json::to_string(r).expect("JSON"))
        .collect();
    let lines = format!("{}\n{}\n{}", reviews[0], reviews[1], &reviews[2][..40]);
    let path = scratch.file("cut.jsonl", lines);
    let report = import_file(&db, &path, &settings()).await;
    let error = report.error.clone().expect("not imported");
    assert!(error.contains("line 3, column"), "{error}");

    // Not UTF-8.
    let mut bytes = reviews[0].clone().into_bytes();
    bytes.splice(10..10, [0xff, 0xfe]);
    let path = scratch.file("latin.json", bytes);
    let report = import_file(&db, &path, &settings()).await;
    assert_eq!(
        report.error.as_deref(),
        Some("not UTF-8: invalid byte at offset 10")
    );
    assert_eq!(counts(&db).await, before);
}

#[tokio::test]
async fn a_spreadsheet_that_stops_being_utf8_writes_none_of_its_rows() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    // Past the first batch: what was merged of the file is rolled back with it.
    let rows = import::BATCH + 2_000;
    let bad_row = import::BATCH + 1_500;
    let mut text = plain_sheet(rows).into_bytes();
    let needle = format!("Plain statement number {bad_row},");
    let at = text
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("the row");
    // "Plain statement n\xe9mber": Latin-1.
    text[at + 17] = 0xe9;
    let path = scratch.file("latin1.csv", text);
    let settings = spreadsheet(
        "speaker=speaker,text=statement,stated_on=date,rating=label",
        Some(SCALE),
        Some("PolitiFact"),
        None,
    );
    let report = import_file(&db, &path, &settings).await;
    let error = report.error.clone().expect("not imported");
    // The header is line 1; the row is the (bad_row + 1)-th record.
    let line = bad_row + 2;
    assert!(error.starts_with(&format!("line {line}: ")), "{error}");
    assert!(error.to_lowercase().contains("utf-8"), "{error}");
    assert_eq!((report.created, report.records), (0, Default::default()));
    assert!(counts(&db).await.iter().all(|(_, n)| *n == 0));
}

// ---------------------------------------------------------------------------------
// The command line

fn claimtrack(db: &TestDb, args: &[&str]) -> Output {
    Command::new(tests::claimtrack_binary())
        .args(args)
        .env("DATABASE_URL", db.url())
        .env_remove("CLAIMTRACK_DATA_DIR")
        .output()
        .expect("run claimtrack")
}

fn report_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("a report")).expect("a JSON report")
}

fn report_refusals(file: &Value) -> Vec<(u64, String)> {
    file["refusals"]
        .as_array()
        .expect("refusals")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("a line"),
                p["field"].as_str().expect("a field").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_command_imports_a_spreadsheet_and_a_dry_run_writes_nothing() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let sheet = politifact_sheet(10_000);
    let csv = scratch.file("politifact.csv", &sheet.text);
    let csv = csv.to_str().expect("a path");
    let run = |report: &Path, dry_run: bool| {
        let report = report.to_str().expect("a path");
        let mut args = vec![
            "import",
            "--map",
            MAP,
            "--scale",
            SCALE,
            "--reviewer",
            "PolitiFact",
            "--report",
            report,
        ];
        if dry_run {
            args.push("--dry-run");
        }
        args.push(csv);
        claimtrack(&db, &args)
    };
    let check = |output: &Output, report: &Value, dry_run: bool| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(report["dryRun"], dry_run);
        let files = report["files"].as_array().expect("files");
        assert_eq!(files.len(), 1);
        let file = &files[0];
        assert_eq!(file["format"], "csv");
        assert_eq!(
            (&file["read"], &file["created"], &file["refused"]),
            (&json!(10_000), &json!(sheet.good), &json!(100))
        );
        assert_eq!(file["records"]["statements"], sheet.good);
        assert_eq!(file["records"]["speakers"], sheet.speakers);
        assert_eq!(report_refusals(file), expected_refusals(&sheet));
        assert!(file.get("error").is_none());
    };

    let dry = scratch.path("dry.json");
    let output = run(&dry, true);
    check(&output, &report_json(&dry), true);
    assert!(
        counts(&db).await.iter().all(|(_, n)| *n == 0),
        "a dry run writes nothing"
    );

    let real = scratch.path("real.json");
    let output = run(&real, false);
    check(&output, &report_json(&real), false);
    assert_eq!(db.count("statement").await, sheet.good as i64);
    assert_eq!(db.count("verdict").await, sheet.good as i64);
}

#[tokio::test]
async fn the_command_imports_a_folder_and_fails_on_a_file_it_cannot_read() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let report = scratch.path("folder.json");
    let output = claimtrack(
        &db,
        &[
            "import",
            "--report",
            report.to_str().expect("a path"),
            claimreview_dir().to_str().expect("a path"),
        ],
    );
    assert!(
        output.status.success(),
        "a refused review fails no file: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files = report_json(&report)["files"]
        .as_array()
        .expect("files")
        .clone();
    assert_eq!(files.len(), 34);
    let total = |key: &str| {
        files
            .iter()
            .map(|f| f[key].as_u64().expect("a count"))
            .sum::<u64>()
    };
    assert_eq!(
        (
            total("read"),
            total("created"),
            total("unchanged"),
            total("refused")
        ),
        (34, 32, 1, 1)
    );
    assert_eq!(db.count("verdict").await, 32);
    let before = counts(&db).await;

    // A file cut short fails the command, with its report, and writes nothing.
    let whole =
        std::fs::read(claimreview_dir().join("datacommons-feed-item.json")).expect("a fixture");
    let cut = scratch.file("cut.json", &whole[..whole.len() - 20]);
    let good = scratch.file("good.csv", small_sheet());
    let report = scratch.path("cut-report.json");
    let output = claimtrack(
        &db,
        &[
            "import",
            "--report",
            report.to_str().expect("a path"),
            cut.to_str().expect("a path"),
        ],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("NOT IMPORTED"), "{stderr}");
    let file = &report_json(&report)["files"][0];
    let error = file["error"].as_str().expect("an error");
    assert!(error.contains("line 1, column"), "{error}");
    assert_eq!(counts(&db).await, before);
    // A spreadsheet without --map is a usage error before anything is read.
    let output = claimtrack(&db, &["import", good.to_str().expect("a path")]);
    assert!(!output.status.success());
    assert_eq!(counts(&db).await, before);
}

// ---------------------------------------------------------------------------------
// Export and import between databases

/// Answers compared between two databases: every record a client sees, ids included.
const SNAPSHOT: &[&str] = &[
    r#"{ speakers(first: 50) { totalCount edges { node {
        id name slug kind description wikidataId aliases createdAt updatedAt version
        roles { id title organization startedOn endedOn }
        statements(first: 20) { edges { node { id } } }
    } } } }"#,
    r#"{ statements(first: 100) { totalCount edges { node {
        id text kind statedOn statedOnPrecision statedTime venue context language createdAt updatedAt version
        speaker { id } reportedBy { id }
        stances { stance claim { id } }
        topics { id }
        appearances { id first excerpt createdAt version article { id url outlet { id } } }
        verdicts { id }
        links { id relation status note targetStatement { id } targetArticle { id } }
    } } } }"#,
    r#"{ verdicts(first: 100) { totalCount edges { node {
        id ratingLabel ratingValue bestRating worstRating score summary url publishedAt status
        createdAt updatedAt version statement { id } claim { id } reviewer { id }
    } } } }"#,
    r#"{ claims(first: 50) { totalCount edges { node {
        id text slug createdAt updatedAt version topics { id name slug parent { id } }
        positions { speaker { id } latest { stance statedOn statement { id } } positions changes }
        verdicts { id }
        statements(first: 20) { edges { node { id } } }
    } } } }"#,
    r#"{ outlets(first: 30) { totalCount edges { node {
        id name slug homepage country language createdAt updatedAt version
        articles(first: 10) { edges { node { id url title createdAt version statements(first: 5) { edges { node { id } } } } } }
    } } } }"#,
    r#"{ topics(first: 50) { totalCount edges { node { id name slug parentId createdAt version } } } }"#,
];

async fn snapshot(db: &TestDb) -> Vec<Value> {
    let mut out = Vec::new();
    for query in SNAPSHOT {
        out.push(db.ok(query, json!({})).await);
    }
    out
}

async fn export(db: &TestDb, selection: &Selection) -> Vec<u8> {
    let mut out = Vec::new();
    exchange::export(pool(db), selection, &mut out, &|_| {})
        .await
        .expect("export");
    out
}

async fn ok_id(db: &TestDb, query: &str, vars: Value) -> String {
    let data = db.ok(query, vars).await;
    let payload = data
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|p| p.as_object())
        .and_then(|p| p.values().next())
        .unwrap_or_else(|| panic!("no record in {data}"));
    payload["id"].as_str().expect("an id").to_owned()
}

/// The statement id of the review at `url`.
async fn statement_at(db: &TestDb, url: &str) -> String {
    let found: Vec<(String,)> = rows(
        db,
        &format!("SELECT statement_id::text FROM verdict WHERE url = '{url}'"),
    )
    .await;
    found[0].0.clone()
}

/// Imported reviews and a spreadsheet, then what editors add: topics, a claim with
/// stances, a link, a role, aliases, a draft verdict, and a statement deleted.
async fn edited_world(db: &TestDb) {
    let scratch = Scratch::new();
    for path in fixture_paths() {
        imported(db, &path, &settings()).await;
    }
    let sheet = scratch.file("sheet.csv", small_sheet());
    imported(
        db,
        &sheet,
        &spreadsheet(MAP, Some(SCALE), Some("PolitiFact"), None),
    )
    .await;

    let economy = db
        .created(r#"mutation { createTopic(input: { name: "Economy" }) { topic { id } } }"#)
        .await;
    let poverty = ok_id(
        db,
        "mutation($p: ID!) { createTopic(input: { name: \"Poverty\", parentId: $p }) { topic { id } } }",
        json!({ "p": economy }),
    )
    .await;
    let claim = ok_id(
        db,
        "mutation($t: ID!) { createClaim(input: { text: \"Poverty rose in Spain\", topicIds: [$t] }) { claim { id } } }",
        json!({ "t": poverty }),
    )
    .await;
    let albiach = statement_at(
        db,
        "https://www.newtral.es/pobreza-trabajo-cataluna-factcheck/20221008/",
    )
    .await;
    let espinosa = statement_at(
        db,
        "https://www.newtral.es/espana-europa-pobreza-espinosa-de-los-monteros-vox-factcheck/20221006/",
    )
    .await;
    let update = "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id version } } }";
    for (id, stance) in [(&albiach, "SUPPORTS"), (&espinosa, "SUPPORTS")] {
        db.ok(
            update,
            json!({ "input": { "id": id, "version": 1, "stances": [{ "claimId": claim, "stance": stance }], "topicIds": [economy] } }),
        )
        .await;
    }
    db.ok(
        "mutation($s: ID!, $t: ID!) { createLink(input: { sourceStatementId: $s, targetStatementId: $t, relation: CORROBORATES, note: \"Same figures\" }) { link { id } } }",
        json!({ "s": albiach, "t": espinosa }),
    )
    .await;
    let ada: Vec<(String, i32)> = rows(
        db,
        "SELECT id::text, version FROM speaker WHERE slug = 'ada-example'",
    )
    .await;
    db.ok(
        "mutation($id: ID!, $v: Int!) { updateSpeaker(input: { id: $id, version: $v, aliases: [\"A. Example\"], wikidataId: \"Q4115189\" }) { speaker { id } } }",
        json!({ "id": ada[0].0, "v": ada[0].1 }),
    )
    .await;
    db.ok(
        "mutation($id: ID!) { createSpeakerRole(input: { speakerId: $id, title: \"Mayor\", organization: \"Example City\", startedOn: \"2020-01-01\" }) { speakerRole { id } } }",
        json!({ "id": ada[0].0 }),
    )
    .await;
    let newtral: Vec<(String,)> =
        rows(db, "SELECT id::text FROM outlet WHERE slug = 'newtral'").await;
    db.ok(
        "mutation($s: ID!, $o: ID!) { createVerdict(input: { statementId: $s, reviewerId: $o, ratingLabel: \"Engañoso\", summary: \"A second look\" }) { verdict { id } } }",
        json!({ "s": albiach, "o": newtral[0].0 }),
    )
    .await;
    // A statement without a verdict, given a stance, a topic and an appearance, then
    // deleted.
    let unrated: Vec<(String,)> = rows(
        db,
        "SELECT id::text FROM statement WHERE text = 'Says nothing rated here.'",
    )
    .await;
    let unrated = &unrated[0].0;
    db.ok(
        update,
        json!({ "input": { "id": unrated, "version": 1, "stances": [{ "claimId": claim, "stance": "OPPOSES" }], "topicIds": [economy] } }),
    )
    .await;
    let article: Vec<(String,)> =
        rows(db, "SELECT id::text FROM article ORDER BY url LIMIT 1").await;
    db.ok(
        "mutation($s: ID!, $a: ID!) { addAppearance(input: { statementId: $s, articleId: $a, first: true }) { appearance { id } } }",
        json!({ "s": unrated, "a": article[0].0 }),
    )
    .await;
    db.ok(
        "mutation($id: ID!) { deleteStatement(input: { id: $id, version: 2 }) { deletedId } }",
        json!({ "id": unrated }),
    )
    .await;
}

#[tokio::test]
async fn an_export_imported_into_an_empty_database_answers_as_the_original() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    edited_world(&a).await;
    let exported = export(&a, &Selection::default()).await;
    let text = String::from_utf8(exported.clone()).expect("UTF-8");
    let lines = text.lines().count() as u64;
    assert!(text.lines().all(exchange::is_own_line));
    let scratch = Scratch::new();
    let path = scratch.file("export.jsonl", &exported);

    let report = imported(&b, &path, &settings()).await;
    assert_eq!(report.format, Some(Format::Jsonl));
    assert_eq!(report.refusals, [], "{}", report.human());
    assert_eq!((report.read, report.created), (lines, lines));
    assert_eq!(snapshot(&b).await, snapshot(&a).await);
    assert_eq!(export(&b, &Selection::default()).await, exported);
    // Every live record travels; the appearance of the deleted statement does not.
    let live = |table: &str| format!("SELECT count(*) FROM {table} WHERE deleted_at IS NULL");
    for table in [
        "speaker",
        "speaker_role",
        "outlet",
        "article",
        "topic",
        "claim",
        "statement",
        "verdict",
        "link",
    ] {
        assert_eq!(
            count(&b, &live(table)).await,
            count(&a, &live(table)).await,
            "{table}"
        );
    }
    let appearances = "SELECT count(*) FROM appearance x JOIN statement s ON s.id = x.statement_id \
                       WHERE x.deleted_at IS NULL AND s.deleted_at IS NULL";
    assert_eq!(count(&b, appearances).await, count(&a, appearances).await);
    assert_eq!(
        count(&b, "SELECT count(*) FROM stance").await,
        count(&a, "SELECT count(*) FROM stance").await - 1
    );

    // Again: everything is there already.
    let before = counts(&b).await;
    let again = imported(&b, &path, &settings()).await;
    assert_eq!(
        (again.created, again.merged, again.unchanged, again.refused),
        (0, 0, lines, 0),
        "{}",
        again.human()
    );
    assert_eq!(counts(&b).await, before);

    // The command writes what the library writes.
    let out = scratch.path("cli.jsonl");
    let output = claimtrack(&a, &["export", "-o", out.to_str().expect("a path")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(std::fs::read(&out).expect("the export"), exported);
}

#[tokio::test]
async fn a_later_export_brings_the_records_changed_since_up_to_date() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    let speaker = a
        .created(r#"mutation { createSpeaker(input: { name: "Ada Example", kind: PERSON }) { speaker { id } } }"#)
        .await;
    let first = a
        .created(r#"mutation { createClaim(input: { text: "The bridge will open in May" }) { claim { id } } }"#)
        .await;
    let second = a
        .created(r#"mutation { createClaim(input: { text: "The bridge will cost less" }) { claim { id } } }"#)
        .await;
    let statement = ok_id(
        &a,
        "mutation($input: CreateStatementInput!) { createStatement(input: $input) { statement { id } } }",
        json!({ "input": {
            "speakerId": speaker, "text": "It opens in May.", "kind": "QUOTE", "statedOn": "2020-03-01",
            "language": "en", "stances": [{ "claimId": first, "stance": "SUPPORTS" }],
        } }),
    )
    .await;
    let scratch = Scratch::new();
    let path = scratch.file("first.jsonl", export(&a, &Selection::default()).await);
    imported(&b, &path, &settings()).await;

    // Edited in the first database: new words, the stance moved to the other claim.
    a.ok(
        "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id } } }",
        json!({ "input": { "id": statement, "version": 1, "text": "It opens in June, and costs less.",
                           "stances": [{ "claimId": second, "stance": "SUPPORTS" }] } }),
    )
    .await;
    let path = scratch.file("second.jsonl", export(&a, &Selection::default()).await);
    let report = imported(&b, &path, &settings()).await;
    assert_eq!(report.refusals, [], "{}", report.human());
    assert_eq!(report.merged, 1, "{}", report.human());
    let query = r#"query($id: ID!) { statement(id: $id) { text version stances { stance claim { id } } } }"#;
    let vars = json!({ "id": statement });
    assert_eq!(b.ok(query, vars.clone()).await, a.ok(query, vars).await);
    // Its revision records it with its stances: as of now, it is what it is.
    let updates: Vec<(i32, Value, Value)> = rows(
        &b,
        &format!(
            "SELECT version, before->'stances', after->'stances' FROM revision \
             WHERE entity_id = '{statement}' AND action = 'UPDATE'"
        ),
    )
    .await;
    assert_eq!(
        updates,
        [(
            2,
            json!([{ "claim_id": first, "stance": "SUPPORTS" }]),
            json!([{ "claim_id": second, "stance": "SUPPORTS" }])
        )]
    );
    let as_of = r#"query($id: ID!, $at: DateTime!) { statement(id: $id, asOf: $at) { text version stances { stance claim { id } } } }"#;
    let vars = json!({ "id": statement, "at": instant().await });
    assert_eq!(
        b.ok(as_of, vars).await["statement"],
        a.ok(query, json!({ "id": statement })).await["statement"]
    );
}

#[tokio::test]
async fn an_export_of_one_speaker_carries_what_its_statements_need() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    edited_world(&a).await;
    let selection = Selection {
        speakers: vec!["jessica-albiach".into()],
        ..Selection::default()
    };
    let exported = export(&a, &selection).await;
    let scratch = Scratch::new();
    let path = scratch.file("albiach.jsonl", &exported);
    let report = imported(&b, &path, &settings()).await;
    assert_eq!(report.refusals, [], "{}", report.human());
    let query = r#"{ speaker(slug: "jessica-albiach") { id name statements(first: 10) { edges { node {
        id text stances { stance claim { id text topics { id name parent { id name } } } }
        topics { id } verdicts { id ratingLabel status reviewer { id name } }
    } } } } }"#;
    assert_eq!(b.ok(query, json!({})).await, a.ok(query, json!({})).await);
    assert_eq!(b.count("speaker").await, 1);
}

// ---------------------------------------------------------------------------------
// History of imported records

#[tokio::test]
async fn imported_statements_exist_as_of_the_import_and_not_before() {
    let db = TestDb::new().await;
    let scratch = Scratch::new();
    let sheet = scratch.file("sheet.csv", small_sheet());
    let before = instant().await;
    imported(
        &db,
        &sheet,
        &spreadsheet(MAP, Some(SCALE), Some("PolitiFact"), None),
    )
    .await;
    imported(
        &db,
        &claimreview_dir().join("43-newtral_fakes_index_raw.json"),
        &settings(),
    )
    .await;
    let after = instant().await;

    let ids: Vec<(String, String, String)> = rows(
        &db,
        "SELECT s.id::text, s.text, p.id::text FROM statement s JOIN speaker p ON p.id = s.speaker_id \
         WHERE p.slug = 'ada-example' ORDER BY s.stated_on",
    )
    .await;
    let speaker = &ids[0].2;
    let query = r#"query($s: ID!, $id: ID!, $at: DateTime!) {
        statements(asOf: $at, filter: { speakerIds: [$s] }) { totalCount edges { node { id text } } }
        statement(id: $id, asOf: $at) { text version }
        speaker(id: $s, asOf: $at) { name slug }
        timeline(asOf: $at, filter: { speakerIds: [$s] }) { totalCount }
    }"#;
    let vars = |at: &str| json!({ "s": speaker, "id": ids[0].0, "at": at });
    let then = db.ok(query, vars(&before)).await;
    assert_eq!(then["statements"]["totalCount"], 0);
    assert!(then["statement"].is_null());
    assert!(then["speaker"].is_null());
    assert_eq!(then["timeline"]["totalCount"], 0);

    let now = db.ok(query, vars(&after)).await;
    let texts: Vec<&str> = now["statements"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["text"].as_str().expect("a text"))
        .collect();
    let expected: Vec<&str> = ids.iter().map(|(_, text, _)| text.as_str()).collect();
    assert_eq!(texts, expected);
    assert_eq!(now["statement"], json!({ "text": ids[0].1, "version": 1 }));
    assert_eq!(
        now["speaker"],
        json!({ "name": "Ada Example", "slug": "ada-example" })
    );
    // Three statements, each with its published verdict.
    assert_eq!(now["timeline"]["totalCount"], 6);

    let claim: Vec<(String, String)> = rows(&db, "SELECT id::text, text FROM claim").await;
    let claim_at = "query($id: ID!, $at: DateTime!) { claim(id: $id, asOf: $at) { text } }";
    let at = |t: &str| json!({ "id": claim[0].0, "at": t });
    assert!(db.ok(claim_at, at(&before)).await["claim"].is_null());
    assert_eq!(
        db.ok(claim_at, at(&after)).await["claim"]["text"],
        claim[0].1
    );
}

#[tokio::test]
async fn positions_imported_with_their_statements_have_a_history_from_the_import_on() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    let speaker = a
        .created(r#"mutation { createSpeaker(input: { name: "Ada Example", kind: PERSON }) { speaker { id } } }"#)
        .await;
    let claim = a
        .created(r#"mutation { createClaim(input: { text: "The bridge will open in May" }) { claim { id } } }"#)
        .await;
    for (day, stance) in [
        ("2020-03-01", "SUPPORTS"),
        ("2020-04-01", "OPPOSES"),
        ("2020-05-01", "SUPPORTS"),
    ] {
        a.ok(
            "mutation($input: CreateStatementInput!) { createStatement(input: $input) { statement { id } } }",
            json!({ "input": {
                "speakerId": speaker, "text": format!("{stance} as of {day}"), "kind": "QUOTE",
                "statedOn": day, "language": "en", "stances": [{ "claimId": claim, "stance": stance }],
            } }),
        )
        .await;
    }
    let scratch = Scratch::new();
    let path = scratch.file("positions.jsonl", export(&a, &Selection::default()).await);
    let before = instant().await;
    imported(&b, &path, &settings()).await;
    let after = instant().await;

    let history = r#"query($s: ID!, $c: ID!, $at: DateTime) {
        positionHistory(speakerId: $s, claimId: $c, asOf: $at) { stance statedOn statement { id text } }
    }"#;
    let at = |t: Option<&str>| json!({ "s": speaker, "c": claim, "at": t });
    let original = a.ok(history, at(None)).await["positionHistory"].clone();
    let stances: Vec<&str> = original
        .as_array()
        .expect("positions")
        .iter()
        .map(|p| p["stance"].as_str().expect("a stance"))
        .collect();
    assert_eq!(stances, ["SUPPORTS", "OPPOSES", "SUPPORTS"]);
    assert_eq!(b.ok(history, at(None)).await["positionHistory"], original);
    assert_eq!(
        b.ok(history, at(Some(&after))).await["positionHistory"],
        original
    );
    assert_eq!(
        b.ok(history, at(Some(&before))).await["positionHistory"],
        json!([])
    );
}

// ---------------------------------------------------------------------------------
// The ClaimReview feed

/// (review address, rating, reviewer, speaker, statement or claim, day published)
type FeedVerdict = (String, String, String, Option<String>, String, String);

const FEED_VERDICTS: &str = "SELECT v.url, v.rating_label, o.name, p.name, coalesce(s.text, c.text), \
     to_char(v.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM verdict v \
     JOIN outlet o ON o.id = v.reviewer_id LEFT JOIN statement s ON s.id = v.statement_id \
     LEFT JOIN speaker p ON p.id = s.speaker_id LEFT JOIN claim c ON c.id = v.claim_id";

#[tokio::test]
async fn the_claimreview_feed_lists_every_published_review_and_imports_back() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    for path in fixture_paths() {
        imported(&a, &path, &settings()).await;
    }
    let mut out = Vec::new();
    let n = exchange::export_feed(pool(&a), None, &mut out)
        .await
        .expect("the feed");
    let feed: Value = serde_json::from_slice(&out).expect("the feed is JSON");
    assert_eq!(feed["@type"], "DataFeed");
    assert_eq!(feed["@context"], "https://schema.org");
    let elements = feed["dataFeedElement"].as_array().expect("elements");
    assert_eq!((n, elements.len()), (32, 32));

    let mut verdicts: Vec<FeedVerdict> = rows(&a, FEED_VERDICTS).await;
    verdicts.sort();
    let mut listed = Vec::new();
    for element in elements {
        assert_eq!(element["@type"], "DataFeedItem");
        let items = element["item"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        let review = &items[0];
        assert_eq!(review["@type"], "ClaimReview");
        assert_eq!(review["itemReviewed"]["@type"], "Claim");
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("{review:#}"))
        };
        listed.push((
            text(&review["url"]),
            text(&review["reviewRating"]["alternateName"]),
            text(&review["author"]["name"]),
            review["itemReviewed"]["author"]["name"]
                .as_str()
                .map(str::to_owned),
            text(&review["claimReviewed"]),
            text(&review["datePublished"]),
        ));
    }
    listed.sort();
    assert_eq!(listed, verdicts);

    // The feed is ClaimReview like any other: imported, it gives the same reviews.
    let scratch = Scratch::new();
    let path = scratch.file("feed.json", &out);
    let report = imported(&b, &path, &settings()).await;
    assert_eq!(report.format, Some(Format::Claimreview));
    assert_eq!((report.read, report.created, report.refused), (32, 32, 0));
    let mut again: Vec<FeedVerdict> = rows(&b, FEED_VERDICTS).await;
    again.sort();
    assert_eq!(again, verdicts);
    for table in ["statement", "claim", "speaker", "verdict", "appearance"] {
        assert_eq!(b.count(table).await, a.count(table).await, "{table}");
    }
    let days = "SELECT string_agg(s.stated_on::text || p.slug, ',' ORDER BY s.stated_on, p.slug) \
                FROM statement s JOIN speaker p ON p.id = s.speaker_id";
    assert_eq!(
        tests::scalar::<String>(b.db(), days).await,
        tests::scalar::<String>(a.db(), days).await
    );

    // From a day on: the reviews published since.
    let since = chrono::DateTime::parse_from_rfc3339("2022-01-01T00:00:00Z")
        .expect("an instant")
        .to_utc();
    let mut recent = Vec::new();
    let n = exchange::export_feed(pool(&a), Some(since), &mut recent)
        .await
        .expect("the feed");
    let expected = count(
        &a,
        "SELECT count(*) FROM verdict WHERE published_at >= '2022-01-01T00:00:00Z'",
    )
    .await;
    assert_eq!(n as i64, expected);
    assert!(expected > 0 && expected < 32);
}

#[tokio::test]
async fn a_speakers_wikidata_id_survives_the_claimreview_feed() {
    let (a, b) = (TestDb::new().await, TestDb::new().await);
    imported(
        &a,
        &claimreview_dir().join("61-uol_confere_raw.json"),
        &settings(),
    )
    .await;
    let speaker: Vec<(String, i32)> = rows(&a, "SELECT id::text, version FROM speaker").await;
    a.ok(
        "mutation($id: ID!, $v: Int!) { updateSpeaker(input: { id: $id, version: $v, wikidataId: \"Q10304982\" }) { speaker { id } } }",
        json!({ "id": speaker[0].0, "v": speaker[0].1 }),
    )
    .await;
    let mut out = Vec::new();
    exchange::export_feed(pool(&a), None, &mut out)
        .await
        .expect("the feed");
    let scratch = Scratch::new();
    imported(&b, &scratch.file("feed.json", &out), &settings()).await;
    let found: Vec<(String, Option<String>)> =
        rows(&b, "SELECT name, wikidata_id FROM speaker").await;
    assert_eq!(
        found,
        [("Jair Bolsonaro".to_owned(), Some("Q10304982".to_owned()))],
        "{}",
        String::from_utf8_lossy(&out)
    );
}

// ---------------------------------------------------------------------------------
// The importClaimReview mutation

const IMPORT: &str = r#"mutation($document: JSON!, $dryRun: Boolean = false) {
    importClaimReview(document: $document, dryRun: $dryRun) {
        read created merged unchanged refused dryRun
        refusals { line pointer field reason }
        unreadable { line pointer field reason }
        unmapped { field count }
        records { speakers outlets articles statements claims appearances verdictsCreated verdictsUpdated }
    }
}"#;

async fn viewer(db: &TestDb, role: ApiRole) -> Viewer {
    let token = db.key(role).await;
    KeyStore::new(db.db().clone())
        .authenticate(&token)
        .await
        .expect("a new key is accepted")
}

/// A DataFeed of three reviews, one of which names no reviewer.
fn mutation_document() -> Value {
    let [a, _, c] = three_reviews();
    let estadao = fixture("19-estadao_raw.json");
    let data_commons = fixture("datacommons-feed-item.json");
    json!({
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            { "@type": "DataFeedItem", "item": [a, c] },
            { "@type": "DataFeedItem", "item": [estadao] },
            data_commons,
        ],
    })
}

#[tokio::test]
async fn an_editor_imports_a_claimreview_document_through_the_api() {
    let db = TestDb::new().await;
    let editor = viewer(&db, ApiRole::Editor).await;
    let key = editor.key.as_ref().expect("a key").key_id;
    let document = mutation_document();
    let before = counts(&db).await;

    let dry = db
        .exec_as(
            editor.clone(),
            IMPORT,
            json!({ "document": document, "dryRun": true }),
        )
        .await;
    assert!(dry.get("errors").is_none(), "{dry:#}");
    let dry = &dry["data"]["importClaimReview"];
    assert_eq!(counts(&db).await, before, "a dry run writes nothing");

    let response = db
        .exec_as(editor, IMPORT, json!({ "document": document }))
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
    let report = &response["data"]["importClaimReview"];
    assert_eq!(
        (
            &report["read"],
            &report["created"],
            &report["refused"],
            &report["dryRun"]
        ),
        (&json!(4), &json!(3), &json!(1), &json!(false))
    );
    assert_eq!(report["refusals"][0]["field"], "author");
    assert_eq!(
        report["refusals"][0]["pointer"],
        "/dataFeedElement/1/item/0/author"
    );
    assert_eq!(
        report["records"],
        json!({ "speakers": 2, "outlets": 4, "articles": 1, "statements": 2, "claims": 1,
                "appearances": 1, "verdictsCreated": 3, "verdictsUpdated": 0 })
    );
    let unmapped: BTreeMap<&str, u64> = report["unmapped"]
        .as_array()
        .expect("unmapped")
        .iter()
        .map(|u| {
            (
                u["field"].as_str().expect("a field"),
                u["count"].as_u64().expect("a count"),
            )
        })
        .collect();
    assert_eq!(unmapped.get("sdPublisher"), Some(&1));
    // The dry run reported what the run did.
    for field in [
        "read",
        "created",
        "merged",
        "unchanged",
        "refused",
        "records",
    ] {
        assert_eq!(dry[field], report[field], "{field}");
    }
    assert_eq!(dry["dryRun"], true);

    assert_eq!(db.count("verdict").await, 3);
    let written = counts(&db).await;
    let revisions = count(
        &db,
        "SELECT count(*) FROM revision WHERE entity_type <> 'api_key'",
    )
    .await;
    let editors = count(
        &db,
        &format!("SELECT count(*) FROM revision WHERE actor_key_id = '{key}'"),
    )
    .await;
    let records: i64 = report["records"]
        .as_object()
        .expect("records")
        .values()
        .map(|n| n.as_i64().expect("a count"))
        .sum();
    assert_eq!(
        (editors, revisions),
        (records, records),
        "a CREATE revision of each record, by the editor's key"
    );

    // The same document again changes nothing.
    let response = db
        .exec_as(
            viewer(&db, ApiRole::Editor).await,
            IMPORT,
            json!({ "document": document }),
        )
        .await;
    let again = &response["data"]["importClaimReview"];
    assert_eq!(
        (
            &again["created"],
            &again["merged"],
            &again["unchanged"],
            &again["refused"]
        ),
        (&json!(0), &json!(0), &json!(3), &json!(1)),
        "{response:#}"
    );
    let mut now = counts(&db).await;
    let mut expected = written;
    // The second key's own revision aside.
    for c in [&mut now, &mut expected] {
        c.retain(|(table, _)| *table != "revision");
    }
    assert_eq!(now, expected);
}

#[tokio::test]
async fn an_import_through_the_api_is_refused_while_another_import_runs() {
    let db = TestDb::new().await;
    let editor = viewer(&db, ApiRole::Editor).await;
    let before = counts(&db).await;
    // A bulk import holding the import lock, as `claimtrack import` does.
    let mut bulk = pool(&db).begin().await.expect("a transaction");
    sqlx::raw_sql("SELECT pg_advisory_xact_lock(hashtextextended('claimtrack import', 0))")
        .execute(&mut *bulk)
        .await
        .expect("the import lock");
    let started = std::time::Instant::now();
    let response = db
        .exec_as(
            editor.clone(),
            IMPORT,
            json!({ "document": mutation_document() }),
        )
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "CONFLICT",
        "{response:#}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(4));
    assert_eq!(counts(&db).await, before);

    // Once it is done, the request goes through.
    bulk.rollback().await.expect("rollback");
    let response = db
        .exec_as(editor, IMPORT, json!({ "document": mutation_document() }))
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
    assert_eq!(response["data"]["importClaimReview"]["created"], 3);
}

#[tokio::test]
async fn a_reader_may_not_import_through_the_api() {
    let db = TestDb::new().await;
    let reader = viewer(&db, ApiRole::Reader).await;
    let before = counts(&db).await;
    let response = db
        .exec_as(reader, IMPORT, json!({ "document": mutation_document() }))
        .await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{response:#}"
    );
    assert_eq!(counts(&db).await, before);
}

#[tokio::test]
async fn a_claim_nobody_is_named_for_keeps_no_articles_and_the_report_says_so() {
    let db = TestDb::new().await;
    let document = json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://factcheck.example.org/2024/moon-cheese",
        "datePublished": "2024-03-01",
        "author": { "@type": "Organization", "name": "Example Checks" },
        "claimReviewed": "The moon is made of cheese.",
        "itemReviewed": {
            "@type": "Claim",
            "appearance": ["https://social.example.com/posts/1", { "@type": "CreativeWork", "url": "https://blog.example.net/moon" }]
        },
        "reviewRating": { "@type": "Rating", "alternateName": "False" }
    });
    let report = import::document(pool(&db), &document, "en", false, None)
        .await
        .expect("imported");
    assert_eq!((report.read, report.created, report.refused), (1, 1, 0));
    assert_eq!(report.records.claims, 1);
    assert_eq!(report.records.articles, 0);
    assert_eq!(db.count("article").await, 0);
    assert_eq!(db.count("outlet").await, 1, "the reviewer only");
    assert_eq!(
        report
            .unmapped
            .get("itemReviewed.appearance (of a claim nobody is named for)"),
        Some(&1),
        "{:?}",
        report.unmapped
    );
}
