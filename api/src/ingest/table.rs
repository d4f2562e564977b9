//! Spreadsheets of fact-checks: CSV with a header row, read into statements with their
//! ratings through a column mapping (`speaker=speaker,text=statement,stated_on=date,…`:
//! ClaimTrack field = CSV column), a rating scale for numeric ratings (labels from worst
//! to best: `0` is the first) and, where a column holds dates like `28/07/2022`, the
//! date format.
//!
//! Rows are read one at a time (a file of any size takes the memory of one row). A row
//! that cannot be taken is refused with its line and the field at fault, and the rows
//! after it are still read; a file that is not CSV at all stops at the first row that
//! cannot be split, with its line. The columns no field is mapped from are listed, so
//! that a user sees what an import leaves behind.

use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;

use chrono::NaiveDate;

pub use super::{Rating, when};

/// The fields a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Speaker,
    Text,
    StatedOn,
    Rating,
    Summary,
    Context,
    Url,
    Language,
    Reviewer,
    ReviewUrl,
}

impl Field {
    const ALL: [(Field, &'static str); 10] = [
        (Field::Speaker, "speaker"),
        (Field::Text, "text"),
        (Field::StatedOn, "stated_on"),
        (Field::Rating, "rating"),
        (Field::Summary, "summary"),
        (Field::Context, "context"),
        (Field::Url, "url"),
        (Field::Language, "language"),
        (Field::Reviewer, "reviewer"),
        (Field::ReviewUrl, "review_url"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(field, _)| *field == self)
            .map(|(_, name)| *name)
            .unwrap_or_default()
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(field, _)| *field)
    }

    /// What a row cannot do without.
    const REQUIRED: [Field; 3] = [Field::Speaker, Field::Text, Field::StatedOn];
}

/// Which column fills which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping(BTreeMap<Field, String>);

impl Mapping {
    /// Whether a column is mapped to `field`.
    pub fn has(&self, field: Field) -> bool {
        self.0.contains_key(&field)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadOptions {
    #[error("--map: {0:?} is not FIELD=COLUMN")]
    NotAPair(String),
    #[error("--map: {0:?} is not a field; the fields are {1}")]
    UnknownField(String, String),
    #[error("--map: {0} is mapped twice")]
    Twice(&'static str),
    #[error("--map: {0} is required")]
    Missing(&'static str),
    #[error("--scale: give at least two labels, worst first")]
    ShortScale,
    #[error("--scale: {0:?} is given twice")]
    LabelTwice(String),
}

impl FromStr for Mapping {
    type Err = BadOptions;

    fn from_str(text: &str) -> Result<Self, BadOptions> {
        let mut map = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, column) = pair
                .split_once('=')
                .map(|(f, c)| (f.trim(), c.trim()))
                .filter(|(f, c)| !f.is_empty() && !c.is_empty())
                .ok_or_else(|| BadOptions::NotAPair(pair.to_owned()))?;
            let field = Field::parse(field).ok_or_else(|| {
                let names: Vec<&str> = Field::ALL.iter().map(|(_, n)| *n).collect();
                BadOptions::UnknownField(field.to_owned(), names.join(", "))
            })?;
            if map.insert(field, column.to_owned()).is_some() {
                return Err(BadOptions::Twice(field.name()));
            }
        }
        if let Some(missing) = Field::REQUIRED.iter().find(|f| !map.contains_key(f)) {
            return Err(BadOptions::Missing(missing.name()));
        }
        Ok(Self(map))
    }
}

/// Rating labels from worst to best; a numeric rating `i` is the `i`-th.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale(Vec<String>);

impl FromStr for Scale {
    type Err = BadOptions;

    fn from_str(text: &str) -> Result<Self, BadOptions> {
        let labels: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if labels.len() < 2 {
            return Err(BadOptions::ShortScale);
        }
        for (i, label) in labels.iter().enumerate() {
            if labels[..i].iter().any(|l| same_label(l, label)) {
                return Err(BadOptions::LabelTwice(label.clone()));
            }
        }
        Ok(Self(labels))
    }
}

/// Labels compare without case, spaces, dashes or underscores: `Pants on Fire`,
/// `pants-on-fire` and `PANTS_ON_FIRE` are one.
fn same_label(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    key(a) == key(b)
}

/// How to read one file.
#[derive(Debug, Clone)]
pub struct Options {
    pub mapping: Mapping,
    pub scale: Option<Scale>,
    /// A `chrono` format for dates the common forms do not cover (`%d/%m/%Y`).
    pub date_format: Option<String>,
    pub delimiter: u8,
}

/// One row, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The line the row starts on (a quoted field may span lines).
    pub line: u64,
    pub speaker: String,
    pub text: String,
    pub stated_on: NaiveDate,
    pub rating: Option<Rating>,
    pub summary: Option<String>,
    pub context: Option<String>,
    pub url: Option<String>,
    pub language: Option<String>,
    pub reviewer: Option<String>,
    pub review_url: Option<String>,
}

/// A row that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadFile {
    #[error("no header row")]
    NoHeader,
    #[error("the header has no column {column:?} (mapped to {field}); it has {found}")]
    NoColumn {
        field: &'static str,
        column: String,
        found: String,
    },
    #[error("line {line}: {message}")]
    NotCsv { line: u64, message: String },
}

/// A reader that notes where its lines end, so that a record's byte offset gives its
/// line: the CSV reader skips blank lines without counting them (in its line numbers
/// and in the offsets it gives, which point at the first blank line skipped). Only the
/// line ends not yet passed are kept: as much as the CSV reader reads ahead.
struct Lines<R> {
    inner: R,
    state: std::rc::Rc<std::cell::RefCell<LineEnds>>,
}

#[derive(Default)]
struct LineEnds {
    read: u64,
    /// Offsets of the `\n`s ahead, each with whether a `\r` came just before it.
    ahead: std::collections::VecDeque<(u64, bool)>,
    passed: u64,
    last_was_cr: bool,
}

impl LineEnds {
    /// The line (1-based) of the record the CSV reader places at `offset`; offsets only
    /// go forward.
    fn line_of(&mut self, mut offset: u64) -> u64 {
        while let Some(&(end, crlf)) = self.ahead.front() {
            let blank_here = end == offset || (crlf && end == offset + 1);
            if end < offset || blank_here {
                self.ahead.pop_front();
                self.passed += 1;
                if blank_here {
                    offset = end + 1;
                }
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut state = self.state.borrow_mut();
        let start = state.read;
        for (i, byte) in buf[..n].iter().enumerate() {
            if *byte == b'\n' {
                let crlf = state.last_was_cr;
                state.ahead.push_back((start + i as u64, crlf));
            }
            state.last_was_cr = *byte == b'\r';
        }
        state.read += n as u64;
        Ok(n)
    }
}

/// The rows of a CSV file, one at a time.
pub struct Rows<R: Read> {
    records: ::csv::StringRecordsIntoIter<Lines<R>>,
    lines: std::rc::Rc<std::cell::RefCell<LineEnds>>,
    columns: BTreeMap<Field, usize>,
    options: Options,
    /// Header columns no field is mapped from.
    pub unmapped: Vec<String>,
}

/// Opens a CSV file: reads its header and checks the mapping against it.
pub fn rows<R: Read>(reader: R, options: Options) -> Result<Rows<R>, BadFile> {
    let lines = std::rc::Rc::new(std::cell::RefCell::new(LineEnds::default()));
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .trim(::csv::Trim::Headers)
        .from_reader(Lines {
            inner: reader,
            state: lines.clone(),
        });
    let header = csv.headers().map_err(|e| not_csv(&e, &lines))?.clone();
    if header.is_empty() || header.iter().all(str::is_empty) {
        return Err(BadFile::NoHeader);
    }
    let header: Vec<String> = header
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let mut columns = BTreeMap::new();
    for (field, column) in &options.mapping.0 {
        let index = header
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| BadFile::NoColumn {
                field: field.name(),
                column: column.clone(),
                found: header.join(", "),
            })?;
        columns.insert(*field, index);
    }
    let unmapped = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !columns.values().any(|c| c == i))
        .map(|(_, h)| h.clone())
        .collect();
    Ok(Rows {
        records: csv.into_records(),
        lines,
        columns,
        options,
        unmapped,
    })
}

fn not_csv(e: &::csv::Error, lines: &std::cell::RefCell<LineEnds>) -> BadFile {
    BadFile::NotCsv {
        line: e
            .position()
            .map(|p| lines.borrow_mut().line_of(p.byte()))
            .unwrap_or(1),
        message: e.to_string(),
    }
}

impl<R: Read> Iterator for Rows<R> {
    /// A row, a refused row, or a file that stops being CSV (the last item then).
    type Item = Result<Result<Row, Refusal>, BadFile>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.records.next()? {
                Ok(record) => record,
                Err(e) => return Some(Err(not_csv(&e, &self.lines))),
            };
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            return Some(Ok(self.row(&record)));
        }
    }
}

impl<R: Read> Rows<R> {
    fn cell<'a>(&self, record: &'a ::csv::StringRecord, field: Field) -> Option<&'a str> {
        let index = *self.columns.get(&field)?;
        record.get(index).map(str::trim).filter(|c| !c.is_empty())
    }

    fn row(&self, record: &::csv::StringRecord) -> Result<Row, Refusal> {
        let line = record
            .position()
            .map(|p| self.lines.borrow_mut().line_of(p.byte()))
            .unwrap_or(0);
        let refuse = |field: Field, reason: String| Refusal {
            line,
            field: field.name(),
            reason,
        };
        let required = |field: Field| {
            self.cell(record, field)
                .map(str::to_owned)
                .ok_or_else(|| refuse(field, "empty".into()))
        };
        let speaker = required(Field::Speaker)?;
        let text = required(Field::Text)?;
        let raw_date = required(Field::StatedOn)?;
        let stated_on = day(&raw_date, self.options.date_format.as_deref()).ok_or_else(|| {
            let hint = if self.options.date_format.is_none() {
                " (give its format with --date-format, e.g. %d/%m/%Y)"
            } else {
                ""
            };
            refuse(Field::StatedOn, format!("not a date: {raw_date:?}{hint}"))
        })?;
        let rating = match self.cell(record, Field::Rating) {
            None => None,
            Some(raw) => Some(
                rating(raw, self.options.scale.as_ref())
                    .map_err(|reason| refuse(Field::Rating, reason))?,
            ),
        };
        let optional = |field: Field| self.cell(record, field).map(str::to_owned);
        Ok(Row {
            line,
            speaker,
            text,
            stated_on,
            rating,
            summary: optional(Field::Summary),
            context: optional(Field::Context),
            url: optional(Field::Url),
            language: optional(Field::Language),
            reviewer: optional(Field::Reviewer),
            review_url: optional(Field::ReviewUrl),
        })
    }
}

/// A day: in `format` when given (tried first, for forms like `28/07/2022` that read
/// two ways), else in any form [`when`] reads.
pub fn day(raw: &str, format: Option<&str>) -> Option<NaiveDate> {
    let raw = raw.trim();
    format
        .and_then(|format| NaiveDate::parse_from_str(raw, format).ok())
        .or_else(|| when(raw).map(|w| w.day()))
}

/// A rating cell: a label, or with a scale a number on it (or one of its labels).
fn rating(raw: &str, scale: Option<&Scale>) -> Result<Rating, String> {
    let Some(Scale(labels)) = scale else {
        if raw.parse::<f64>().is_ok() {
            return Err(format!(
                "{raw:?} is a number, and no --scale says which label it is"
            ));
        }
        return Ok(Rating {
            label: Some(raw.to_owned()),
            ..Rating::default()
        });
    };
    let best = (labels.len() - 1) as f64;
    let index = match raw.parse::<f64>() {
        Ok(n) if n.fract() == 0.0 && (0.0..=best).contains(&n) => n as usize,
        Ok(_) => return Err(format!("{raw:?} is not on the scale 0..={best}")),
        Err(_) => labels
            .iter()
            .position(|l| same_label(l, raw))
            .ok_or_else(|| {
                format!(
                    "{raw:?} is not one of the scale's labels ({})",
                    labels.join(", ")
                )
            })?,
    };
    Ok(Rating {
        label: Some(labels[index].clone()),
        value: Some(index as f64),
        best: Some(best),
        worst: Some(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(map: &str, scale: Option<&str>, date_format: Option<&str>) -> Options {
        Options {
            mapping: map.parse().expect("a mapping"),
            scale: scale.map(|s| s.parse().expect("a scale")),
            date_format: date_format.map(str::to_owned),
            delimiter: b',',
        }
    }

    const MAP: &str = "speaker=speaker,text=statement,stated_on=date,rating=label,summary=justification,context=context";
    const SCALE: &str = "pants-fire,false,barely-true,half-true,mostly-true,true";

    fn read_all(text: &str, options: Options) -> (Vec<Row>, Vec<Refusal>, Vec<String>) {
        let rows = rows(text.as_bytes(), options).expect("a CSV file");
        let unmapped = rows.unmapped.clone();
        let (mut taken, mut refused) = (Vec::new(), Vec::new());
        for row in rows {
            match row.expect("CSV") {
                Ok(row) => taken.push(row),
                Err(refusal) => refused.push(refusal),
            }
        }
        (taken, refused, unmapped)
    }

    #[test]
    fn the_politifact_form_reads_quoted_newlines_numeric_and_label_ratings() {
        let text = "id,speaker,date,statement,label,justification,context,extra\n\
                    1,Barack Obama,\"July 28, 2022\",\"Says the line\nbreaks here\",0,\"Because, \"\"quoted\"\"\",a speech,x\n\
                    2, Sarah Palin ,2010-03-02,Death panels,PANTS_FIRE,,,y\n";
        let (rows, refused, unmapped) = read_all(text, options(MAP, Some(SCALE), None));
        assert_eq!(refused, []);
        assert_eq!(unmapped, ["id", "extra"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].text, "Says the line\nbreaks here");
        assert_eq!(rows[0].stated_on.to_string(), "2022-07-28");
        assert_eq!(rows[0].summary.as_deref(), Some("Because, \"quoted\""));
        assert_eq!(
            rows[0].rating,
            Some(Rating {
                label: Some("pants-fire".into()),
                value: Some(0.0),
                best: Some(5.0),
                worst: Some(0.0)
            })
        );
        // The second row starts on line 4: the first spans two.
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].speaker, "Sarah Palin");
        assert_eq!(
            rows[1].rating.as_ref().and_then(|r| r.label.as_deref()),
            Some("pants-fire")
        );
        assert_eq!(rows[1].summary, None);
    }

    #[test]
    fn broken_rows_are_refused_by_line_and_field_and_the_rest_are_read() {
        let text = "speaker,date,statement,label\n\
                    A,2020-01-01,fine,true\n\
                    B,someday,bad date,true\n\
                    ,2020-01-02,no speaker,true\n\
                    C,2020-01-03,  ,true\n\
                    D,2020-01-04,unknown rating,sorta\n\
                    E,2020-01-05,off the scale,9\n\
                    \n\
                    F,28/07/2022,needs a format,false\n\
                    G,2020-01-06,fine too,mostly true\n";
        let (rows, refused, _) = read_all(
            text,
            options(
                "speaker=speaker,text=statement,stated_on=date,rating=label",
                Some(SCALE),
                None,
            ),
        );
        let taken: Vec<&str> = rows.iter().map(|r| r.speaker.as_str()).collect();
        assert_eq!(taken, ["A", "G"]);
        let why: Vec<(u64, &str)> = refused.iter().map(|r| (r.line, r.field)).collect();
        assert_eq!(
            why,
            [
                (3, "stated_on"),
                (4, "speaker"),
                (5, "text"),
                (6, "rating"),
                (7, "rating"),
                (9, "stated_on")
            ]
        );
        assert!(
            refused[5].reason.contains("--date-format"),
            "{}",
            refused[5].reason
        );

        let (rows, refused, _) = read_all(
            "speaker,date,statement\nF,28/07/2022,with a format\n",
            options(
                "speaker=speaker,text=statement,stated_on=date",
                None,
                Some("%d/%m/%Y"),
            ),
        );
        assert_eq!(
            (rows[0].stated_on.to_string().as_str(), refused.len()),
            ("2022-07-28", 0)
        );
    }

    /// 10,000 rows, every hundredth broken in one of three ways, some spanning lines:
    /// each broken row is refused with the line it starts on, every other row is read.
    #[test]
    fn ten_thousand_rows_with_one_in_a_hundred_broken() {
        let mut text = String::from("speaker,date,statement,label\n");
        let (mut line, mut broken, mut good) = (2u64, Vec::new(), 0);
        for i in 0..10_000u32 {
            let (date, statement, label) = match (i % 100, i % 3) {
                (37, 0) => ("2020-13-45", "bad date".to_owned(), "true"),
                (37, 1) => ("2020-01-01", "   ".to_owned(), "true"),
                (37, _) => ("2020-01-01", "unknown rating".to_owned(), "so-so"),
                _ if i % 7 == 0 => ("2020-01-01", format!("\"spans\ntwo lines {i}\""), "false"),
                _ => ("2020-01-01", format!("statement {i}"), "half-true"),
            };
            match (i % 100, i % 3) {
                (37, 0) => broken.push((line, "stated_on")),
                (37, 1) => broken.push((line, "text")),
                (37, _) => broken.push((line, "rating")),
                _ => good += 1,
            }
            text.push_str(&format!("Speaker {},{date},{statement},{label}\n", i % 50));
            line += 1 + statement.matches('\n').count() as u64;
        }
        let (rows, refused, _) = read_all(
            &text,
            options(
                "speaker=speaker,text=statement,stated_on=date,rating=label",
                Some(SCALE),
                None,
            ),
        );
        assert_eq!(rows.len(), good);
        let got: Vec<(u64, &str)> = refused.iter().map(|r| (r.line, r.field)).collect();
        assert_eq!(got, broken);
    }

    #[test]
    fn lines_count_blank_lines_and_crlf_ends() {
        let text = "speaker,date,statement\r\n\r\nA,2020-01-01,one\r\n\r\n\r\nB,2020-01-02,\"two\r\nlines\"\n\nC,2020-01-03,three\n";
        let (rows, _, _) = read_all(
            text,
            options("speaker=speaker,text=statement,stated_on=date", None, None),
        );
        let lines: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.speaker.as_str())).collect();
        assert_eq!(lines, [(3, "A"), (6, "B"), (9, "C")]);
    }

    #[test]
    fn ratings_without_a_scale_are_labels_and_numbers_need_one() {
        assert_eq!(
            rating("Mostly False", None).map(|r| r.label),
            Ok(Some("Mostly False".into()))
        );
        assert!(rating("3", None).is_err());
        let scale: Scale = "false,true".parse().expect("a scale");
        assert_eq!(
            rating("1", Some(&scale)).map(|r| r.label),
            Ok(Some("true".into()))
        );
        assert!(rating("1.5", Some(&scale)).is_err());
        assert!(rating("-1", Some(&scale)).is_err());
    }

    #[test]
    fn bad_options_and_bad_files_say_what_is_wrong() {
        assert_eq!(
            "speaker=a,text=b".parse::<Mapping>(),
            Err(BadOptions::Missing("stated_on"))
        );
        assert!(matches!(
            "speaker=a,text=b,stated_on=c,mood=d".parse::<Mapping>(),
            Err(BadOptions::UnknownField(..))
        ));
        assert_eq!(
            "speaker=a,speaker=b".parse::<Mapping>(),
            Err(BadOptions::Twice("speaker"))
        );
        assert!(matches!(
            "speaker".parse::<Mapping>(),
            Err(BadOptions::NotAPair(_))
        ));
        assert_eq!("true".parse::<Scale>(), Err(BadOptions::ShortScale));
        assert!(matches!(
            "Half True,half-true".parse::<Scale>(),
            Err(BadOptions::LabelTwice(_))
        ));

        let map = "speaker=speaker,text=statement,stated_on=date";
        assert!(matches!(
            rows("speaker,statement\n".as_bytes(), options(map, None, None)),
            Err(BadFile::NoColumn {
                field: "stated_on",
                ..
            })
        ));
        assert!(matches!(
            rows("".as_bytes(), options(map, None, None)),
            Err(BadFile::NoHeader)
        ));
        let invalid = b"speaker,date,statement\nA,2020-01-01,\xff\xfe\n";
        let mut read = rows(&invalid[..], options(map, None, None)).expect("a header");
        assert!(matches!(
            read.next(),
            Some(Err(BadFile::NotCsv { line: 2, .. }))
        ));
    }
}
