//! `claimtrack import`: files of fact-checks read, turned into [`Fact`]s and merged a
//! batch at a time, each file in one transaction (a file that turns out unreadable
//! writes nothing), with a report that accounts for every row.
//!
//! The format is told from the content (`--format` forces it): JSON whose first line
//! is a record of ClaimTrack's own export is that; other JSON or JSON Lines is
//! ClaimReview; anything else is a spreadsheet (CSV, read through `--map`).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tracing::info;
use uuid::Uuid;

use super::claimreview::{self, Party, PartyKind, Review};
use super::merge::{self, Fact, Merge, Outcome, Outlet, Person, Records};
use super::table::{self, Field};
use super::{Rating, When, exchange};
use crate::error::ApiError;
use crate::service::validate::{self, MAX_LONG_TEXT, MAX_NAME, MAX_STATEMENT_TEXT};
use crate::service::verdict::{DEFAULT_BEST_RATING, DEFAULT_WORST_RATING, MAX_RATING_LABEL};
use entity::{DatePrecision, SpeakerKind, StatementKind};

/// Rows merged per batch: large enough for set-based statements to pay off, small
/// enough that a batch's staging tables stay in memory.
pub const BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// ClaimReview JSON-LD: an object, an array, an `@graph`, a DataFeed, a Google
    /// Fact Check Tools response, or JSON Lines of these.
    Claimreview,
    /// A spreadsheet with a header row, read through `--map`.
    Csv,
    /// JSON Lines as `claimtrack export` writes them.
    Jsonl,
}

/// How to read and write what is imported.
#[derive(Debug, Clone)]
pub struct Settings {
    pub format: Option<Format>,
    pub csv: Option<table::Options>,
    /// The reviewing outlet of every row of a spreadsheet.
    pub reviewer: Option<String>,
    /// The language of statements whose source names none.
    pub language: String,
    pub dry_run: bool,
    /// Show a progress bar (on a terminal) or log progress lines.
    pub progress: bool,
}

/// Something wrong with one row or field, where it stands in its file: a refused row,
/// or a field that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "ImportProblem")]
pub struct Problem {
    /// The line of a spreadsheet or JSON Lines file (1-based; a row spanning lines is
    /// named by its first); null for one JSON document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// JSON pointer (RFC 6901) to the review or field at fault in a JSON document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The field at fault: a source field (`reviewRating`, `author`, `claimReviewed`)
    /// or a mapped spreadsheet field (`stated_on`, `rating`).
    pub field: String,
    /// Why the row was refused or the field could not be read, in words.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, &self.pointer) {
            (Some(line), Some(p)) => write!(f, "line {line}, {p}")?,
            (Some(line), None) => write!(f, "line {line}")?,
            (None, Some(p)) => write!(f, "{p}")?,
            (None, None) => f.write_str("-")?,
        }
        write!(f, ": {}: {}", self.field, self.reason)
    }
}

/// What importing one file (or one document, over GraphQL) did: every row accounted for.
#[derive(Debug, Clone, Default, Serialize, async_graphql::SimpleObject)]
#[graphql(name = "ImportReport", complex)]
pub struct FileReport {
    #[graphql(skip)]
    pub file: String,
    #[graphql(skip)]
    pub format: Option<Format>,
    /// Rows (reviews, records) read.
    pub read: u64,
    /// Rows whose statement (or claim) was new.
    pub created: u64,
    /// Rows whose statement or claim was already known and that added or changed a
    /// verdict or an appearance.
    pub merged: u64,
    /// Rows that changed nothing: everything in them was already recorded.
    pub unchanged: u64,
    /// Rows not taken; `refusals` says why, one entry each.
    pub refused: u64,
    /// Each refused row, and why.
    pub refusals: Vec<Problem>,
    /// Fields that were there but could not be read; their rows were taken without them.
    pub unreadable: Vec<Problem>,
    /// Source fields ClaimTrack has no place for, with how often each was seen.
    #[graphql(skip)]
    pub unmapped: BTreeMap<String, u64>,
    /// Records created or changed, by kind; on a dry run, those that would have been.
    pub records: Records,
    /// Why the file was not imported at all; nothing of it was written then.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[graphql(skip)]
    pub error: Option<String>,
    /// True when nothing was written (`--dry-run`, `dryRun: true`).
    pub dry_run: bool,
    #[graphql(skip)]
    pub seconds: f64,
}

/// A source field with no place in ClaimTrack, as a dotted path below the review
/// (array positions as `*`), or a spreadsheet column no field is mapped from.
#[derive(async_graphql::SimpleObject)]
pub struct UnmappedField {
    /// The source field as a dotted path below the review, array positions as `*`
    /// (`itemReviewed.author.image`), or the name of a spreadsheet column.
    pub field: String,
    /// How many rows had it.
    pub count: u64,
}

#[async_graphql::ComplexObject]
impl FileReport {
    /// Source fields ClaimTrack has no place for (dropped), with how many rows had each.
    async fn unmapped(&self) -> Vec<UnmappedField> {
        self.unmapped
            .iter()
            .map(|(field, count)| UnmappedField {
                field: field.clone(),
                count: *count,
            })
            .collect()
    }
}

impl FileReport {
    fn add(&mut self, outcome: Outcome) {
        self.created += outcome.created;
        self.merged += outcome.merged;
        self.unchanged += outcome.unchanged;
        let mut total = Outcome {
            records: self.records,
            ..Outcome::default()
        };
        total += outcome;
        self.records = total.records;
    }

    /// Whether the import wrote anything.
    pub fn wrote(&self) -> bool {
        self.created > 0 || self.merged > 0 || self.records != Records::default()
    }

    fn refuse(&mut self, problem: Problem) {
        self.refused += 1;
        self.refusals.push(problem);
    }

    /// The report of a file none of which was written.
    fn failed(&mut self, error: String) {
        self.error = Some(error);
        self.created = 0;
        self.merged = 0;
        self.unchanged = 0;
        self.records = Records::default();
    }

    /// Most refusals printed on the terminal; `--report` has them all.
    const SHOWN: usize = 100;

    /// The report as people read it.
    pub fn human(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let format = self
            .format
            .map(|f| format!("{f:?}").to_lowercase())
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(out, "{} ({format}):", self.file);
        if let Some(error) = &self.error {
            let _ = writeln!(out, "  NOT IMPORTED, nothing written: {error}");
            return out;
        }
        let _ = writeln!(
            out,
            "  {} read, {} created, {} merged, {} unchanged, {} refused{} in {:.1} s",
            self.read,
            self.created,
            self.merged,
            self.unchanged,
            self.refused,
            if self.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            },
            self.seconds
        );
        let r = &self.records;
        let _ = writeln!(
            out,
            "  records: {} speakers, {} outlets, {} articles, {} statements, {} claims, {} appearances, \
             {} verdicts created, {} verdicts updated",
            r.speakers,
            r.outlets,
            r.articles,
            r.statements,
            r.claims,
            r.appearances,
            r.verdicts_created,
            r.verdicts_updated
        );
        for problem in self.refusals.iter().take(Self::SHOWN) {
            let _ = writeln!(out, "  refused {problem}");
        }
        if self.refusals.len() > Self::SHOWN {
            let _ = writeln!(
                out,
                "  … and {} more refused (--report FILE lists them all)",
                self.refusals.len() - Self::SHOWN
            );
        }
        for problem in self.unreadable.iter().take(Self::SHOWN) {
            let _ = writeln!(out, "  unreadable, left out: {problem}");
        }
        if !self.unmapped.is_empty() {
            let fields: Vec<String> = self
                .unmapped
                .iter()
                .map(|(field, n)| format!("{field} ({n})"))
                .collect();
            let _ = writeln!(
                out,
                "  not imported (no place in ClaimTrack): {}",
                fields.join(", ")
            );
        }
        out
    }
}

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Csv(#[from] table::BadFile),
    #[error("{0}")]
    Json(#[from] claimreview::BadFile),
    #[error("{0}")]
    Own(String),
    #[error("{0}")]
    Usage(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The files named, folders replaced by the files in them (sorted, recursively).
pub fn expand(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?;
            entries.sort();
            entries.retain(|p| {
                p.is_dir()
                    || p.extension().is_some_and(|e| {
                        ["json", "jsonl", "ndjson", "csv", "tsv"].contains(&&*e.to_string_lossy())
                    })
            });
            out.extend(expand(&entries)?);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// The format of a file from its first bytes: JSON is ClaimTrack's own export when its
/// first line is one of its records, else ClaimReview; anything else is a spreadsheet.
pub fn detect(head: &[u8]) -> Format {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') || text.starts_with('[') {
        let first = text.lines().next().unwrap_or_default();
        if exchange::is_own_line(first) {
            return Format::Jsonl;
        }
        return Format::Claimreview;
    }
    Format::Csv
}

/// Imports one file.
pub async fn file(
    pool: &sqlx::PgPool,
    path: &Path,
    settings: &Settings,
    actor: Option<Uuid>,
) -> FileReport {
    let started = Instant::now();
    let mut report = FileReport {
        file: path.display().to_string(),
        dry_run: settings.dry_run,
        ..FileReport::default()
    };
    let result = async {
        let mut head = vec![0; 64 * 1024];
        let n = std::fs::File::open(path)?.read(&mut head)?;
        head.truncate(n);
        let format = settings.format.unwrap_or_else(|| detect(&head));
        report.format = Some(format);
        match format {
            Format::Csv => csv(pool, path, settings, actor, &mut report).await,
            Format::Claimreview => {
                let bytes = std::fs::read(path)?;
                let items = claimreview::read(&bytes)?;
                reviews(pool, items, settings, actor, true, &mut report).await
            }
            Format::Jsonl => exchange::import(pool, path, actor, &mut report).await,
        }
    }
    .await;
    if let Err(e) = result {
        report.failed(e.to_string());
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

/// Imports one ClaimReview document or feed, already parsed (the GraphQL mutation).
pub async fn document(
    pool: &sqlx::PgPool,
    document: &serde_json::Value,
    language: &str,
    dry_run: bool,
    actor: Option<Uuid>,
) -> Result<FileReport, FileError> {
    let started = Instant::now();
    let settings = Settings {
        format: Some(Format::Claimreview),
        csv: None,
        reviewer: None,
        language: language.to_owned(),
        dry_run,
        progress: false,
    };
    let mut report = FileReport {
        file: "document".into(),
        format: Some(Format::Claimreview),
        dry_run,
        ..FileReport::default()
    };
    let items = claimreview::items(document, None);
    reviews(pool, items, &settings, actor, false, &mut report).await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn reviews(
    pool: &sqlx::PgPool,
    items: Vec<claimreview::Item>,
    settings: &Settings,
    actor: Option<Uuid>,
    patient: bool,
    report: &mut FileReport,
) -> Result<(), FileError> {
    let progress = Progress::new(settings.progress, Some(items.len() as u64), &report.file);
    let mut facts = Vec::new();
    for item in items {
        report.read += 1;
        match item {
            claimreview::Item::Refused(r) => report.refuse(Problem {
                line: r.at.line.map(|l| l as u64),
                pointer: Some(pointer(&r.at.pointer)),
                field: r.field,
                reason: r.reason,
            }),
            claimreview::Item::Review(review) => {
                for place in &review.unmapped {
                    *report
                        .unmapped
                        .entry(field_of(&place.pointer, &review.at.pointer))
                        .or_default() += 1;
                }
                for u in &review.unreadable {
                    report.unreadable.push(Problem {
                        line: u.at.line.map(|l| l as u64),
                        pointer: Some(pointer(&u.at.pointer)),
                        field: field_of(&u.at.pointer, &review.at.pointer),
                        reason: u.reason.clone(),
                    });
                }
                if review.claimant.is_none() && !review.appearances.is_empty() {
                    *report.unmapped.entry(CLAIM_APPEARANCES.into()).or_default() += 1;
                }
                match from_review(&review, &settings.language) {
                    Ok(fact) => facts.push(fact),
                    Err(problem) => report.refuse(problem),
                }
            }
        }
    }
    let mut merge = Merge::begin(pool, actor, patient).await?;
    for batch in facts.chunks(BATCH) {
        let outcome = merge.batch(batch).await?;
        report.add(outcome);
        progress.advance(batch.len() as u64, report.read);
    }
    finish(pool, merge.into_transaction(), report).await?;
    progress.done();
    Ok(())
}

/// Ends an import's transaction as its report says: rolled back for a dry run, else
/// committed, and what it wrote (if anything) analyzed.
pub(super) async fn finish(
    pool: &sqlx::PgPool,
    txn: sqlx::Transaction<'_, sqlx::Postgres>,
    report: &FileReport,
) -> Result<(), FileError> {
    if report.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        if report.wrote() {
            merge::analyze(pool).await?;
        }
    }
    Ok(())
}

/// What the reading thread hands the merging task.
enum FromReader {
    Unmapped(Vec<String>),
    Batch {
        facts: Vec<Fact>,
        /// Each fact's fingerprint, taken on the reading thread.
        prints: Vec<Vec<u8>>,
        read: u64,
        refused: Vec<Problem>,
    },
    Bad(FileError),
}

async fn csv(
    pool: &sqlx::PgPool,
    path: &Path,
    settings: &Settings,
    actor: Option<Uuid>,
    report: &mut FileReport,
) -> Result<(), FileError> {
    let options = settings.csv.clone().ok_or_else(|| {
        FileError::Usage(
            "this looks like a spreadsheet: say which column holds what with --map \
             speaker=COLUMN,text=COLUMN,stated_on=COLUMN[,…]"
                .into(),
        )
    })?;
    if options.mapping.has(Field::Rating)
        && settings.reviewer.is_none()
        && !options.mapping.has(Field::Reviewer)
    {
        return Err(FileError::Usage(
            "ratings need a reviewer: give --reviewer NAME or map a reviewer column".into(),
        ));
    }
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let progress = Progress::new(settings.progress, Some(size), &report.file);
    let reader = progress.bar.wrap_read(file);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<FromReader>(2);
    let defaults = settings.clone();
    let reading = std::thread::spawn(move || {
        let rows = match table::rows(std::io::BufReader::with_capacity(1 << 20, reader), options) {
            Ok(rows) => rows,
            Err(e) => {
                let _ = tx.blocking_send(FromReader::Bad(e.into()));
                return;
            }
        };
        if tx
            .blocking_send(FromReader::Unmapped(rows.unmapped.clone()))
            .is_err()
        {
            return;
        }
        let (mut facts, mut read, mut refused) = (Vec::with_capacity(BATCH), 0, Vec::new());
        for row in rows {
            read += 1;
            match row {
                Err(bad) => {
                    let _ = tx.blocking_send(FromReader::Bad(bad.into()));
                    return;
                }
                Ok(Err(r)) => refused.push(Problem {
                    line: Some(r.line),
                    pointer: None,
                    field: r.field.into(),
                    reason: r.reason,
                }),
                Ok(Ok(row)) => match from_row(row, &defaults) {
                    Ok(fact) => facts.push(fact),
                    Err(problem) => refused.push(problem),
                },
            }
            if facts.len() == BATCH {
                let facts = std::mem::replace(&mut facts, Vec::with_capacity(BATCH));
                let batch = FromReader::Batch {
                    prints: facts.iter().map(merge::fingerprint).collect(),
                    facts,
                    read: std::mem::take(&mut read),
                    refused: std::mem::take(&mut refused),
                };
                if tx.blocking_send(batch).is_err() {
                    return;
                }
            }
        }
        let _ = tx.blocking_send(FromReader::Batch {
            prints: facts.iter().map(merge::fingerprint).collect(),
            facts,
            read,
            refused,
        });
    });
    let mut merge = Merge::begin(pool, actor, true).await?;
    let mut failed = None;
    while let Some(message) = rx.recv().await {
        match message {
            FromReader::Unmapped(columns) => {
                for column in columns {
                    report.unmapped.insert(column, 0);
                }
            }
            FromReader::Bad(e) => {
                failed = Some(e);
                break;
            }
            FromReader::Batch {
                facts,
                prints,
                read,
                refused,
            } => {
                report.read += read;
                for problem in refused {
                    report.refuse(problem);
                }
                let outcome = merge.batch_printed(&facts, &prints).await?;
                report.add(outcome);
                progress.rows(report.read);
            }
        }
    }
    drop(rx);
    let _ = reading.join();
    if let Some(e) = failed {
        return Err(e);
    }
    // An unmapped column was seen on every row read.
    for n in report.unmapped.values_mut() {
        *n = report.read;
    }
    finish(pool, merge.into_transaction(), report).await?;
    progress.done();
    Ok(())
}

/// A progress bar on a terminal, periodic log lines elsewhere.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    logged: std::cell::Cell<Instant>,
    log: bool,
    file: String,
}

impl Progress {
    fn new(enabled: bool, length: Option<u64>, file: &str) -> Self {
        let terminal = enabled && std::io::stderr().is_terminal();
        let bar = match length {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::no_length(),
        };
        if terminal {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {percent}% {msg} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(file.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self {
            bar,
            started: Instant::now(),
            logged: std::cell::Cell::new(Instant::now()),
            log: enabled && !terminal,
            file: file.to_owned(),
        }
    }

    /// A spreadsheet's bar moves by bytes read; this shows rows.
    fn rows(&self, rows: u64) {
        let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar
            .set_message(format!("{rows} rows, {rate:.0} rows/s"));
        if self.log && self.logged.get().elapsed() >= Duration::from_secs(5) {
            self.logged.set(Instant::now());
            info!(file = %self.file, rows, rows_per_second = rate as u64, "importing");
        }
    }

    /// A document's bar moves by reviews merged.
    fn advance(&self, merged: u64, rows: u64) {
        self.bar.inc(merged);
        self.rows(rows);
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

/// How the report names the appearances of a review without a claimant: its claim is
/// stored as a claim, and claims have no appearances.
const CLAIM_APPEARANCES: &str = "itemReviewed.appearance (of a claim nobody is named for)";

/// A pointer for the report: `/` for the root.
fn pointer(p: &str) -> String {
    if p.is_empty() {
        "/".into()
    } else {
        p.to_owned()
    }
}

/// A source field's name for the unmapped list: its pointer below the review, array
/// positions as `*` (`/itemReviewed/author/sameAs/*`).
fn field_of(place: &str, review: &str) -> String {
    let below = place.strip_prefix(review).unwrap_or(place);
    let parts: Vec<&str> = below
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                s
            }
        })
        .collect();
    parts.join(".")
}

fn problem(line: Option<u64>, pointer: Option<String>, e: ApiError) -> Problem {
    let (field, reason) = match e {
        ApiError::BadInput { field, message } => (field, message),
        other => ("-".into(), other.to_string()),
    };
    Problem {
        line,
        pointer,
        field,
        reason,
    }
}

fn person(
    field: &str,
    name: &str,
    kind: SpeakerKind,
    wikidata: Option<&str>,
) -> Result<Person, ApiError> {
    let name = validate::text(field, name, MAX_NAME)?;
    let slug = validate::slugify(&name).ok_or_else(|| {
        ApiError::bad_input(field, "has no letters or digits to name a speaker by")
    })?;
    let wikidata_id = wikidata.and_then(|id| validate::wikidata_id(field, id).ok());
    Ok(Person {
        name,
        slug,
        kind,
        wikidata_id,
    })
}

fn outlet(field: &str, name: &str, homepage: Option<&str>) -> Result<Outlet, ApiError> {
    let name = validate::text(field, name, MAX_NAME)?;
    let slug = validate::slugify(&name).ok_or_else(|| {
        ApiError::bad_input(field, "has no letters or digits to name an outlet by")
    })?;
    let homepage = homepage.and_then(|h| validate::normalize_url(field, h).ok());
    Ok(Outlet {
        name,
        slug,
        homepage,
    })
}

/// A rating's label: the one given, else the value on its scale (`4/5`).
fn label(field: &str, rating: &Rating) -> Result<(String, Option<f64>, Option<f64>), ApiError> {
    let (best, worst) = match rating.value {
        Some(_) => (
            rating.best.or(Some(DEFAULT_BEST_RATING)),
            rating.worst.or(Some(DEFAULT_WORST_RATING)),
        ),
        None => (rating.best, rating.worst),
    };
    validate::rating(field, rating.value, best, worst)?;
    let label = match (&rating.label, rating.value) {
        (Some(label), _) => label.clone(),
        (None, Some(value)) => format!("{value}/{}", best.unwrap_or(DEFAULT_BEST_RATING)),
        (None, None) => {
            return Err(ApiError::bad_input(
                field,
                "has neither a label nor a value",
            ));
        }
    };
    Ok((
        validate::text(field, &label, MAX_RATING_LABEL)?,
        best,
        worst,
    ))
}

/// A spreadsheet row as a fact.
pub fn from_row(row: table::Row, settings: &Settings) -> Result<Fact, Problem> {
    let line = Some(row.line);
    let bad = |e| problem(line, None, e);
    let speaker = person("speaker", &row.speaker, SpeakerKind::Person, None).map_err(bad)?;
    let text = validate::text("text", &row.text, MAX_STATEMENT_TEXT).map_err(bad)?;
    let stated_on =
        validate::stated_on("stated_on", row.stated_on, DatePrecision::Day).map_err(bad)?;
    let context =
        validate::optional_text("context", row.context.as_deref(), MAX_LONG_TEXT).map_err(bad)?;
    let language = validate::language(
        "language",
        row.language.as_deref().unwrap_or(&settings.language),
    )
    .map_err(bad)?;
    let appearances = validate::optional_url("url", row.url.as_deref())
        .map_err(bad)?
        .into_iter()
        .collect();
    let verdict = match &row.rating {
        None => None,
        Some(rating) => {
            let reviewer = row
                .reviewer
                .as_deref()
                .or(settings.reviewer.as_deref())
                .ok_or_else(|| bad(ApiError::bad_input("reviewer", "a rating needs a reviewer")))?;
            let (label, best, worst) = label("rating", rating).map_err(bad)?;
            Some(merge::Review {
                reviewer: outlet("reviewer", reviewer, None).map_err(bad)?,
                url: validate::optional_url("review_url", row.review_url.as_deref())
                    .map_err(bad)?,
                label,
                value: rating.value,
                best,
                worst,
                summary: validate::optional_text("summary", row.summary.as_deref(), 10_000)
                    .map_err(bad)?,
                published_at: None,
            })
        }
    };
    Ok(Fact {
        speaker: Some(speaker),
        text,
        kind: StatementKind::Quote,
        stated_on,
        stated_time: None,
        context,
        language,
        appearances,
        verdict,
    })
}

/// The instant of a date as published; a day alone is its first instant in UTC.
pub fn instant(when: When) -> DateTime<Utc> {
    match when {
        When::Instant(at) => at.with_timezone(&Utc),
        When::Local(at) => at.and_utc(),
        When::Day(day) => day.and_time(NaiveTime::MIN).and_utc(),
    }
}

fn speaker_kind(party: &Party) -> SpeakerKind {
    match party.kind {
        PartyKind::Organization => SpeakerKind::Organization,
        PartyKind::Person | PartyKind::Unknown => SpeakerKind::Person,
    }
}

/// A ClaimReview as a fact: the claimant's statement (a claim when nobody is named),
/// stated when the claim was made, else when the review appeared.
pub fn from_review(review: &Review, language: &str) -> Result<Fact, Problem> {
    let at = |field: &str| Some(pointer(&format!("{}/{field}", review.at.pointer)));
    let line = review.at.line.map(|l| l as u64);
    let bad = |field: &str| {
        let pointer = at(field);
        move |e| problem(line, pointer, e)
    };
    let speaker = review
        .claimant
        .as_ref()
        .map(|p| {
            person(
                "itemReviewed.author",
                &p.name,
                speaker_kind(p),
                p.wikidata.as_deref(),
            )
        })
        .transpose()
        .map_err(bad("itemReviewed/author"))?;
    let text = validate::text("claimReviewed", &review.claim, MAX_STATEMENT_TEXT)
        .map_err(bad("claimReviewed"))?;
    let day = review
        .claimed
        .or(review.published)
        .map(|w| w.day())
        .ok_or_else(|| {
            bad("itemReviewed/datePublished")(ApiError::bad_input(
                "itemReviewed.datePublished",
                "the claim has no date, and neither has the review (datePublished)",
            ))
        })?;
    let stated_on = validate::stated_on("itemReviewed.datePublished", day, DatePrecision::Day)
        .map_err(bad("itemReviewed/datePublished"))?;
    let language = validate::language("inLanguage", review.language.as_deref().unwrap_or(language))
        .or_else(|_| validate::language("inLanguage", language))
        .map_err(bad("inLanguage"))?;
    // Appearances are a statement's; a claim nobody is named for has none.
    let appearances = review
        .appearances
        .iter()
        .filter(|_| speaker.is_some())
        .filter_map(|u| validate::normalize_url("appearance", u).ok())
        .fold(Vec::new(), |mut out: Vec<String>, u| {
            if !out.contains(&u) {
                out.push(u);
            }
            out
        });
    let reviewer = review
        .reviewer
        .as_ref()
        .ok_or_else(|| {
            bad("author")(ApiError::bad_input(
                "author",
                "no reviewer: neither an author, a publisher nor a review address names one",
            ))
        })
        .and_then(|p| outlet("author", &p.name, p.url.as_deref()).map_err(bad("author")))?;
    let (label, best, worst) =
        label("reviewRating", &review.rating).map_err(bad("reviewRating"))?;
    let summary = review
        .summary
        .as_deref()
        .or(review.headline.as_deref())
        .map(|s| validate::optional_text("reviewBody", Some(s), 10_000))
        .transpose()
        .map_err(bad("reviewBody"))?
        .flatten();
    Ok(Fact {
        speaker,
        text,
        kind: StatementKind::Paraphrase,
        stated_on,
        stated_time: None,
        context: None,
        language,
        appearances,
        verdict: Some(merge::Review {
            reviewer,
            url: review
                .url
                .as_deref()
                .and_then(|u| validate::normalize_url("url", u).ok()),
            label,
            value: review.rating.value,
            best,
            worst,
            summary,
            published_at: review.published.map(instant),
        }),
    })
}
