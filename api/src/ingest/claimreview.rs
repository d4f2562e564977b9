//! ClaimReview (schema.org) as fact-checkers publish it, read into what ClaimTrack
//! stores: the reviewed claim and who made it, when and where it appeared, the
//! reviewer, the rating and the review's address.
//!
//! Every shape met in the wild is taken: one object, an array, an `@graph`, a
//! `DataFeed` (`dataFeedElement[].item[]`, the Data Commons feed), a `DataFeedItem`, a
//! Google Fact Check Tools `claims:search` response (`claims[].claimReview[]`) or one of
//! its claims, and JSON Lines of any of these. Fields are read as loosely as publishers
//! write them: an author as an object, an array, a bare name or nothing; dates with or
//! without a time, zone or padding; ratings as numbers, numeric strings, empty strings
//! or a label alone; appearances as addresses or `CreativeWork`s.
//!
//! Each review keeps its place (the JSON Lines line and a JSON pointer), the source
//! fields it had no use for, and what it could not read, so that an import can account
//! for every field it drops.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub use super::{Rating, When, when};

/// Where something stood in its file: the line of a JSON Lines file (1-based) and the
/// JSON pointer within that line's (or the file's) document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub line: Option<usize>,
    pub pointer: String,
}

impl Place {
    fn at(&self, key: impl std::fmt::Display) -> Place {
        Place {
            line: self.line,
            pointer: format!("{}/{}", self.pointer, escape(&key.to_string())),
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, {}", pointer_or_root(&self.pointer)),
            None => f.write_str(pointer_or_root(&self.pointer)),
        }
    }
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

/// A JSON pointer's reference token (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A person or an organisation, as far as the source says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub kind: PartyKind,
    pub url: Option<String>,
    /// A person's position (`jobTitle`), for a speaker's role.
    pub title: Option<String>,
    /// The Wikidata item (`Q…`) its `sameAs` or `url` names.
    pub wikidata: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyKind {
    Person,
    Organization,
    /// A bare name, or a type that is neither.
    Unknown,
}

/// A source field that was there but could not be read; the review stands without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub at: Place,
    pub reason: String,
}

/// One ClaimReview, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub at: Place,
    /// The review's address (`url`), with a scheme when the source left it out.
    pub url: Option<String>,
    /// The organisation that published the review.
    pub reviewer: Option<Party>,
    pub published: Option<When>,
    /// The claim as the reviewer worded it (`claimReviewed`).
    pub claim: String,
    /// Who made the claim (`itemReviewed.author`, a Google claim's `claimant`).
    pub claimant: Option<Party>,
    /// When the claim was made (`itemReviewed.datePublished`, `claimDate`).
    pub claimed: Option<When>,
    /// Where the claim appeared: the first appearance first, no address twice.
    pub appearances: Vec<String>,
    pub rating: Rating,
    pub headline: Option<String>,
    /// The review's own summary (`reviewBody`, `description`).
    pub summary: Option<String>,
    pub language: Option<String>,
    /// Source fields ClaimTrack has no place for, as pointers.
    pub unmapped: Vec<Place>,
    pub unreadable: Vec<Unreadable>,
}

/// Something in a document that is not a ClaimReview ClaimTrack can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: Place,
    /// The field at fault.
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Review(Box<Review>),
    Refused(Refusal),
}

/// A file that cannot be read at all; nothing of it should be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadFile {
    #[error("not UTF-8: invalid byte at offset {offset}")]
    NotUtf8 { offset: usize },
    #[error("not JSON or JSON Lines: line {line}, column {column}: {message}")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("empty: no document in it")]
    Empty,
}

/// Reads a whole file: one JSON document, or JSON Lines (one document a line).
pub fn read(bytes: &[u8]) -> Result<Vec<Item>, BadFile> {
    let text = std::str::from_utf8(bytes).map_err(|e| BadFile::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(BadFile::Empty);
    }
    let whole = match serde_json::from_str::<Value>(text) {
        Ok(document) => return Ok(items(&document, None)),
        Err(e) => e,
    };
    // JSON Lines: every non-blank line a document. A file that is neither is reported
    // where reading it as one document failed, unless its first line parsed alone.
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(document) => out.extend(items(&document, Some(i + 1))),
            Err(_) if out.is_empty() => return Err(not_json(&whole, 0)),
            Err(e) => return Err(not_json(&e, i)),
        }
    }
    Ok(out)
}

fn not_json(e: &serde_json::Error, lines_before: usize) -> BadFile {
    BadFile::NotJson {
        line: e.line() + lines_before,
        column: e.column(),
        message: e.to_string(),
    }
}

/// The reviews (and refusals) of one parsed document.
pub fn items(document: &Value, line: Option<usize>) -> Vec<Item> {
    let mut out = Vec::new();
    walk(
        document,
        &Place {
            line,
            pointer: String::new(),
        },
        &mut out,
    );
    out
}

fn walk(value: &Value, at: &Place, out: &mut Vec<Item>) {
    let object = match value {
        Value::Array(values) => {
            for (i, value) in values.iter().enumerate() {
                walk(value, &at.at(i), out);
            }
            return;
        }
        Value::Object(object) => object,
        other => {
            out.push(Item::Refused(Refusal {
                at: at.clone(),
                field: "@type".into(),
                reason: format!("expected a ClaimReview object, found {}", kind_of(other)),
            }));
            return;
        }
    };
    for container in ["@graph", "dataFeedElement", "claims"] {
        if let Some(inner) = object.get(container) {
            return walk(inner, &at.at(container), out);
        }
    }
    if is_a(object, "DataFeedItem") || (object.contains_key("item") && !is_review(object)) {
        return walk(
            object.get("item").unwrap_or(&Value::Null),
            &at.at("item"),
            out,
        );
    }
    if let Some(Value::Array(reviews)) = object.get("claimReview") {
        let at_reviews = at.at("claimReview");
        for (i, review) in reviews.iter().enumerate() {
            out.push(google_review(object, review, at, &at_reviews.at(i)));
        }
        return;
    }
    if is_review(object) {
        out.push(claim_review(object, at));
        return;
    }
    out.push(Item::Refused(Refusal {
        at: at.at("@type"),
        field: "@type".into(),
        reason: match object.get("@type") {
            Some(t) => format!("not a ClaimReview: the type is {}", compact(t)),
            None => "not a ClaimReview: no @type, no claimReviewed".into(),
        },
    }));
}

/// What kind of JSON value `value` is, in words ("an array"), for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Whether `@type` (a string or an array of them) names `name`, in any case.
fn is_a(object: &Map<String, Value>, name: &str) -> bool {
    let named = |v: &Value| {
        v.as_str().is_some_and(|t| {
            t.rsplit([':', '/']).next() == Some(name) || t.eq_ignore_ascii_case(name)
        })
    };
    match object.get("@type") {
        Some(Value::Array(types)) => types.iter().any(named),
        Some(t) => named(t),
        None => false,
    }
}

fn is_review(object: &Map<String, Value>) -> bool {
    is_a(object, "ClaimReview") || object.contains_key("claimReviewed")
}

/// Reads the fields of one object, remembering which were used.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    at: Place,
    used: BTreeSet<&'static str>,
}

impl<'a> Fields<'a> {
    fn new(object: &'a Map<String, Value>, at: &Place) -> Self {
        Self {
            object,
            at: at.clone(),
            used: BTreeSet::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.used.insert(key);
        self.object.get(key).filter(|v| !v.is_null())
    }

    fn text(&mut self, key: &'static str) -> Option<String> {
        self.get(key).and_then(text)
    }

    /// The fields not used, as places; `@context`, `@type` and `@id` are never reported.
    fn unmapped(&self, out: &mut Vec<Place>) {
        for key in self.object.keys() {
            if !self.used.contains(key.as_str())
                && !matches!(key.as_str(), "@context" | "@type" | "@id")
            {
                out.push(self.at.at(key));
            }
        }
    }
}

/// A non-empty text, trimmed (non-breaking spaces too); the first of an array.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => {
            let trimmed = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
            (!trimmed.is_empty()).then(|| trimmed.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Array(values) => values.iter().find_map(text),
        _ => None,
    }
}

/// An address, with `https://` put in front when the source wrote none
/// (`aosfatos.org/noticias/…`); none for a relative one (`/estadao-verifica/…`), which
/// names no site.
fn address(value: &str) -> Option<String> {
    if value.contains("://") {
        return Some(value.to_owned());
    }
    let host = value.split('/').next().unwrap_or_default();
    (host.contains('.') && !value.starts_with('/')).then(|| format!("https://{value}"))
}

/// A text field read by `parse`, or reported unreadable (`why`, and what it held).
fn read_as<T>(
    fields: &mut Fields<'_>,
    key: &'static str,
    unreadable: &mut Vec<Unreadable>,
    parse: impl Fn(&str) -> Option<T>,
    why: &str,
) -> Option<T> {
    let raw = fields.text(key)?;
    let read = parse(&raw);
    if read.is_none() {
        unreadable.push(Unreadable {
            at: fields.at.at(key),
            reason: format!("{why}: {raw:?}"),
        });
    }
    read
}

const RELATIVE: &str = "a relative address names no site";

/// The Wikidata item an object names as its `sameAs` (a string or a list) or its `url`.
fn wikidata(object: &Map<String, Value>) -> Option<String> {
    let mut candidates: Vec<&str> = Vec::new();
    for key in ["sameAs", "url"] {
        match object.get(key) {
            Some(Value::String(s)) => candidates.push(s),
            Some(Value::Array(values)) => {
                candidates.extend(values.iter().filter_map(Value::as_str))
            }
            _ => {}
        }
    }
    candidates.into_iter().find_map(|u| {
        let (_, id) = u
            .trim()
            .trim_end_matches('/')
            .rsplit_once("wikidata.org/wiki/")?;
        let valid = id.len() > 1
            && id.starts_with('Q')
            && id[1..].bytes().all(|b| b.is_ascii_digit())
            && !id[1..].starts_with('0');
        valid.then(|| id.to_owned())
    })
}

fn party(value: &Value) -> Option<Party> {
    match value {
        Value::Object(object) => {
            let name = object.get("name").and_then(text)?;
            let url = object.get("url").and_then(text).and_then(|u| address(&u));
            // Authors typed as organisations whose address is an author's page are people.
            let author_page = url.as_deref().is_some_and(|u| u.contains("/author"));
            let kind = if is_a(object, "Person") || author_page {
                PartyKind::Person
            } else if ["Organization", "NewsMediaOrganization", "Organisation"]
                .iter()
                .any(|t| is_a(object, t))
            {
                PartyKind::Organization
            } else {
                PartyKind::Unknown
            };
            let title = object.get("jobTitle").and_then(text);
            let wikidata = wikidata(object);
            Some(Party {
                name,
                kind,
                url,
                title,
                wikidata,
            })
        }
        Value::Array(values) => {
            let parties: Vec<Party> = values.iter().filter_map(party).collect();
            parties
                .iter()
                .find(|p| p.kind == PartyKind::Organization)
                .or_else(|| parties.first())
                .cloned()
        }
        other => text(other).map(|name| Party {
            name,
            kind: PartyKind::Unknown,
            url: None,
            title: None,
            wikidata: None,
        }),
    }
}

/// The addresses an `appearance` or `firstAppearance` gives: strings, `CreativeWork`s
/// with a `url`, or arrays of either.
fn addresses(value: &Value, at: &Place, out: &mut Vec<String>, unreadable: &mut Vec<Unreadable>) {
    let raw = match value {
        Value::Array(values) => {
            for (i, value) in values.iter().enumerate() {
                addresses(value, &at.at(i), out, unreadable);
            }
            return;
        }
        Value::Object(object) => object.get("url").and_then(text),
        other => text(other),
    };
    match raw.as_deref().map(|raw| (raw, address(raw))) {
        Some((_, Some(url))) => out.push(url),
        Some((raw, None)) => unreadable.push(Unreadable {
            at: at.clone(),
            reason: format!("{RELATIVE}: {raw:?}"),
        }),
        None => {}
    }
}

fn number(
    fields: &mut Fields<'_>,
    key: &'static str,
    unreadable: &mut Vec<Unreadable>,
) -> Option<f64> {
    let value = fields.get(key)?;
    let read = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => s.trim().replace(',', ".").parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite());
    if read.is_none() {
        unreadable.push(Unreadable {
            at: fields.at.at(key),
            reason: format!("not a number: {}", compact(value)),
        });
    }
    read
}

fn rating(value: Option<&Value>, at: &Place, review: &mut Review) {
    let Some(Value::Object(object)) = value else {
        if let Some(other) = value {
            // A bare label.
            review.rating.label = text(other);
        }
        return;
    };
    let mut fields = Fields::new(object, at);
    review.rating = Rating {
        label: fields.text("alternateName").or_else(|| fields.text("name")),
        value: number(&mut fields, "ratingValue", &mut review.unreadable),
        best: number(&mut fields, "bestRating", &mut review.unreadable),
        worst: number(&mut fields, "worstRating", &mut review.unreadable),
    };
    fields.unmapped(&mut review.unmapped);
}

fn claim_review(object: &Map<String, Value>, at: &Place) -> Item {
    let mut fields = Fields::new(object, at);
    let reviewed = fields.text("claimReviewed");
    let worded_by_item = reviewed.is_none();
    let Some(claim) = reviewed.or_else(|| item_reviewed_text(object)) else {
        return Item::Refused(Refusal {
            at: at.at("claimReviewed"),
            field: "claimReviewed".into(),
            reason: "no claim: claimReviewed is missing or empty".into(),
        });
    };
    let mut review = Review {
        at: at.clone(),
        url: None,
        reviewer: None,
        published: None,
        claim,
        claimant: None,
        claimed: None,
        appearances: Vec::new(),
        rating: Rating::default(),
        headline: fields
            .text("headline")
            .or_else(|| fields.text("name"))
            .or_else(|| fields.text("title")),
        summary: fields
            .text("reviewBody")
            .or_else(|| fields.text("description")),
        language: fields.text("inLanguage"),
        unmapped: Vec::new(),
        unreadable: Vec::new(),
    };
    review.url = read_as(
        &mut fields,
        "url",
        &mut review.unreadable,
        address,
        RELATIVE,
    );
    review.published = read_as(
        &mut fields,
        "datePublished",
        &mut review.unreadable,
        when,
        "not a date",
    );
    review.reviewer = reviewer(&mut fields, review.url.as_deref());
    rating(
        fields.get("reviewRating"),
        &at.at("reviewRating"),
        &mut review,
    );
    if let Some(item) = fields.get("itemReviewed") {
        item_reviewed(item, &at.at("itemReviewed"), worded_by_item, &mut review);
    }
    fields.unmapped(&mut review.unmapped);
    Item::Review(Box::new(review))
}

fn item_reviewed_text(object: &Map<String, Value>) -> Option<String> {
    let item = object.get("itemReviewed")?.as_object()?;
    item.get("name").or_else(|| item.get("text")).and_then(text)
}

/// The reviewer: an organisation among the authors, else the publisher, else an author
/// not known to be a person, else the review address's host. (A reporter is not the
/// outlet that published the review.)
fn reviewer(fields: &mut Fields<'_>, url: Option<&str>) -> Option<Party> {
    let author = fields.get("author").and_then(party);
    let publisher = fields.get("publisher").and_then(party);
    match (author, publisher) {
        (Some(a), _) if a.kind == PartyKind::Organization => Some(a),
        (_, Some(p)) => Some(p),
        (Some(a), None) if a.kind == PartyKind::Unknown => Some(a),
        _ => url.and_then(site),
    }
}

/// The site an address is on, as the organisation that runs it.
fn site(url: &str) -> Option<Party> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_start_matches("www.").to_owned();
    Some(Party {
        url: Some(format!("https://{host}/")),
        name: host,
        kind: PartyKind::Organization,
        title: None,
        wikidata: None,
    })
}

/// The claim's author, date and appearances; `worded` when its `name` (or `text`) gave
/// the claim's wording.
fn item_reviewed(value: &Value, at: &Place, worded: bool, review: &mut Review) {
    let Value::Object(object) = value else {
        review.unreadable.push(Unreadable {
            at: at.clone(),
            reason: format!("expected an object, found {}", kind_of(value)),
        });
        return;
    };
    let mut fields = Fields::new(object, at);
    review.claimant = fields.get("author").and_then(party);
    review.claimed = read_as(
        &mut fields,
        "datePublished",
        &mut review.unreadable,
        when,
        "not a date",
    );
    let mut found = Vec::new();
    for key in ["firstAppearance", "appearance", "url"] {
        if let Some(value) = fields.get(key) {
            addresses(value, &at.at(key), &mut found, &mut review.unreadable);
        }
    }
    if worded {
        fields.get("name");
        fields.get("text");
    }
    for url in found {
        if !review.appearances.contains(&url) {
            review.appearances.push(url);
        }
    }
    fields.unmapped(&mut review.unmapped);
    if let Some(Value::Object(author)) = object.get("author") {
        let mut author_fields = Fields::new(author, &at.at("author"));
        author_fields.get("name");
        author_fields.get("url");
        author_fields.get("jobTitle");
        if wikidata(author).is_some() {
            author_fields.get("sameAs");
        }
        author_fields.unmapped(&mut review.unmapped);
    }
}

/// One review of a Google Fact Check Tools claim (`claims[]` of `claims:search`).
fn google_review(claim: &Map<String, Value>, review: &Value, at_claim: &Place, at: &Place) -> Item {
    let mut claim_fields = Fields::new(claim, at_claim);
    let Some(text) = claim_fields.text("text") else {
        return Item::Refused(Refusal {
            at: at_claim.at("text"),
            field: "text".into(),
            reason: "no claim: text is missing or empty".into(),
        });
    };
    let Value::Object(object) = review else {
        return Item::Refused(Refusal {
            at: at.clone(),
            field: "claimReview".into(),
            reason: format!("expected a review object, found {}", kind_of(review)),
        });
    };
    let mut fields = Fields::new(object, at);
    let mut out = Review {
        at: at.clone(),
        url: None,
        reviewer: None,
        published: None,
        claim: text,
        claimant: claim_fields.get("claimant").and_then(party),
        claimed: None,
        appearances: Vec::new(),
        rating: Rating {
            label: fields.text("textualRating"),
            ..Rating::default()
        },
        headline: fields.text("title"),
        summary: None,
        language: fields.text("languageCode"),
        unmapped: Vec::new(),
        unreadable: Vec::new(),
    };
    out.url = read_as(&mut fields, "url", &mut out.unreadable, address, RELATIVE);
    out.claimed = read_as(
        &mut claim_fields,
        "claimDate",
        &mut out.unreadable,
        when,
        "not a date",
    );
    out.published = read_as(
        &mut fields,
        "reviewDate",
        &mut out.unreadable,
        when,
        "not a date",
    );
    claim_fields.get("claimReview");
    out.reviewer = match fields.get("publisher") {
        Some(Value::Object(publisher)) => publisher
            .get("name")
            .or_else(|| publisher.get("site"))
            .and_then(self::text)
            .map(|name| Party {
                url: publisher
                    .get("site")
                    .and_then(self::text)
                    .and_then(|s| address(&s)),
                name,
                kind: PartyKind::Organization,
                title: None,
                wikidata: None,
            }),
        _ => None,
    }
    .or_else(|| out.url.as_deref().and_then(site));
    fields.unmapped(&mut out.unmapped);
    // Each review reports the claim's own unused fields once: with the first review.
    if at.pointer.ends_with("/0") {
        claim_fields.unmapped(&mut out.unmapped);
    }
    Item::Review(Box::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn reviews(document: Value) -> Vec<Review> {
        items(&document, None)
            .into_iter()
            .map(|item| match item {
                Item::Review(review) => *review,
                Item::Refused(refusal) => panic!("refused: {refusal:?}"),
            })
            .collect()
    }

    fn minimal(claim: &str) -> Value {
        json!({ "@type": "ClaimReview", "claimReviewed": claim, "url": "https://example.org/r" })
    }

    #[test]
    fn every_container_shape_yields_its_reviews_with_their_places() {
        let one = minimal("one");
        let shapes = [
            (one.clone(), vec![""]),
            (json!([minimal("a"), minimal("b")]), vec!["/0", "/1"]),
            (
                json!({ "@context": "https://schema.org", "@graph": [one] }),
                vec!["/@graph/0"],
            ),
            (
                json!({ "@type": "DataFeed", "dataFeedElement": [
                    { "@type": "DataFeedItem", "item": [minimal("a")] },
                    { "@type": "DataFeedItem", "item": minimal("b") },
                ] }),
                vec!["/dataFeedElement/0/item/0", "/dataFeedElement/1/item"],
            ),
            (
                json!({ "claims": [{ "text": "t", "claimReview": [
                    { "url": "https://example.org/1", "textualRating": "False" },
                    { "url": "https://example.org/2", "textualRating": "Faux" },
                ] }] }),
                vec!["/claims/0/claimReview/0", "/claims/0/claimReview/1"],
            ),
        ];
        for (document, pointers) in shapes {
            let found: Vec<String> = reviews(document.clone())
                .into_iter()
                .map(|r| r.at.pointer)
                .collect();
            assert_eq!(found, pointers, "{document}");
        }
    }

    #[test]
    fn json_lines_keep_their_line_and_a_broken_file_names_its_position() {
        let text = format!("{}\n\n{}\n", minimal("a"), minimal("b"));
        let lines: Vec<Option<usize>> = read(text.as_bytes())
            .expect("JSON Lines")
            .into_iter()
            .map(|item| match item {
                Item::Review(r) => r.at.line,
                Item::Refused(r) => panic!("{r:?}"),
            })
            .collect();
        assert_eq!(lines, vec![Some(1), Some(3)]);

        let truncated = format!("{}\n{{\"@type\": \"ClaimRev", minimal("a"));
        assert!(matches!(
            read(truncated.as_bytes()),
            Err(BadFile::NotJson { line: 2, .. })
        ));
        let cut = &minimal("a").to_string()[..30];
        assert!(matches!(
            read(cut.as_bytes()),
            Err(BadFile::NotJson { line: 1, .. })
        ));
        assert_eq!(read(b"\xff\xfe{}"), Err(BadFile::NotUtf8 { offset: 0 }));
        assert_eq!(read(b" \n "), Err(BadFile::Empty));
        // Nesting past what the JSON reader takes is a bad file, not a crash.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            read(deep.as_bytes()),
            Err(BadFile::NotJson { line: 1, .. })
        ));
    }

    #[test]
    fn dates_in_the_formats_publishers_use() {
        let cases = [
            ("2021-7-9", "2021-07-09"),
            ("2022-08-11", "2022-08-11"),
            ("2019-04-10T12:09:05+05:30", "2019-04-10"),
            ("2020-03-27T10:46:13+0200", "2020-03-27"),
            ("2023-01-24T13:32:06.838Z", "2023-01-24"),
            ("2020-08-31 17:22:16", "2020-08-31"),
            ("2021-06-01 23:35", "2021-06-01"),
        ];
        for (raw, day) in cases {
            let read = when(raw).unwrap_or_else(|| panic!("{raw} not read"));
            assert_eq!(read.day().to_string(), day, "{raw}");
        }
        assert!(matches!(
            when("2020-03-27T10:46:13+0200"),
            Some(When::Instant(_))
        ));
        assert!(matches!(when("2021-06-01 23:35"), Some(When::Local(_))));
        assert_eq!(when("last Tuesday"), None);
        assert_eq!(when("2021-13-01"), None);
    }

    #[test]
    fn authors_ratings_and_appearances_are_read_however_they_are_written() {
        let review = &reviews(json!({
            "@type": ["Review", "ClaimReview"],
            "url": "aosfatos.org/noticias/x/",
            "author": [{ "@type": "Person", "name": "A Reporter" }],
            "publisher": { "@type": "NewsMediaOrganization", "name": "Aos Fatos", "url": "https://www.aosfatos.org/" },
            "claimReviewed": "  A claim\u{a0}",
            "datePublished": "2022-8-11",
            "reviewRating": { "ratingValue": "", "bestRating": "6", "worstRating": "x", "alternateName": "falso", "image": "i.png" },
            "itemReviewed": {
                "@type": "creativeWork",
                "author": { "@type": "Organization", "name": ["Mzwandile Masina", "mayor"], "sameAs": "https://w" },
                "firstAppearance": { "@type": "CreativeWork", "url": "https://example.org/first" },
                "appearance": ["https://example.org/first", { "url": "example.org/second" }],
                "datePublished": "yesterday",
            },
            "dateModified": "2022-08-12",
        }))[0];
        assert_eq!(
            review.url.as_deref(),
            Some("https://aosfatos.org/noticias/x/")
        );
        assert_eq!(review.claim, "A claim");
        assert_eq!(
            review.reviewer.as_ref().map(|p| p.name.as_str()),
            Some("Aos Fatos")
        );
        assert_eq!(
            review.published.map(|w| w.day().to_string()).as_deref(),
            Some("2022-08-11")
        );
        assert_eq!(
            review.claimant,
            Some(Party {
                name: "Mzwandile Masina".into(),
                kind: PartyKind::Organization,
                url: None,
                title: None,
                wikidata: None,
            })
        );
        assert_eq!(review.claimed, None);
        assert_eq!(
            review.appearances,
            ["https://example.org/first", "https://example.org/second"]
        );
        assert_eq!(
            review.rating,
            Rating {
                label: Some("falso".into()),
                value: None,
                best: Some(6.0),
                worst: None
            }
        );
        let pointers: Vec<&str> = review
            .unreadable
            .iter()
            .map(|u| u.at.pointer.as_str())
            .collect();
        assert_eq!(
            pointers,
            ["/reviewRating/worstRating", "/itemReviewed/datePublished"]
        );
        let unmapped: BTreeSet<&str> = review.unmapped.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            unmapped,
            BTreeSet::from([
                "/dateModified",
                "/reviewRating/image",
                "/itemReviewed/author/sameAs"
            ])
        );
    }

    #[test]
    fn the_reviewer_falls_back_to_the_review_host_and_a_bare_claimant_is_a_name() {
        let review = &reviews(json!({
            "@type": "ClaimReview", "claimReviewed": "c", "url": "https://www.example.org/fact/1",
            "itemReviewed": { "author": "Facebook user" },
            "reviewRating": "Mostly false",
        }))[0];
        assert_eq!(
            review.reviewer,
            Some(Party {
                name: "example.org".into(),
                kind: PartyKind::Organization,
                url: Some("https://example.org/".into()),
                title: None,
                wikidata: None,
            })
        );
        assert_eq!(
            review.claimant,
            Some(Party {
                name: "Facebook user".into(),
                kind: PartyKind::Unknown,
                url: None,
                title: None,
                wikidata: None,
            })
        );
        assert_eq!(review.rating.label.as_deref(), Some("Mostly false"));
    }

    /// JSON made of the words ClaimReview documents use, nested at random.
    fn documents() -> impl Strategy<Value = Value> {
        let words = prop::sample::select(vec![
            "@type",
            "@graph",
            "claimReviewed",
            "itemReviewed",
            "author",
            "publisher",
            "url",
            "reviewRating",
            "ratingValue",
            "bestRating",
            "alternateName",
            "datePublished",
            "appearance",
            "firstAppearance",
            "claims",
            "claimReview",
            "text",
            "item",
            "dataFeedElement",
            "name",
            "jobTitle",
            "textualRating",
            "a/b",
            "c~d",
        ]);
        let strings = prop::sample::select(vec![
            "ClaimReview",
            "DataFeedItem",
            "Person",
            "Organization",
            "Claim",
            "2021-7-9",
            "2020-03-27T10:46:13+0200",
            "not a date",
            "example.org/x",
            "/relative",
            "https://e.org/a",
            "",
            " ",
            "Falso",
            "3",
            "x",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            strings.prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 120, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((words.clone(), inner), 0..6).prop_map(|pairs| {
                    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }

    /// The place itself, or for a field that is missing, the object it is missing from.
    fn resolves(document: &Value, place: &Place) -> bool {
        document.pointer(&place.pointer).is_some()
            || place
                .pointer
                .rsplit_once('/')
                .is_some_and(|(parent, _)| document.pointer(parent).is_some_and(Value::is_object))
    }

    proptest! {
        #[test]
        fn every_place_reported_is_in_the_document(document in documents()) {
            for item in items(&document, None) {
                match item {
                    Item::Review(review) => {
                        prop_assert!(document.pointer(&review.at.pointer).is_some_and(Value::is_object));
                        for place in review.unmapped.iter().chain(review.unreadable.iter().map(|u| &u.at)) {
                            prop_assert!(document.pointer(&place.pointer).is_some(), "{place}");
                        }
                        prop_assert!(!review.claim.trim().is_empty());
                    }
                    Item::Refused(refusal) => prop_assert!(resolves(&document, &refusal.at), "{}", refusal.at),
                }
            }
        }
    }

    #[test]
    fn what_is_not_a_review_is_refused_with_its_place_and_field() {
        let found = items(
            &json!([
                { "@type": "ClaimReview", "claimReviewed": " ", "url": "https://e/1" },
                { "@type": "NewsArticle", "headline": "h" },
                42,
            ]),
            Some(7),
        );
        let refusals: Vec<(String, String)> = found
            .into_iter()
            .map(|item| match item {
                Item::Refused(r) => (r.at.to_string(), r.field),
                Item::Review(r) => panic!("{r:?}"),
            })
            .collect();
        assert_eq!(
            refusals,
            [
                (
                    "line 7, /0/claimReviewed".to_owned(),
                    "claimReviewed".to_owned()
                ),
                ("line 7, /1/@type".to_owned(), "@type".to_owned()),
                ("line 7, /2".to_owned(), "@type".to_owned()),
            ]
        );
    }
}
