//! Records made through the real schema for tests about something else: a speaker, a
//! claim, a topic, an outlet, an article, a statement; the inputs they are made from;
//! and an instant between two changes.

use serde_json::{Value, json};

use crate::TestDb;

/// Runs `create{object}` (`Speaker`, `Claim`, …) with `input`; the id of the record made.
async fn create(db: &TestDb, object: &str, input: Value) -> String {
    let mutation = format!("create{object}");
    // The payload names the record in lower camel case: `speakerRole`.
    let field = object[..1].to_lowercase() + &object[1..];
    let query = format!(
        "mutation($input: Create{object}Input!) {{ {mutation}(input: $input) {{ {field} {{ id }} }} }}"
    );
    db.ok(&query, json!({ "input": input })).await[&mutation][&field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{mutation} gave no id"))
        .to_owned()
}

/// A PERSON speaker named `name` (slug made from it); its id.
pub async fn speaker(db: &TestDb, name: &str) -> String {
    create(db, "Speaker", json!({ "name": name, "kind": "PERSON" })).await
}

/// A topic named `name`; its id.
pub async fn topic(db: &TestDb, name: &str) -> String {
    create(db, "Topic", json!({ "name": name })).await
}

/// A claim with `text` and no topics; its id.
pub async fn claim(db: &TestDb, text: &str) -> String {
    create(db, "Claim", json!({ "text": text })).await
}

/// A claim with `text` under the topics `topics`; its id.
pub async fn claim_with_topics(db: &TestDb, text: &str, topics: &[&str]) -> String {
    create(db, "Claim", json!({ "text": text, "topicIds": topics })).await
}

/// An outlet named `name`; its id.
pub async fn outlet(db: &TestDb, name: &str) -> String {
    create(db, "Outlet", json!({ "name": name })).await
}

/// An article of `outlet` titled `title`; its id.
pub async fn article(db: &TestDb, outlet: &str, title: &str) -> String {
    create(db, "Article", json!({ "outletId": outlet, "title": title })).await
}

/// A statement made of `input` (a `CreateStatementInput`); its id.
pub async fn statement(db: &TestDb, input: Value) -> String {
    create(db, "Statement", input).await
}

/// The input of a DAY-precision QUOTE in English by `speaker` on `on`, taking `stance`
/// on `claim`; callers add `statedTime`, `statedOnPrecision` or `topicIds` as they need.
pub fn said(speaker: &str, claim: &str, stance: &str, on: &str) -> Value {
    json!({
        "speakerId": speaker,
        "text": format!("{stance} on {on}"),
        "kind": "QUOTE",
        "statedOn": on,
        "language": "en",
        "stances": [{ "claimId": claim, "stance": stance }],
    })
}

/// `base` with the fields of `extra` set over it; both must be objects.
pub fn with(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    let (Some(fields), Some(extra)) = (out.as_object_mut(), extra.as_object()) else {
        panic!("with merges objects: {base} and {extra}");
    };
    fields.extend(extra.clone());
    out
}

/// `input` with `key` set to `value`.
pub fn with_field(mut input: Value, key: &str, value: Value) -> Value {
    input[key] = value;
    input
}

/// Now, as an RFC 3339 instant with microseconds, a few milliseconds after the last
/// change and before the next: revisions are stamped with the clock.
pub async fn instant() -> String {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    now
}
