//! Statements through the real schema: create with stances, topics and appearances
//! and read every field back, the filtered and ordered list with its keyset pages,
//! updates with their revisions, appearances, deletes, and every refused input
//! (which writes nothing).

use chrono::{Days, Utc};
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::{assert_refused, id_of, revisions, sorted};
use tests::fixtures::{article, claim, outlet, speaker, topic, with};
use uuid::Uuid;

const FIELDS: &str =
    "id speaker { id } reportedBy { id } reported text kind statedOn statedOnPrecision statedTime
    venue context language version createdAt updatedAt
    stances { claim { id } stance } topics { id name }
    appearances { id first excerpt charOffset timecodeMs article { id } }
    speakerRole { id title }";

fn create_query() -> String {
    format!(
        "mutation($input: CreateStatementInput!) {{ createStatement(input: $input) {{ statement {{ {FIELDS} }} }} }}"
    )
}

fn update_query() -> String {
    format!(
        "mutation($input: UpdateStatementInput!) {{ updateStatement(input: $input) {{ statement {{ {FIELDS} }} }} }}"
    )
}

fn read_query() -> String {
    format!("query($id: ID!) {{ statement(id: $id) {{ {FIELDS} }} }}")
}

const DELETE: &str =
    "mutation($input: DeleteInput!) { deleteStatement(input: $input) { deletedId version } }";

const ADD_APPEARANCE: &str = "mutation($input: AddAppearanceInput!) {
    addAppearance(input: $input) { appearance { id first excerpt charOffset timecodeMs article { id } statement { id } } }
}";

const LIST: &str = "query($filter: StatementFilter, $orderBy: StatementOrder, $first: Int, $after: String,
                          $last: Int, $before: String) {
    statements(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { id statedOn } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

// ---------------------------------------------------------------------------------
// Setup through the other resources' mutations

async fn role(
    db: &TestDb,
    speaker: &str,
    title: &str,
    started_on: Option<&str>,
    ended_on: Option<&str>,
) -> String {
    let data = db
        .ok(
            "mutation($input: CreateSpeakerRoleInput!) { createSpeakerRole(input: $input) { speakerRole { id } } }",
            json!({ "input": { "speakerId": speaker, "title": title, "startedOn": started_on, "endedOn": ended_on } }),
        )
        .await;
    data["createSpeakerRole"]["speakerRole"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The smallest valid input for a statement by `speaker`.
fn minimal(speaker: &str) -> Value {
    json!({
        "speakerId": speaker,
        "text": "The proposals to set up a Russia-U.S. cyber security working group remain topical.",
        "kind": "PARAPHRASE",
        "statedOn": "2017-07-24",
        "language": "en",
    })
}

async fn create(db: &TestDb, input: Value) -> Value {
    db.ok(&create_query(), json!({ "input": input })).await["createStatement"]["statement"].clone()
}

async fn read(db: &TestDb, id: &str) -> Value {
    db.ok(&read_query(), json!({ "id": id })).await["statement"].clone()
}

async fn update(db: &TestDb, input: Value) -> Value {
    db.ok(&update_query(), json!({ "input": input })).await["updateStatement"]["statement"].clone()
}

async fn list(db: &TestDb, variables: Value) -> Value {
    db.ok(LIST, variables).await["statements"].clone()
}

/// The node ids of a connection, in order.
fn nodes(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Ids of a statement list filtered by `filter`.
async fn filtered(db: &TestDb, filter: Value) -> Vec<String> {
    nodes(&list(db, json!({ "filter": filter, "first": 100 })).await)
}

/// `totalCount` of the statement list filtered by `filter`.
async fn total(db: &TestDb, filter: Value) -> Value {
    list(db, json!({ "filter": filter, "first": 1 })).await["totalCount"].clone()
}

/// Ids of the whole statement list in `order`.
async fn ordered(db: &TestDb, order: &str) -> Vec<String> {
    nodes(&list(db, json!({ "orderBy": order })).await)
}

async fn assert_create_refused(db: &TestDb, input: Value, code: &str, field: &str) -> Value {
    assert_refused(db, &create_query(), json!({ "input": input }), code, field).await
}

/// The stances of a revision snapshot, as `(claim id, stance)` pairs.
fn snapshot_stances(snapshot: &Value) -> Vec<(String, String)> {
    snapshot["stances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["claim_id"].as_str().unwrap().to_owned(),
                s["stance"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A small corpus after the demo data: who said what about which claim, where.
struct Corpus {
    lavrov: String,
    putin: String,
    trump: String,
    group: String,
    channel: String,
    security: String,
    ukraine: String,
    tass: String,
    follow_up: String,
    /// Lavrov, 2017-07-24: the working group proposals remain topical (SUPPORTS group).
    topical: String,
    /// Putin, 2017-07-07, reported by Lavrov: group SUPPORTS, channel SUPPORTS.
    agreed: String,
    /// Trump, 2017-07-09, morning: group SUPPORTS.
    unit: String,
    /// Trump, 2017-07-09, evening: group OPPOSES, channel UNCLEAR.
    cant: String,
    /// Lavrov, 2017-07-24, in Russian, no claim.
    childish: String,
}

async fn corpus(db: &TestDb) -> Corpus {
    let (lavrov, putin, trump) = (
        speaker(db, "Sergei Lavrov").await,
        speaker(db, "Vladimir Putin").await,
        speaker(db, "Donald Trump").await,
    );
    let group = claim(
        db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    let channel = claim(
        db,
        "Russia and the U.S. will set up a channel on settling the Ukrainian crisis",
    )
    .await;
    let (security, ukraine) = (
        topic(db, "Cyber security").await,
        topic(db, "Ukraine").await,
    );
    let outlet_id = outlet(db, "TASS").await;
    let tass = article(
        db,
        &outlet_id,
        "Lavrov says cyber security working group still on agenda",
    )
    .await;
    let follow_up = article(db, &outlet_id, "Trump on the cyber security unit").await;

    let topical = id_of(
        &create(
            db,
            with(
                &minimal(&lavrov),
                json!({
                    "stances": [{ "claimId": group, "stance": "SUPPORTS" }],
                    "topicIds": [security],
                    "appearances": [{ "articleId": tass, "first": true }],
                }),
            ),
        )
        .await,
    );
    let agreed = id_of(
        &create(
            db,
            json!({
                "speakerId": putin,
                "reportedById": lavrov,
                "text": "Putin and Trump agreed to set up a channel on settling the Ukrainian crisis and to discuss a joint cyber security working group.",
                "kind": "PARAPHRASE",
                "statedOn": "2017-07-07",
                "language": "en",
                "stances": [{ "claimId": group, "stance": "SUPPORTS" }, { "claimId": channel, "stance": "SUPPORTS" }],
                "topicIds": [security, ukraine],
                "appearances": [{ "articleId": tass }],
            }),
        )
        .await,
    );
    let unit = id_of(
        &create(
            db,
            json!({
                "speakerId": trump,
                "text": "Putin & I discussed forming an impenetrable Cyber Security unit so that election hacking will be guarded.",
                "kind": "QUOTE",
                "statedOn": "2017-07-09",
                "statedTime": "07:50-04:00",
                "language": "en",
                "stances": [{ "claimId": group, "stance": "SUPPORTS" }],
                "appearances": [{ "articleId": follow_up, "first": true }],
            }),
        )
        .await,
    );
    let cant = id_of(
        &create(
            db,
            json!({
                "speakerId": trump,
                "text": "The fact that President Putin and I discussed a Cyber Security unit doesn't mean I think it can happen. It can't.",
                "kind": "QUOTE",
                "statedOn": "2017-07-09",
                "statedTime": "19:45-04:00",
                "language": "en",
                "stances": [{ "claimId": group, "stance": "OPPOSES" }, { "claimId": channel, "stance": "UNCLEAR" }],
            }),
        )
        .await,
    );
    let childish = id_of(
        &create(
            db,
            json!({
                "speakerId": lavrov,
                "text": "Я думаю, что их позиция инфантильна.",
                "kind": "QUOTE",
                "statedOn": "2017-07-24",
                "language": "ru",
            }),
        )
        .await,
    );
    Corpus {
        lavrov,
        putin,
        trump,
        group,
        channel,
        security,
        ukraine,
        tass,
        follow_up,
        topical,
        agreed,
        unit,
        cant,
        childish,
    }
}

// ---------------------------------------------------------------------------------
// Create and read back

#[tokio::test]
async fn create_statement_round_trips_every_field() {
    let db = TestDb::new().await;
    let (lavrov, putin) = (
        speaker(&db, "Sergei Lavrov").await,
        speaker(&db, "Vladimir Putin").await,
    );
    let group = claim(
        &db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    let channel = claim(
        &db,
        "Russia and the U.S. will set up a channel on settling the Ukrainian crisis",
    )
    .await;
    let (ukraine, security) = (
        topic(&db, "Ukraine").await,
        topic(&db, "Cyber security").await,
    );
    let tass_outlet = outlet(&db, "TASS").await;
    let (tass, rudaw) = (
        article(
            &db,
            &tass_outlet,
            "Lavrov says cyber security working group still on agenda",
        )
        .await,
        article(&db, &tass_outlet, "Lavrov interview with Rudaw").await,
    );

    let created = create(
        &db,
        json!({
            "speakerId": putin,
            "reportedById": lavrov,
            "text": "  Putin and Trump agreed to discuss a joint cyber security working group.  ",
            "kind": "PARAPHRASE",
            "statedOn": "2017-07-07",
            "statedTime": "15:04-04:00",
            "venue": "G20 summit, Hamburg",
            "context": "Lavrov reporting the Putin-Trump meeting",
            "language": "en",
            "stances": [{ "claimId": group, "stance": "SUPPORTS" }, { "claimId": channel, "stance": "NEUTRAL" }],
            "topicIds": [ukraine, security, ukraine],
            "appearances": [
                { "articleId": rudaw, "excerpt": "agreed to discuss", "charOffset": 120 },
                { "articleId": tass, "first": true, "timecodeMs": 95000 },
            ],
        }),
    )
    .await;
    let id = id_of(&created);

    let read = read(&db, &id).await;
    assert_eq!(read, created, "the statement reads back as it was created");
    assert_eq!(read["speaker"]["id"], putin.as_str());
    assert_eq!(read["reportedBy"]["id"], lavrov.as_str());
    assert_eq!(read["reported"], true);
    assert_eq!(
        read["text"], "Putin and Trump agreed to discuss a joint cyber security working group.",
        "trimmed"
    );
    assert_eq!(read["kind"], "PARAPHRASE");
    assert_eq!(read["statedOn"], "2017-07-07");
    assert_eq!(
        read["statedOnPrecision"], "DAY",
        "DAY is the default precision"
    );
    assert_eq!(read["statedTime"], "15:04:00-04:00");
    assert_eq!(read["venue"], "G20 summit, Hamburg");
    assert_eq!(read["context"], "Lavrov reporting the Putin-Trump meeting");
    assert_eq!(read["language"], "en");
    assert_eq!(read["version"], 1);
    assert_eq!(read["createdAt"], read["updatedAt"]);
    assert_eq!(
        read["stances"],
        json!([{ "claim": { "id": group }, "stance": "SUPPORTS" }, { "claim": { "id": channel }, "stance": "NEUTRAL" }])
    );
    assert_eq!(
        read["topics"],
        json!([{ "id": security, "name": "Cyber security" }, { "id": ukraine, "name": "Ukraine" }]),
        "topics deduplicated, by name"
    );
    let appearances = read["appearances"].as_array().unwrap();
    assert_eq!(appearances.len(), 2);
    assert_eq!(
        appearances[0]["article"]["id"],
        tass.as_str(),
        "the first appearance comes first"
    );
    assert_eq!(appearances[0]["first"], true);
    assert_eq!(appearances[0]["timecodeMs"], 95000);
    assert_eq!(appearances[0]["excerpt"], Value::Null);
    assert_eq!(appearances[1]["article"]["id"], rudaw.as_str());
    assert_eq!(appearances[1]["first"], false);
    assert_eq!(appearances[1]["excerpt"], "agreed to discuss");
    assert_eq!(appearances[1]["charOffset"], 120);
    assert_eq!(
        read["speakerRole"],
        Value::Null,
        "Putin holds no recorded role"
    );

    assert_eq!(db.count("statement").await, 1);
    assert_eq!(db.count("stance").await, 2);
    assert_eq!(db.count("statement_topic").await, 2);
    assert_eq!(db.count("appearance").await, 2);

    let revs = revisions(&db, &id).await;
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].entity_type, "statement");
    assert_eq!(revs[0].action, entity::RevisionAction::Create);
    assert!(revs[0].before.is_none());
    let after = revs[0].after.clone().unwrap();
    assert_eq!(after["text"], read["text"]);
    assert_eq!(
        snapshot_stances(&after),
        sorted(vec![
            (group.clone(), "SUPPORTS".to_owned()),
            (channel.clone(), "NEUTRAL".to_owned())
        ])
    );
    assert_eq!(after["topic_ids"], json!(sorted(vec![security, ukraine])));
}

#[tokio::test]
async fn create_statement_with_only_the_required_fields() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let created = create(&db, minimal(&lavrov)).await;

    assert_eq!(created["reported"], false);
    assert_eq!(created["reportedBy"], Value::Null);
    assert_eq!(created["statedTime"], Value::Null);
    assert_eq!(created["venue"], Value::Null);
    assert_eq!(created["context"], Value::Null);
    assert_eq!(created["stances"], json!([]));
    assert_eq!(created["topics"], json!([]));
    assert_eq!(created["appearances"], json!([]));
    assert_eq!(db.count("stance").await, 0);
    assert_eq!(db.count("appearance").await, 0);

    // Blank optional text is absent; an imprecise date is the start of its period.
    let imprecise = create(
        &db,
        with(
            &minimal(&lavrov),
            json!({ "statedOn": "2017-07-01", "statedOnPrecision": "MONTH", "venue": "  " }),
        ),
    )
    .await;
    assert_eq!(imprecise["statedOnPrecision"], "MONTH");
    assert_eq!(imprecise["statedOn"], "2017-07-01");
    assert_eq!(imprecise["venue"], Value::Null);
    let yearly = create(
        &db,
        with(
            &minimal(&lavrov),
            json!({ "statedOn": "2017-01-01", "statedOnPrecision": "YEAR" }),
        ),
    )
    .await;
    assert_eq!(yearly["statedOnPrecision"], "YEAR");
}

#[tokio::test]
async fn a_statement_shows_the_role_its_speaker_held_on_its_date() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let envoy = role(
        &db,
        &lavrov,
        "Permanent Representative of Russia to the UN",
        Some("1994-04-12"),
        Some("2004-03-08"),
    )
    .await;
    let minister = role(
        &db,
        &lavrov,
        "Minister of Foreign Affairs of Russia",
        Some("2004-03-09"),
        None,
    )
    .await;

    let on = |date: &str| with(&minimal(&lavrov), json!({ "statedOn": date }));
    let cases = [
        (
            "2017-07-24",
            Some((&minister, "Minister of Foreign Affairs of Russia")),
        ),
        (
            "2004-03-09",
            Some((&minister, "Minister of Foreign Affairs of Russia")),
        ),
        (
            "2004-03-08",
            Some((&envoy, "Permanent Representative of Russia to the UN")),
        ),
        (
            "2000-01-01",
            Some((&envoy, "Permanent Representative of Russia to the UN")),
        ),
        (
            "1994-04-12",
            Some((&envoy, "Permanent Representative of Russia to the UN")),
        ),
        ("1994-04-11", None),
        ("1990-06-01", None),
    ];
    for (date, expected) in cases {
        let created = create(&db, on(date)).await;
        let shown = read(&db, &id_of(&created)).await["speakerRole"].clone();
        match expected {
            Some((id, title)) => {
                assert_eq!(shown, json!({ "id": id, "title": title }), "on {date}")
            }
            None => assert_eq!(shown, Value::Null, "no role covers {date}"),
        }
    }

    // Another speaker's roles are not this one's.
    let putin = speaker(&db, "Vladimir Putin").await;
    let created = create(
        &db,
        with(&minimal(&putin), json!({ "statedOn": "2017-07-07" })),
    )
    .await;
    assert_eq!(created["speakerRole"], Value::Null);
}

// ---------------------------------------------------------------------------------
// The list: filters

#[tokio::test]
async fn statements_filter_by_speakers() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "speakerIds": [c.trump] })).await,
        [c.unit.clone(), c.cant.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "speakerIds": [c.trump, c.putin] })).await,
        [c.agreed.clone(), c.unit.clone(), c.cant.clone()]
    );
    // Lavrov only reported Putin's statement: it is not his.
    assert_eq!(
        filtered(&db, json!({ "speakerIds": [c.lavrov] })).await,
        [c.topical.clone(), c.childish.clone()]
    );
}

#[tokio::test]
async fn statements_filter_by_claims_and_by_stance_on_them() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "claimIds": [c.group] })).await,
        [
            c.agreed.clone(),
            c.unit.clone(),
            c.cant.clone(),
            c.topical.clone()
        ]
    );
    assert_eq!(
        filtered(&db, json!({ "claimIds": [c.channel] })).await,
        [c.agreed.clone(), c.cant.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "claimIds": [c.group, c.channel] })).await,
        [
            c.agreed.clone(),
            c.unit.clone(),
            c.cant.clone(),
            c.topical.clone()
        ],
        "a statement on both claims is listed once"
    );

    assert_eq!(
        filtered(&db, json!({ "claimIds": [c.group], "stance": "OPPOSES" })).await,
        vec![c.cant.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "claimIds": [c.channel], "stance": "UNCLEAR" })).await,
        vec![c.cant.clone()]
    );
    // `cant` opposes the group claim, not the channel: the stance is on the claims named.
    assert_eq!(
        filtered(&db, json!({ "claimIds": [c.channel], "stance": "OPPOSES" })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(
            &db,
            json!({ "claimIds": [c.channel], "stance": "SUPPORTS" })
        )
        .await,
        vec![c.agreed.clone()]
    );
}

#[tokio::test]
async fn statements_filter_by_stance_alone() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "stance": "SUPPORTS" })).await,
        [c.agreed.clone(), c.unit.clone(), c.topical.clone()],
        "a statement supporting two claims is listed once"
    );
    assert_eq!(
        filtered(&db, json!({ "stance": "OPPOSES" })).await,
        vec![c.cant.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "stance": "NEUTRAL" })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(&db, json!({ "stance": "OPPOSES", "speakerIds": [c.putin] })).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn statements_filter_by_topics() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "topicIds": [c.ukraine] })).await,
        vec![c.agreed.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "topicIds": [c.security] })).await,
        [c.agreed.clone(), c.topical.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "topicIds": [c.security, c.ukraine] })).await,
        [c.agreed.clone(), c.topical.clone()],
        "a statement under both topics is listed once"
    );
}

#[tokio::test]
async fn statements_filter_by_articles() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "articleIds": [c.tass] })).await,
        [c.agreed.clone(), c.topical.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "articleIds": [c.follow_up] })).await,
        vec![c.unit.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "articleIds": [c.tass, c.follow_up] })).await,
        [c.agreed.clone(), c.unit.clone(), c.topical.clone()]
    );
}

#[tokio::test]
async fn statements_filter_by_an_inclusive_date_range() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(
            &db,
            json!({ "statedFrom": "2017-07-09", "statedTo": "2017-07-09" })
        )
        .await,
        [c.unit.clone(), c.cant.clone()],
        "both ends are inclusive"
    );
    assert_eq!(
        filtered(&db, json!({ "statedTo": "2017-07-07" })).await,
        vec![c.agreed.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "statedFrom": "2017-07-24" })).await,
        [c.topical.clone(), c.childish.clone()]
    );
    assert_eq!(
        filtered(
            &db,
            json!({ "statedFrom": "2017-07-08", "statedTo": "2017-07-23" })
        )
        .await,
        [c.unit.clone(), c.cant.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "statedFrom": "2017-07-25" })).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn statements_filter_by_language() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "language": "ru" })).await,
        vec![c.childish.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "language": "en" })).await,
        [
            c.agreed.clone(),
            c.unit.clone(),
            c.cant.clone(),
            c.topical.clone()
        ]
    );
    assert_eq!(
        filtered(&db, json!({ "language": "de" })).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn statements_filter_by_words_of_the_text() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(
        filtered(&db, json!({ "text": "impenetrable" })).await,
        vec![c.unit.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "text": "UKRAINIAN channel" })).await,
        vec![c.agreed.clone()],
        "every word, in any order, ignoring case"
    );
    assert_eq!(
        filtered(&db, json!({ "text": "cyber security" })).await,
        [
            c.agreed.clone(),
            c.unit.clone(),
            c.cant.clone(),
            c.topical.clone()
        ]
    );
    assert_eq!(
        filtered(&db, json!({ "text": "cyber unit happen" })).await,
        vec![c.cant.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "text": "channel impenetrable" })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(&db, json!({ "text": "позиция" })).await,
        vec![c.childish.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "text": "   " })).await.len(),
        5,
        "a blank text filters nothing"
    );
}

#[tokio::test]
async fn statements_total_count_follows_the_filters() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    assert_eq!(total(&db, json!({})).await, 5);
    assert_eq!(
        total(&db, json!({ "claimIds": [c.group] })).await,
        4,
        "the whole list, not the page"
    );
    assert_eq!(
        total(
            &db,
            json!({ "speakerIds": [c.trump], "stance": "SUPPORTS" })
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &db,
            json!({ "topicIds": [c.security], "language": "en", "statedFrom": "2017-07-08" })
        )
        .await,
        1
    );
    assert_eq!(
        total(&db, json!({ "text": "cyber", "articleIds": [c.tass] })).await,
        2
    );
    assert_eq!(
        total(&db, json!({ "claimIds": [c.channel], "stance": "OPPOSES" })).await,
        0
    );
}

#[tokio::test]
async fn statements_refuse_a_date_range_that_ends_before_it_starts() {
    let db = TestDb::new().await;
    corpus(&db).await;
    let variables = json!({ "filter": { "statedFrom": "2017-07-24", "statedTo": "2017-07-07" } });
    assert_refused(&db, LIST, variables, "BAD_USER_INPUT", "filter.statedTo").await;
    // One day is a range.
    let one_day = json!({ "filter": { "statedFrom": "2017-07-24", "statedTo": "2017-07-24" } });
    assert_eq!(list(&db, one_day).await["totalCount"], 2);
}

#[tokio::test]
async fn statements_refuse_malformed_filter_ids_naming_their_position() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;
    let cases = [
        (
            json!({ "speakerIds": [c.trump, "nope"] }),
            "filter.speakerIds[1]",
        ),
        (json!({ "claimIds": ["nope"] }), "filter.claimIds[0]"),
        (json!({ "topicIds": ["nope"] }), "filter.topicIds[0]"),
        (
            json!({ "articleIds": [c.tass, "nope"] }),
            "filter.articleIds[1]",
        ),
    ];
    for (filter, field) in cases {
        assert_refused(
            &db,
            LIST,
            json!({ "filter": filter }),
            "BAD_USER_INPUT",
            field,
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------
// The list: order and pages

#[tokio::test]
async fn statements_order_by_stated_on_desc_and_created_at() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    let ascending = [
        c.agreed.clone(),
        c.unit.clone(),
        c.cant.clone(),
        c.topical.clone(),
        c.childish.clone(),
    ];
    assert_eq!(
        nodes(&list(&db, json!({})).await),
        ascending,
        "oldest first by default"
    );
    assert_eq!(ordered(&db, "STATED_ON_ASC").await, ascending);
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    assert_eq!(ordered(&db, "STATED_ON_DESC").await, descending);
    let entered = [
        c.topical.clone(),
        c.agreed.clone(),
        c.unit.clone(),
        c.cant.clone(),
        c.childish.clone(),
    ];
    assert_eq!(ordered(&db, "CREATED_AT_ASC").await, entered);
    let newest: Vec<String> = entered.iter().rev().cloned().collect();
    assert_eq!(ordered(&db, "CREATED_AT_DESC").await, newest);
}

/// 25 statements on 3 dates, entered round-robin so that entry order and date order
/// differ; returns their ids in (statedOn, id) order.
async fn twenty_five_on_three_dates(db: &TestDb) -> Vec<String> {
    let trump = speaker(db, "Donald Trump").await;
    let dates = ["2017-07-24", "2017-07-07", "2017-07-09"];
    let mut made: Vec<(String, String)> = Vec::new();
    for i in 0..25 {
        let date = dates[i % 3];
        let input = with(
            &minimal(&trump),
            json!({ "statedOn": date, "text": format!("Statement number {i}") }),
        );
        made.push((date.to_owned(), id_of(&create(db, input).await)));
    }
    made.sort();
    made.into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn statements_walk_forward_through_ties_on_one_date_exactly_once() {
    let db = TestDb::new().await;
    let expected = twenty_five_on_three_dates(&db).await;

    let mut seen: Vec<String> = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let page = list(&db, json!({ "first": 4, "after": after })).await;
        assert_eq!(page["totalCount"], 25);
        assert_eq!(
            page["pageInfo"]["hasPreviousPage"],
            pages > 0,
            "page {pages}"
        );
        let ids = nodes(&page);
        assert!(ids.len() <= 4);
        assert_eq!(page["pageInfo"]["startCursor"], page["edges"][0]["cursor"]);
        seen.extend(ids);
        pages += 1;
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(pages <= 7, "the walk does not end");
    }
    assert_eq!(pages, 7);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen, expected, "every statement once, by (statedOn, id)");

    // The same walk newest first.
    let mut seen_desc: Vec<String> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = list(
            &db,
            json!({ "orderBy": "STATED_ON_DESC", "first": 4, "after": after }),
        )
        .await;
        seen_desc.extend(nodes(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(seen_desc.len() <= 25, "the walk does not end");
    }
    let reversed: Vec<String> = expected.iter().rev().cloned().collect();
    assert_eq!(seen_desc, reversed);
}

#[tokio::test]
async fn statements_walk_backward_through_ties_on_one_date_exactly_once() {
    let db = TestDb::new().await;
    let expected = twenty_five_on_three_dates(&db).await;

    let mut seen: Vec<String> = Vec::new();
    let mut before = Value::Null;
    let mut pages = 0;
    loop {
        let page = list(&db, json!({ "last": 4, "before": before })).await;
        assert_eq!(page["totalCount"], 25);
        assert_eq!(page["pageInfo"]["hasNextPage"], pages > 0, "page {pages}");
        let mut ids = nodes(&page);
        assert!(ids.len() <= 4);
        ids.extend(seen);
        seen = ids;
        pages += 1;
        if page["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
        assert!(pages <= 7, "the walk does not end");
    }
    assert_eq!(pages, 7);
    assert_eq!(
        seen, expected,
        "every statement once, by (statedOn, id), read from the end"
    );
}

#[tokio::test]
async fn statements_refuse_bad_page_arguments_naming_them() {
    let db = TestDb::new().await;
    corpus(&db).await;

    assert_refused(
        &db,
        LIST,
        json!({ "first": 101 }),
        "BAD_USER_INPUT",
        "first",
    )
    .await;
    assert_refused(&db, LIST, json!({ "first": -1 }), "BAD_USER_INPUT", "first").await;
    assert_refused(
        &db,
        LIST,
        json!({ "after": "garbage" }),
        "BAD_USER_INPUT",
        "after",
    )
    .await;

    // A cursor of the entry-ordered list names no date: it is not a position in the
    // date-ordered one, whichever argument carries it.
    let entered = list(&db, json!({ "orderBy": "CREATED_AT_ASC", "first": 2 })).await;
    let cursor = entered["pageInfo"]["endCursor"].clone();
    assert_refused(
        &db,
        LIST,
        json!({ "first": 2, "after": cursor }),
        "BAD_USER_INPUT",
        "after",
    )
    .await;
    assert_refused(
        &db,
        LIST,
        json!({ "last": 2, "before": cursor }),
        "BAD_USER_INPUT",
        "before",
    )
    .await;
}

#[tokio::test]
async fn statements_refuse_a_cursor_from_the_speaker_list() {
    let db = TestDb::new().await;
    corpus(&db).await;
    let speakers = db
        .ok(
            "query { speakers(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let foreign = speakers["speakers"]["pageInfo"]["endCursor"].clone();
    assert!(foreign.is_string());

    // A name is no date: the client's mistake, not a server failure.
    assert_refused(
        &db,
        LIST,
        json!({ "first": 2, "after": foreign }),
        "BAD_USER_INPUT",
        "after",
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Update

#[tokio::test]
async fn update_statement_replaces_stances_and_the_revision_shows_old_and_new() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let (group, channel, unit) = (
        claim(
            &db,
            "Russia and the U.S. will set up a joint cyber security working group",
        )
        .await,
        claim(
            &db,
            "Russia and the U.S. will set up a channel on settling the Ukrainian crisis",
        )
        .await,
        claim(
            &db,
            "Russia and the U.S. will form an impenetrable cyber security unit",
        )
        .await,
    );
    let created = create(
        &db,
        with(
            &minimal(&trump),
            json!({ "stances": [{ "claimId": group, "stance": "SUPPORTS" }, { "claimId": channel, "stance": "OPPOSES" }] }),
        ),
    )
    .await;
    let id = id_of(&created);

    let updated = update(
        &db,
        json!({ "id": id, "version": 1,
                "stances": [{ "claimId": channel, "stance": "SUPPORTS" }, { "claimId": unit, "stance": "NEUTRAL" }] }),
    )
    .await;
    assert_eq!(updated["version"], 2);
    let mut shown: Vec<(String, String)> = updated["stances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["claim"]["id"].as_str().unwrap().to_owned(),
                s["stance"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    shown.sort();
    let new = sorted(vec![
        (channel.clone(), "SUPPORTS".to_owned()),
        (unit.clone(), "NEUTRAL".to_owned()),
    ]);
    assert_eq!(shown, new);
    assert_eq!(db.count("stance").await, 2, "the group stance is gone");
    assert_eq!(updated["text"], created["text"], "fields left out stay");
    assert_eq!(read(&db, &id).await["stances"], updated["stances"]);

    // Only the group claim's stance left it: the filter agrees.
    assert_eq!(
        filtered(&db, json!({ "claimIds": [group] })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(&db, json!({ "claimIds": [channel], "stance": "SUPPORTS" })).await,
        vec![id.clone()]
    );

    let revs = revisions(&db, &id).await;
    assert_eq!(revs.len(), 2);
    let second = &revs[1];
    assert_eq!(second.action, entity::RevisionAction::Update);
    assert_eq!(second.version, 2);
    let (before, after) = (
        second.before.clone().unwrap(),
        second.after.clone().unwrap(),
    );
    let old = sorted(vec![
        (group, "SUPPORTS".to_owned()),
        (channel, "OPPOSES".to_owned()),
    ]);
    assert_eq!(snapshot_stances(&before), old);
    assert_eq!(snapshot_stances(&after), new);
    assert_eq!(before["version"], 1);
    assert_eq!(after["version"], 2);

    // An empty list removes every stance.
    let cleared = update(&db, json!({ "id": id, "version": 2, "stances": [] })).await;
    assert_eq!(cleared["stances"], json!([]));
    assert_eq!(db.count("stance").await, 0);
}

#[tokio::test]
async fn update_statement_clears_the_stated_time_with_null() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let created = create(
        &db,
        with(
            &minimal(&trump),
            json!({ "statedTime": "07:50-04:00", "venue": "Twitter", "statedOn": "2017-07-09" }),
        ),
    )
    .await;
    assert_eq!(created["statedTime"], "07:50:00-04:00");
    let id = id_of(&created);

    // Leaving it out keeps it.
    let kept = update(
        &db,
        json!({ "id": id, "version": 1, "context": "Morning post" }),
    )
    .await;
    assert_eq!(kept["statedTime"], "07:50:00-04:00");
    assert_eq!(kept["context"], "Morning post");

    let cleared = update(&db, json!({ "id": id, "version": 2, "statedTime": null })).await;
    assert_eq!(cleared["version"], 3);
    assert_eq!(cleared["statedTime"], Value::Null);
    assert_eq!(cleared["venue"], "Twitter");
    assert_eq!(read(&db, &id).await["statedTime"], Value::Null);

    let revs = revisions(&db, &id).await;
    let last = revs.last().unwrap();
    assert_eq!(last.before.clone().unwrap()["stated_time"], "07:50:00");
    assert_eq!(last.after.clone().unwrap()["stated_time"], Value::Null);
    assert_eq!(
        last.after.clone().unwrap()["stated_utc_offset_minutes"],
        Value::Null
    );

    // A UTC time, set again.
    let set = update(
        &db,
        json!({ "id": id, "version": 3, "statedTime": "23:59:30Z" }),
    )
    .await;
    assert_eq!(set["statedTime"], "23:59:30+00:00");
}

#[tokio::test]
async fn update_statement_to_month_precision_needs_the_first_of_the_month() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let created = create(
        &db,
        with(
            &minimal(&trump),
            json!({ "statedOn": "2017-07-09", "statedTime": "07:50-04:00" }),
        ),
    )
    .await;
    let id = id_of(&created);

    let before = db.counts().await;
    let error = db
        .err(
            &update_query(),
            json!({ "input": { "id": id, "version": 1, "statedOnPrecision": "MONTH" } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    let field = error["extensions"]["field"].as_str().unwrap_or_default();
    assert!(
        ["input.statedOn", "input.statedOnPrecision"].contains(&field),
        "{error:#}"
    );
    assert_eq!(db.counts().await, before);

    // The first of the month, but the time of day still set: that is the fault now.
    let input = json!({ "input": { "id": id, "version": 1, "statedOnPrecision": "MONTH", "statedOn": "2017-07-01" } });
    assert_refused(
        &db,
        &update_query(),
        input,
        "BAD_USER_INPUT",
        "input.statedTime",
    )
    .await;

    let unchanged = read(&db, &id).await;
    assert_eq!(unchanged["statedOnPrecision"], "DAY");
    assert_eq!(unchanged["statedOn"], "2017-07-09");
    assert_eq!(unchanged["version"], 1);

    let monthly = update(
        &db,
        json!({ "id": id, "version": 1, "statedOnPrecision": "MONTH", "statedOn": "2017-07-01", "statedTime": null }),
    )
    .await;
    assert_eq!(monthly["statedOnPrecision"], "MONTH");
    assert_eq!(monthly["statedOn"], "2017-07-01");
}

#[tokio::test]
async fn update_statement_refuses_bad_input_and_keeps_the_old_stances() {
    let db = TestDb::new().await;
    let (trump, lavrov) = (
        speaker(&db, "Donald Trump").await,
        speaker(&db, "Sergei Lavrov").await,
    );
    let group = claim(
        &db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    let created = create(
        &db,
        with(
            &minimal(&trump),
            json!({ "stances": [{ "claimId": group, "stance": "SUPPORTS" }] }),
        ),
    )
    .await;
    let id = id_of(&created);
    let input = |extra: Value| json!({ "input": with(&json!({ "id": id, "version": 1 }), extra) });
    let query = update_query();

    let unknown = Uuid::now_v7().to_string();
    let stances = json!({ "stances": [{ "claimId": group, "stance": "OPPOSES" }, { "claimId": unknown, "stance": "SUPPORTS" }] });
    assert_refused(
        &db,
        &query,
        input(stances),
        "NOT_FOUND",
        "input.stances[1].claimId",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "reportedById": trump })),
        "BAD_USER_INPUT",
        "input.reportedById",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "speakerId": unknown })),
        "NOT_FOUND",
        "input.speakerId",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "text": " " })),
        "BAD_USER_INPUT",
        "input.text",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "language": "English" })),
        "BAD_USER_INPUT",
        "input.language",
    )
    .await;
    assert_refused(
        &db,
        &query,
        input(json!({ "statedTime": "noon" })),
        "BAD_USER_INPUT",
        "input.statedTime",
    )
    .await;
    // A speaker made the reporter of their own statement by changing the speaker.
    let swap = json!({ "reportedById": lavrov });
    update(&db, with(&json!({ "id": id, "version": 1 }), swap)).await;
    let own = json!({ "input": { "id": id, "version": 2, "speakerId": lavrov } });
    assert_refused(&db, &query, own, "BAD_USER_INPUT", "input.reportedById").await;

    let read = read(&db, &id).await;
    assert_eq!(
        read["stances"],
        json!([{ "claim": { "id": group }, "stance": "SUPPORTS" }])
    );
    assert_eq!(read["speaker"]["id"], trump.as_str());
    assert_eq!(read["version"], 2);
}

#[tokio::test]
async fn update_statement_with_a_stale_version_is_a_conflict() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let id = id_of(&create(&db, minimal(&trump)).await);
    update(&db, json!({ "id": id, "version": 1, "text": "First edit" })).await;

    let stale = json!({ "input": { "id": id, "version": 1, "text": "Lost edit" } });
    assert_refused(&db, &update_query(), stale, "CONFLICT", "version").await;
    assert_eq!(read(&db, &id).await["text"], "First edit");
}

#[tokio::test]
async fn update_statement_clears_the_reporter_with_null_and_keeps_it_when_left_out() {
    let db = TestDb::new().await;
    let (putin, lavrov) = (
        speaker(&db, "Vladimir Putin").await,
        speaker(&db, "Sergei Lavrov").await,
    );
    let id = id_of(
        &create(
            &db,
            with(&minimal(&putin), json!({ "reportedById": lavrov })),
        )
        .await,
    );

    let kept = update(&db, json!({ "id": id, "version": 1, "kind": "QUOTE" })).await;
    assert_eq!(kept["kind"], "QUOTE");
    assert_eq!(kept["reported"], true);
    assert_eq!(kept["reportedBy"]["id"], lavrov.as_str());

    let direct = update(&db, json!({ "id": id, "version": 2, "reportedById": null })).await;
    assert_eq!(direct["reported"], false);
    assert_eq!(direct["reportedBy"], Value::Null);
    assert_eq!(read(&db, &id).await["reported"], false);
}

// ---------------------------------------------------------------------------------
// Appearances

#[tokio::test]
async fn add_appearance_moves_the_first_mark() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let tass_outlet = outlet(&db, "TASS").await;
    let (tass, rudaw, ria) = (
        article(
            &db,
            &tass_outlet,
            "Lavrov says cyber security working group still on agenda",
        )
        .await,
        article(&db, &tass_outlet, "Lavrov interview with Rudaw").await,
        article(&db, &tass_outlet, "Lavrov on the working group").await,
    );
    let created = create(
        &db,
        with(
            &minimal(&lavrov),
            json!({ "appearances": [{ "articleId": tass, "first": true }] }),
        ),
    )
    .await;
    let id = id_of(&created);
    let old_first = created["appearances"][0]["id"].as_str().unwrap().to_owned();

    let data = db
        .ok(
            ADD_APPEARANCE,
            json!({ "input": { "statementId": id, "articleId": rudaw, "first": true, "excerpt": "remain topical",
                               "charOffset": 42 } }),
        )
        .await;
    let added = &data["addAppearance"]["appearance"];
    assert_eq!(added["first"], true);
    assert_eq!(added["article"]["id"], rudaw.as_str());
    assert_eq!(added["statement"]["id"], id.as_str());
    assert_eq!(added["excerpt"], "remain topical");
    assert_eq!(added["charOffset"], 42);

    let shown = read(&db, &id).await["appearances"].clone();
    let marks: Vec<(String, bool)> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["article"]["id"].as_str().unwrap().to_owned(),
                a["first"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        marks,
        [(rudaw.clone(), true), (tass.clone(), false)],
        "one first appearance, shown first"
    );

    // The old mark's removal is audited.
    let revs = revisions(&db, &old_first).await;
    let last = revs.last().unwrap();
    assert_eq!(last.action, entity::RevisionAction::Update);
    assert_eq!(last.before.clone().unwrap()["first"], true);
    assert_eq!(last.after.clone().unwrap()["first"], false);

    // An appearance not marked first leaves the mark where it is.
    let data = db
        .ok(
            ADD_APPEARANCE,
            json!({ "input": { "statementId": id, "articleId": ria } }),
        )
        .await;
    assert_eq!(data["addAppearance"]["appearance"]["first"], false);
    let shown = read(&db, &id).await["appearances"].clone();
    assert_eq!(shown[0]["article"]["id"], rudaw.as_str());
    assert_eq!(
        shown
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["first"] == true)
            .count(),
        1
    );
    assert_eq!(db.count("appearance").await, 3);
    assert_eq!(filtered(&db, json!({ "articleIds": [ria] })).await, [id]);
}

#[tokio::test]
async fn add_appearance_refuses_the_same_article_twice_and_unknown_ids() {
    let db = TestDb::new().await;
    let lavrov = speaker(&db, "Sergei Lavrov").await;
    let tass_outlet = outlet(&db, "TASS").await;
    let tass = article(
        &db,
        &tass_outlet,
        "Lavrov says cyber security working group still on agenda",
    )
    .await;
    let id = id_of(
        &create(
            &db,
            with(
                &minimal(&lavrov),
                json!({ "appearances": [{ "articleId": tass }] }),
            ),
        )
        .await,
    );

    let again = json!({ "input": { "statementId": id, "articleId": tass, "first": true } });
    assert_refused(
        &db,
        ADD_APPEARANCE,
        again,
        "BAD_USER_INPUT",
        "input.articleId",
    )
    .await;
    let unknown = Uuid::now_v7().to_string();
    let no_article = json!({ "input": { "statementId": id, "articleId": unknown } });
    assert_refused(
        &db,
        ADD_APPEARANCE,
        no_article,
        "NOT_FOUND",
        "input.articleId",
    )
    .await;
    let no_statement = json!({ "input": { "statementId": unknown, "articleId": tass } });
    assert_refused(
        &db,
        ADD_APPEARANCE,
        no_statement,
        "NOT_FOUND",
        "input.statementId",
    )
    .await;
    let negative = json!({ "input": { "statementId": id, "articleId": tass, "charOffset": -1 } });
    assert_refused(
        &db,
        ADD_APPEARANCE,
        negative,
        "BAD_USER_INPUT",
        "input.charOffset",
    )
    .await;
    // The first mark was not taken by the refused request.
    assert_eq!(read(&db, &id).await["appearances"][0]["first"], false);
}

// ---------------------------------------------------------------------------------
// Delete

#[tokio::test]
async fn delete_statement_hides_it_from_lists_and_lookup() {
    let db = TestDb::new().await;
    let c = corpus(&db).await;

    let data = db
        .ok(DELETE, json!({ "input": { "id": c.cant, "version": 1 } }))
        .await;
    assert_eq!(data["deleteStatement"]["deletedId"], c.cant.as_str());
    assert_eq!(data["deleteStatement"]["version"], 2);

    assert_eq!(
        db.ok(&read_query(), json!({ "id": c.cant })).await["statement"],
        Value::Null
    );
    let malformed = db.err(&read_query(), json!({ "id": "not-a-uuid" })).await;
    assert_eq!(
        malformed["extensions"]["code"], "BAD_USER_INPUT",
        "{malformed:#}"
    );
    assert_eq!(malformed["extensions"]["field"], "id");
    let all = list(&db, json!({})).await;
    assert_eq!(all["totalCount"], 4);
    assert!(!nodes(&all).contains(&c.cant));
    assert_eq!(
        filtered(&db, json!({ "speakerIds": [c.trump] })).await,
        vec![c.unit.clone()]
    );
    assert_eq!(
        filtered(&db, json!({ "stance": "OPPOSES" })).await,
        Vec::<String>::new()
    );
    let trumps = db
        .ok(
            "query($id: ID) { speaker(id: $id) { statements { totalCount } } }",
            json!({ "id": c.trump }),
        )
        .await;
    assert_eq!(trumps["speaker"]["statements"]["totalCount"], 1);
    assert_eq!(
        db.count("statement").await,
        5,
        "a soft delete keeps the row"
    );

    let revs = revisions(&db, &c.cant).await;
    let last = revs.last().unwrap();
    assert_eq!(last.action, entity::RevisionAction::Delete);
    assert_eq!(last.version, 2);

    let error = db
        .err(DELETE, json!({ "input": { "id": c.cant, "version": 2 } }))
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn delete_statement_with_a_stale_version_is_a_conflict() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let id = id_of(&create(&db, minimal(&trump)).await);
    update(&db, json!({ "id": id, "version": 1, "text": "Edited" })).await;

    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": id, "version": 1 } }),
        "CONFLICT",
        "version",
    )
    .await;
    assert_eq!(read(&db, &id).await["version"], 2);
    assert_refused(
        &db,
        DELETE,
        json!({ "input": { "id": "not-a-uuid", "version": 2 } }),
        "BAD_USER_INPUT",
        "input.id",
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Refused input on create

#[tokio::test]
async fn create_statement_rejects_empty_text() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    assert_create_refused(
        &db,
        with(&minimal(&trump), json!({ "text": "" })),
        "BAD_USER_INPUT",
        "input.text",
    )
    .await;
}

#[tokio::test]
async fn create_statement_rejects_whitespace_only_text() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    assert_create_refused(
        &db,
        with(&minimal(&trump), json!({ "text": " \n\t  " })),
        "BAD_USER_INPUT",
        "input.text",
    )
    .await;
}

#[tokio::test]
async fn create_statement_rejects_text_over_10000_characters() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let too_long = with(&minimal(&trump), json!({ "text": "x".repeat(10_001) }));
    assert_create_refused(&db, too_long, "BAD_USER_INPUT", "input.text").await;

    // The limit itself is fine, and it counts characters, not bytes.
    let at_limit = create(
        &db,
        with(&minimal(&trump), json!({ "text": "x".repeat(10_000) })),
    )
    .await;
    assert_eq!(at_limit["text"].as_str().unwrap().len(), 10_000);
    let cyrillic = create(
        &db,
        with(
            &minimal(&trump),
            json!({ "text": "я".repeat(10_000), "language": "ru" }),
        ),
    )
    .await;
    assert_eq!(cyrillic["text"].as_str().unwrap().chars().count(), 10_000);
}

#[tokio::test]
async fn create_statement_rejects_an_unknown_speaker() {
    let db = TestDb::new().await;
    speaker(&db, "Donald Trump").await;
    let unknown = Uuid::now_v7().to_string();
    assert_create_refused(&db, minimal(&unknown), "NOT_FOUND", "input.speakerId").await;
    assert_create_refused(
        &db,
        minimal("not-a-uuid"),
        "BAD_USER_INPUT",
        "input.speakerId",
    )
    .await;
}

#[tokio::test]
async fn create_statement_rejects_an_unknown_claim_naming_its_stance() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let group = claim(
        &db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    let unknown = Uuid::now_v7().to_string();
    let input = with(
        &minimal(&trump),
        json!({ "stances": [{ "claimId": group, "stance": "SUPPORTS" }, { "claimId": unknown, "stance": "OPPOSES" }] }),
    );
    assert_create_refused(&db, input, "NOT_FOUND", "input.stances[1].claimId").await;
}

#[tokio::test]
async fn create_statement_rejects_the_same_claim_twice() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let group = claim(
        &db,
        "Russia and the U.S. will set up a joint cyber security working group",
    )
    .await;
    let input = with(
        &minimal(&trump),
        json!({ "stances": [{ "claimId": group, "stance": "SUPPORTS" }, { "claimId": group, "stance": "OPPOSES" }] }),
    );
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.stances[1].claimId").await;
}

#[tokio::test]
async fn create_statement_rejects_an_impossible_date() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let before = db.counts().await;
    let error = db
        .err(
            &create_query(),
            json!({ "input": with(&minimal(&trump), json!({ "statedOn": "2017-02-30" })) }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert!(
        error["message"].as_str().unwrap().contains("2017-02-30"),
        "{error:#}"
    );
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn create_statement_rejects_a_date_in_the_future() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let future = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(3))
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let input = with(&minimal(&trump), json!({ "statedOn": future }));
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.statedOn").await;
    // Today is fine.
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    create(&db, with(&minimal(&trump), json!({ "statedOn": today }))).await;
}

#[tokio::test]
async fn create_statement_rejects_month_precision_on_a_day_other_than_the_first() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let input = with(
        &minimal(&trump),
        json!({ "statedOn": "2017-07-09", "statedOnPrecision": "MONTH" }),
    );
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.statedOn").await;
}

#[tokio::test]
async fn create_statement_rejects_year_precision_in_a_month_other_than_january() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let input = with(
        &minimal(&trump),
        json!({ "statedOn": "2017-03-01", "statedOnPrecision": "YEAR" }),
    );
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.statedOn").await;
}

#[tokio::test]
async fn create_statement_rejects_a_time_of_day_on_a_month_precision_date() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let input = with(
        &minimal(&trump),
        json!({ "statedOn": "2017-07-01", "statedOnPrecision": "MONTH", "statedTime": "15:04-04:00" }),
    );
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.statedTime").await;
}

#[tokio::test]
async fn create_statement_rejects_a_malformed_time_of_day() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    for time in [
        "3pm",
        "15:04",
        "25:00Z",
        "15:04+19:00",
        "2017-07-09T15:04:00Z",
        "",
    ] {
        let input = with(&minimal(&trump), json!({ "statedTime": time }));
        assert_create_refused(&db, input, "BAD_USER_INPUT", "input.statedTime").await;
    }
}

#[tokio::test]
async fn create_statement_rejects_a_bad_language() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    for language in ["English", "", "EN", "e"] {
        let input = with(&minimal(&trump), json!({ "language": language }));
        assert_create_refused(&db, input, "BAD_USER_INPUT", "input.language").await;
    }
    assert_eq!(
        create(&db, with(&minimal(&trump), json!({ "language": "pt-BR" }))).await["language"],
        "pt-BR"
    );
}

#[tokio::test]
async fn create_statement_rejects_a_speaker_reporting_their_own_statement() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let input = with(&minimal(&trump), json!({ "reportedById": trump }));
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.reportedById").await;
    let unknown = with(
        &minimal(&trump),
        json!({ "reportedById": Uuid::now_v7().to_string() }),
    );
    assert_create_refused(&db, unknown, "NOT_FOUND", "input.reportedById").await;
}

#[tokio::test]
async fn create_statement_rejects_an_unknown_topic_naming_its_position() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let known = topic(&db, "Cyber security").await;
    // An id that sorts before every id the service makes.
    let unknown = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001).to_string();

    let input = with(&minimal(&trump), json!({ "topicIds": [unknown] }));
    assert_create_refused(&db, input, "NOT_FOUND", "input.topicIds[0]").await;
    let input = with(&minimal(&trump), json!({ "topicIds": [known, unknown] }));
    assert_create_refused(&db, input, "NOT_FOUND", "input.topicIds[1]").await;
}

#[tokio::test]
async fn create_statement_rejects_an_unknown_article_in_its_appearances() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let tass_outlet = outlet(&db, "TASS").await;
    let tass = article(&db, &tass_outlet, "Trump on the cyber security unit").await;
    let unknown = Uuid::now_v7().to_string();

    let input = with(
        &minimal(&trump),
        json!({ "appearances": [{ "articleId": unknown }] }),
    );
    assert_create_refused(&db, input, "NOT_FOUND", "input.appearances[0].articleId").await;
    let input = with(
        &minimal(&trump),
        json!({ "appearances": [{ "articleId": tass }, { "articleId": unknown }] }),
    );
    assert_create_refused(&db, input, "NOT_FOUND", "input.appearances[1].articleId").await;
}

#[tokio::test]
async fn create_statement_rejects_two_first_appearances() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let tass_outlet = outlet(&db, "TASS").await;
    let (a, b) = (
        article(&db, &tass_outlet, "First report").await,
        article(&db, &tass_outlet, "Second report").await,
    );
    let input = with(
        &minimal(&trump),
        json!({ "appearances": [{ "articleId": a, "first": true }, { "articleId": b, "first": true }] }),
    );
    assert_create_refused(&db, input, "BAD_USER_INPUT", "input.appearances[1].first").await;
    let twice = with(
        &minimal(&trump),
        json!({ "appearances": [{ "articleId": a }, { "articleId": a }] }),
    );
    assert_create_refused(
        &db,
        twice,
        "BAD_USER_INPUT",
        "input.appearances[1].articleId",
    )
    .await;
}

#[tokio::test]
async fn create_statement_rejects_a_negative_char_offset() {
    let db = TestDb::new().await;
    let trump = speaker(&db, "Donald Trump").await;
    let tass_outlet = outlet(&db, "TASS").await;
    let (a, b) = (
        article(&db, &tass_outlet, "First report").await,
        article(&db, &tass_outlet, "Second report").await,
    );

    let two = with(
        &minimal(&trump),
        json!({ "appearances": [{ "articleId": a }, { "articleId": b, "charOffset": -1 }] }),
    );
    assert_create_refused(
        &db,
        two,
        "BAD_USER_INPUT",
        "input.appearances[1].charOffset",
    )
    .await;
    // One appearance is still an element of the list.
    let one = with(
        &minimal(&trump),
        json!({ "appearances": [{ "articleId": a, "charOffset": -5 }] }),
    );
    assert_create_refused(
        &db,
        one,
        "BAD_USER_INPUT",
        "input.appearances[0].charOffset",
    )
    .await;
}
