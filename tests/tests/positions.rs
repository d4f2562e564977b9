//! Positions over time through the real schema and the service: position histories
//! (`positionHistory`, `Speaker.positionHistory`), `Claim.positions`, `positionChanges`
//! with its filters and keyset pages, scorecards, and the ordering rules (date
//! precision, time of day with its UTC offset, creation). Property tests check that
//! the changes found equal those computed naively, whatever the order of insertion.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use claimtrack::service::Actor;
use claimtrack::service::position::{self, ChangeFilter};
use claimtrack::service::statement::NewStatement;
use entity::{DatePrecision, StanceKind, StatementKind};
use proptest::prelude::*;
use serde_json::{Value, json};
use tests::TestDb;
use tests::fixtures::{
    claim, claim_with_topics, outlet, said, speaker, statement, topic, with_field,
};
use uuid::Uuid;

const HISTORY: &str = "query($s: ID!, $c: ID!) {
    positionHistory(speakerId: $s, claimId: $c) {
        stance statedOn statedOnPrecision reported statement { id text }
    }
}";

const SPEAKER_HISTORY: &str = "query($s: ID!, $c: ID!) {
    speaker(id: $s) {
        positionHistory(claimId: $c) {
            stance statedOn statedOnPrecision reported statement { id text }
        }
    }
}";

const CHANGES: &str = "query($s: ID, $c: ID, $t: ID, $from: Date, $to: Date, $first: Int, $after: String) {
    positionChanges(speakerId: $s, claimId: $c, topicId: $t, from: $from, to: $to, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node {
            days
            speaker { id } claim { id }
            from { stance statedOn reported statement { id } }
            to { stance statedOn reported statement { id } }
            links { id relation status source { id } targetStatement { id } }
        } }
    }
}";

const SCORECARD: &str = "query($s: ID!, $from: Date, $to: Date) {
    scorecard(speakerId: $s, from: $from, to: $to) {
        statements reportedStatements claims positionChanges verdicts bands { band count }
    }
}";

const ALL_BANDS: [&str; 6] = [
    "FALSE",
    "MOSTLY_FALSE",
    "MIXED",
    "MOSTLY_TRUE",
    "TRUE",
    "UNRATED",
];

// ---------------------------------------------------------------------------------
// Setup through the mutations

async fn history(db: &TestDb, speaker: &str, claim: &str) -> Vec<Value> {
    db.ok(HISTORY, json!({ "s": speaker, "c": claim })).await["positionHistory"]
        .as_array()
        .unwrap()
        .clone()
}

fn ids_of(history: &[Value]) -> Vec<String> {
    history
        .iter()
        .map(|p| p["statement"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `positionChanges` (one page of 100) for the given variables.
async fn changes(db: &TestDb, vars: Value) -> Value {
    let mut vars = vars;
    vars["first"] = json!(100);
    db.ok(CHANGES, vars).await["positionChanges"].clone()
}

/// The (from, to) statement ids of a page of changes.
fn pairs(conn: &Value) -> Vec<(String, String)> {
    conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["from"]["statement"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                e["node"]["to"]["statement"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

/// The later statement of each change of a page.
fn later(conn: &Value) -> Vec<String> {
    pairs(conn).into_iter().map(|(_, to)| to).collect()
}

/// Consecutive pairs of a list of ids.
fn consecutive(ids: &[&String]) -> Vec<(String, String)> {
    ids.windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect()
}

// ---------------------------------------------------------------------------------
// The demo data set

struct Demo {
    db: TestDb,
    trump: String,
    putin: String,
    lavrov: String,
    group: String,
    channel: String,
}

async fn demo() -> Demo {
    let db = TestDb::new().await;
    claimtrack::demo::load(db.db())
        .await
        .expect("load the demo");
    let ids = db
        .ok(
            r#"{
              trump: speaker(slug: "donald-trump") { id }
              putin: speaker(slug: "vladimir-putin") { id }
              lavrov: speaker(slug: "sergei-lavrov") { id }
              group: claim(slug: "russia-us-cyber-security-working-group") { id }
              channel: claim(slug: "russia-us-ukraine-channel") { id }
            }"#,
            json!({}),
        )
        .await;
    let id = |k: &str| ids[k]["id"].as_str().unwrap().to_owned();
    Demo {
        trump: id("trump"),
        putin: id("putin"),
        lavrov: id("lavrov"),
        group: id("group"),
        channel: id("channel"),
        db,
    }
}

#[tokio::test]
async fn demo_trump_supported_twice_then_opposed_once_with_a_confirmed_reversal() {
    let d = demo().await;
    let positions = history(&d.db, &d.trump, &d.group).await;
    let summary: Vec<_> = positions
        .iter()
        .map(|p| {
            (
                p["stance"].as_str().unwrap(),
                p["statedOn"].as_str().unwrap(),
                p["reported"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("SUPPORTS", "2017-07-07", true),
            ("SUPPORTS", "2017-07-09", false),
            ("OPPOSES", "2017-07-09", false),
        ]
    );
    assert!(
        positions[0]["statement"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Agreed with Vladimir Putin")
    );
    assert!(
        positions[1]["statement"]["text"]
            .as_str()
            .unwrap()
            .contains("impenetrable")
    );
    assert!(
        positions[2]["statement"]["text"]
            .as_str()
            .unwrap()
            .contains("It can't")
    );

    let via_speaker =
        d.db.ok(SPEAKER_HISTORY, json!({ "s": d.trump, "c": d.group }))
            .await;
    assert_eq!(
        via_speaker["speaker"]["positionHistory"],
        Value::Array(positions.clone())
    );

    // The reported Hamburg statement is also Trump's position on the Ukraine channel.
    let channel = history(&d.db, &d.trump, &d.channel).await;
    assert_eq!(channel.len(), 1);
    assert_eq!(channel[0]["reported"], true);
    // Lavrov reported it: it is not Lavrov's position.
    let lavrov = history(&d.db, &d.lavrov, &d.group).await;
    assert_eq!(lavrov.len(), 1);
    assert_eq!(lavrov[0]["statedOn"], "2017-07-24");

    // Exactly one change: SUPPORTS → OPPOSES within hours, with its confirmed reversal.
    let conn = changes(&d.db, json!({ "s": d.trump })).await;
    assert_eq!(conn["totalCount"], 1);
    let edges = conn["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    let change = &edges[0]["node"];
    assert_eq!(change["from"]["stance"], "SUPPORTS");
    assert_eq!(change["to"]["stance"], "OPPOSES");
    assert_eq!(change["days"], 0);
    assert_eq!(change["speaker"]["id"], d.trump.as_str());
    assert_eq!(change["claim"]["id"], d.group.as_str());
    assert_eq!(
        change["from"]["statement"]["id"],
        positions[1]["statement"]["id"]
    );
    assert_eq!(
        change["to"]["statement"]["id"],
        positions[2]["statement"]["id"]
    );
    let links = change["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["relation"], "REVERSES");
    assert_eq!(links[0]["status"], "CONFIRMED");
    assert_eq!(links[0]["source"]["id"], change["from"]["statement"]["id"]);
    assert_eq!(
        links[0]["targetStatement"]["id"],
        change["to"]["statement"]["id"]
    );

    // Nobody else changed position in the demo.
    assert_eq!(changes(&d.db, json!({})).await["totalCount"], 1);
    assert_eq!(
        changes(&d.db, json!({ "s": d.putin })).await["totalCount"],
        0
    );
}

#[tokio::test]
async fn demo_claim_positions_and_trumps_scorecard() {
    let d = demo().await;
    let data = d
        .db
        .ok(
            r#"{ claim(slug: "russia-us-cyber-security-working-group") {
                positions { speaker { id slug } latest { stance statedOn reported } positions changes }
            } }"#,
            json!({}),
        )
        .await;
    let positions = data["claim"]["positions"].as_array().unwrap();
    let summary: Vec<_> = positions
        .iter()
        .map(|p| {
            (
                p["speaker"]["slug"].as_str().unwrap(),
                p["latest"]["stance"].as_str().unwrap(),
                p["latest"]["statedOn"].as_str().unwrap(),
                p["positions"].as_i64().unwrap(),
                p["changes"].as_i64().unwrap(),
            )
        })
        .collect();
    // Most recent first.
    assert_eq!(
        summary,
        [
            ("sergei-lavrov", "SUPPORTS", "2017-07-24", 1, 0),
            ("donald-trump", "OPPOSES", "2017-07-09", 3, 1),
            ("vladimir-putin", "SUPPORTS", "2017-07-07", 1, 0),
        ]
    );
    assert_eq!(positions[1]["speaker"]["id"], d.trump.as_str());
    assert_eq!(positions[2]["latest"]["reported"], true);

    // Trump's scorecard: three statements (one reported), two claims, one change.
    let card = d.db.ok(SCORECARD, json!({ "s": d.trump })).await["scorecard"].clone();
    assert_eq!(card["statements"], 3);
    assert_eq!(card["reportedStatements"], 1);
    assert_eq!(card["claims"], 2);
    assert_eq!(card["positionChanges"], 1);
    assert_eq!(card["verdicts"], 0);
    let bands: Vec<_> = card["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["band"].as_str().unwrap(), b["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(bands, ALL_BANDS.map(|b| (b, 0)));

    // The change falls on 2017-07-09: a range ending the day before has none.
    let before =
        d.db.ok(SCORECARD, json!({ "s": d.trump, "to": "2017-07-08" }))
            .await["scorecard"]
            .clone();
    assert_eq!(
        (
            &before["statements"],
            &before["reportedStatements"],
            &before["positionChanges"]
        ),
        (&json!(1), &json!(1), &json!(0))
    );
}

#[tokio::test]
async fn demo_journalists_question_is_answered_in_one_query() {
    let d = demo().await;
    // "How did Trump's position on this claim change, and which reports followed up?"
    let data = d
        .db
        .ok(
            r#"query($s: ID!, $c: ID!) {
              speaker(id: $s) {
                name
                positionHistory(claimId: $c) {
                  stance statedOn reported statement { text reportedBy { name } }
                }
              }
              positionChanges(speakerId: $s, claimId: $c) {
                totalCount
                nodes {
                  days from { stance statedOn } to { stance statedOn }
                  links { relation status note }
                }
              }
              timeline(filter: { speakerIds: [$s], claimIds: [$c], kinds: [FOLLOW_UP] }) {
                totalCount
                nodes { at kind link { relation status source { statedOn } targetStatement { statedOn text } } }
              }
            }"#,
            json!({ "s": d.trump, "c": d.group }),
        )
        .await;
    assert_eq!(data["speaker"]["name"], "Donald Trump");
    let history = data["speaker"]["positionHistory"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[0]["statement"]["reportedBy"]["name"],
        "Sergei Lavrov"
    );
    assert_eq!(data["positionChanges"]["totalCount"], 1);
    let change = &data["positionChanges"]["nodes"][0];
    assert_eq!(
        (&change["from"]["stance"], &change["to"]["stance"]),
        (&json!("SUPPORTS"), &json!("OPPOSES"))
    );
    assert_eq!(change["links"][0]["relation"], "REVERSES");
    // The follow-ups: Trump's own account of Hamburg, and the reversal hours later.
    let follow_ups = data["timeline"]["nodes"].as_array().unwrap();
    assert_eq!(data["timeline"]["totalCount"], 2);
    let mut relations: Vec<_> = follow_ups
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "FOLLOW_UP");
            assert_eq!(e["link"]["status"], "CONFIRMED");
            assert_eq!(e["link"]["targetStatement"]["statedOn"], "2017-07-09");
            e["link"]["relation"].as_str().unwrap()
        })
        .collect();
    relations.sort();
    assert_eq!(relations, ["FOLLOWS_UP", "REVERSES"]);
}

// ---------------------------------------------------------------------------------
// Ordering rules

#[tokio::test]
async fn a_month_precision_statement_sorts_at_the_start_of_its_month() {
    let db = TestDb::new().await;
    let (s, c) = (speaker(&db, "Speaker").await, claim(&db, "A claim").await);
    // Entered first, but said on the 5th.
    let day = statement(&db, said(&s, &c, "OPPOSES", "2017-07-05")).await;
    let month = statement(
        &db,
        with_field(
            said(&s, &c, "SUPPORTS", "2017-07-01"),
            "statedOnPrecision",
            json!("MONTH"),
        ),
    )
    .await;
    let positions = history(&db, &s, &c).await;
    assert_eq!(ids_of(&positions), [month.clone(), day.clone()]);
    assert_eq!(positions[0]["statedOnPrecision"], "MONTH");
    assert_eq!(positions[0]["statedOn"], "2017-07-01");

    let conn = changes(&db, json!({ "s": s })).await;
    assert_eq!(pairs(&conn), [(month, day)]);
    assert_eq!(conn["edges"][0]["node"]["days"], 4);
}

/// Three rules on one day, each with a speaker and a claim of its own: an untimed
/// statement first, then timed ones by UTC instant (the offset counts), and
/// untimed ones among themselves by creation.
#[tokio::test]
async fn on_one_day_untimed_first_then_utc_instant_then_creation() {
    let db = TestDb::new().await;
    let timed = |s: &str, c: &str, stance: &str, on: &str, time: &str| {
        with_field(said(s, c, stance, on), "statedTime", json!(time))
    };

    // Entered in the reverse of the order they were said in.
    let (s, c) = (speaker(&db, "Untimed first").await, claim(&db, "One").await);
    let on = "2017-07-10";
    let evening = statement(&db, timed(&s, &c, "SUPPORTS", on, "20:00-04:00")).await;
    let morning = statement(&db, timed(&s, &c, "OPPOSES", on, "08:00-04:00")).await;
    let untimed = statement(&db, said(&s, &c, "NEUTRAL", on)).await;
    let expected = [&untimed, &morning, &evening];
    assert_eq!(
        ids_of(&history(&db, &s, &c).await),
        expected.map(Clone::clone)
    );
    let conn = changes(&db, json!({ "s": s, "c": c })).await;
    assert_eq!(pairs(&conn), consecutive(&expected));
    assert_eq!(conn["totalCount"], 2);

    // 20:00 in London is later than 23:30 in Karachi (18:30 UTC).
    let (s, c) = (speaker(&db, "Offsets count").await, claim(&db, "Two").await);
    let on = "2017-07-12";
    let london = statement(&db, timed(&s, &c, "SUPPORTS", on, "20:00+00:00")).await;
    let karachi = statement(&db, timed(&s, &c, "OPPOSES", on, "23:30+05:00")).await;
    assert_eq!(
        ids_of(&history(&db, &s, &c).await),
        [karachi.clone(), london.clone()]
    );
    let conn = changes(&db, json!({ "s": s })).await;
    assert_eq!(pairs(&conn), [(karachi, london)]);
    assert_eq!(conn["edges"][0]["node"]["from"]["stance"], "OPPOSES");

    // Neither time known: creation decides.
    let (s, c) = (
        speaker(&db, "Creation order").await,
        claim(&db, "Three").await,
    );
    let on = "2017-07-14";
    let first = statement(&db, said(&s, &c, "SUPPORTS", on)).await;
    let second = statement(&db, said(&s, &c, "UNCLEAR", on)).await;
    let third = statement(&db, said(&s, &c, "SUPPORTS", on)).await;
    let fourth = statement(&db, said(&s, &c, "SUPPORTS", on)).await;
    let expected = [&first, &second, &third, &fourth];
    assert_eq!(
        ids_of(&history(&db, &s, &c).await),
        expected.map(Clone::clone)
    );
    // UNCLEAR counts as a stance; two SUPPORTS in a row are no change.
    let conn = changes(&db, json!({ "s": s })).await;
    assert_eq!(pairs(&conn), consecutive(&expected[..3]));
    assert_eq!(
        conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["days"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [0, 0]
    );
}

// ---------------------------------------------------------------------------------
// positionChanges: filters, pages, refusals

struct Changes {
    db: TestDb,
    a: String,
    b: String,
    c1: String,
    c2: String,
    claim_topic: String,
    statement_topic: String,
    /// The later statements of the four changes, by date: A on C1 (07-05), A on C2
    /// (07-10, statement filed under the statement topic), B on C1 (07-15), A on C2
    /// (07-20).
    a_c1: String,
    a_c2: String,
    b_c1: String,
    a_c2_again: String,
}

async fn changes_fixture() -> Changes {
    let db = TestDb::new().await;
    let claim_topic = topic(&db, "Cyber security").await;
    let statement_topic = topic(&db, "Twitter").await;
    let c1 = claim_with_topics(&db, "Claim one", &[&claim_topic]).await;
    let c2 = claim(&db, "Claim two").await;
    let (a, b) = (speaker(&db, "A").await, speaker(&db, "B").await);
    statement(&db, said(&a, &c1, "SUPPORTS", "2017-07-01")).await;
    statement(&db, said(&a, &c2, "SUPPORTS", "2017-07-02")).await;
    statement(&db, said(&b, &c1, "OPPOSES", "2017-07-03")).await;
    let a_c1 = statement(&db, said(&a, &c1, "OPPOSES", "2017-07-05")).await;
    let a_c2 = statement(
        &db,
        with_field(
            said(&a, &c2, "OPPOSES", "2017-07-10"),
            "topicIds",
            json!([statement_topic]),
        ),
    )
    .await;
    let b_c1 = statement(&db, said(&b, &c1, "SUPPORTS", "2017-07-15")).await;
    let a_c2_again = statement(&db, said(&a, &c2, "SUPPORTS", "2017-07-20")).await;
    Changes {
        db,
        a,
        b,
        c1,
        c2,
        claim_topic,
        statement_topic,
        a_c1,
        a_c2,
        b_c1,
        a_c2_again,
    }
}

#[tokio::test]
async fn position_changes_filter_by_speaker_claim_topic_and_dates() {
    let f = changes_fixture().await;
    let cases = [
        (json!({}), vec![&f.a_c1, &f.a_c2, &f.b_c1, &f.a_c2_again]),
        (json!({ "s": f.a }), vec![&f.a_c1, &f.a_c2, &f.a_c2_again]),
        (json!({ "s": f.b }), vec![&f.b_c1]),
        (json!({ "c": f.c1 }), vec![&f.a_c1, &f.b_c1]),
        (json!({ "s": f.a, "c": f.c2 }), vec![&f.a_c2, &f.a_c2_again]),
        // The claim is filed under the topic.
        (json!({ "t": f.claim_topic }), vec![&f.a_c1, &f.b_c1]),
        // The later statement is filed under the topic.
        (json!({ "t": f.statement_topic }), vec![&f.a_c2]),
        // Bounds on the later position's date, both inclusive.
        (
            json!({ "from": "2017-07-10", "to": "2017-07-15" }),
            vec![&f.a_c2, &f.b_c1],
        ),
        (
            json!({ "from": "2017-07-05", "to": "2017-07-05" }),
            vec![&f.a_c1],
        ),
        (json!({ "from": "2017-07-16" }), vec![&f.a_c2_again]),
        (json!({ "to": "2017-07-04" }), vec![]),
        (
            json!({ "s": f.a, "t": f.claim_topic, "from": "2017-07-01" }),
            vec![&f.a_c1],
        ),
    ];
    for (vars, expected) in cases {
        let conn = changes(&f.db, vars.clone()).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(later(&conn), expected, "{vars}");
        assert_eq!(conn["totalCount"], expected.len(), "{vars}");
    }
    // Each change stays within one speaker and one claim.
    let conn = changes(&f.db, json!({})).await;
    let owners: Vec<_> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["speaker"]["id"].as_str().unwrap().to_owned(),
                e["node"]["claim"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        [
            (f.a.clone(), f.c1.clone()),
            (f.a.clone(), f.c2.clone()),
            (f.b.clone(), f.c1.clone()),
            (f.a.clone(), f.c2.clone()),
        ]
    );
}

#[tokio::test]
async fn position_changes_pages_walk_every_change_exactly_once() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Flip-flopper").await;
    let (c1, c2) = (claim(&db, "One").await, claim(&db, "Two").await);
    // Untimed and timed statements, several on one day, some bearing on both claims:
    // page boundaries fall on every kind of sort key.
    let stances = ["SUPPORTS", "OPPOSES", "NEUTRAL", "UNCLEAR"];
    for i in 0..14usize {
        let on = format!("2017-07-{:02}", 1 + i / 3);
        let mut input = said(&s, &c1, stances[i % 4], &on);
        if i % 2 == 0 {
            input["stances"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "claimId": c2, "stance": stances[(i / 2) % 2] }));
        }
        if i % 3 == 1 {
            input["statedTime"] = json!(format!("{:02}:15+02:00", 6 + i));
        }
        statement(&db, input).await;
    }
    let all = changes(&db, json!({ "s": s })).await;
    let total = all["totalCount"].as_u64().unwrap() as usize;
    assert!(total >= 15, "{total}");
    let everything: Vec<_> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["to"]["statement"]["id"].clone(),
                e["node"]["claim"]["id"].clone(),
            )
        })
        .collect();
    assert_eq!(everything.len(), total);

    for page_size in [1, 3, 4] {
        let mut walked = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let page = db
                .ok(
                    CHANGES,
                    json!({ "s": s, "first": page_size, "after": after }),
                )
                .await["positionChanges"]
                .clone();
            pages += 1;
            assert_eq!(page["totalCount"], total);
            let edges = page["edges"].as_array().unwrap();
            assert!(edges.len() <= page_size);
            walked.extend(edges.iter().map(|e| {
                (
                    e["node"]["to"]["statement"]["id"].clone(),
                    e["node"]["claim"]["id"].clone(),
                )
            }));
            if page["pageInfo"]["hasNextPage"] == false {
                break;
            }
            assert_eq!(edges.len(), page_size);
            after = page["pageInfo"]["endCursor"].clone();
            assert!(pages <= total + 1, "the walk does not end");
        }
        assert_eq!(walked, everything, "pages of {page_size}");
    }
}

#[tokio::test]
async fn position_queries_refuse_bad_input_and_unknown_ids() {
    let f = changes_fixture().await;
    let before = f.db.counts().await;

    let err = f.db.err(CHANGES, json!({ "after": "not-a-cursor" })).await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{err}");
    assert_eq!(err["extensions"]["field"], "after", "{err}");
    // A cursor of another list is no cursor of this one.
    let other = f
        .db
        .ok(
            "query($s: [ID!]) { timeline(filter: { speakerIds: $s }, first: 1) { pageInfo { endCursor } } }",
            json!({ "s": [f.a] }),
        )
        .await["timeline"]["pageInfo"]["endCursor"]
        .clone();
    let err = f.db.err(CHANGES, json!({ "after": other })).await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{err}");
    assert_eq!(err["extensions"]["field"], "after", "{err}");

    let err =
        f.db.err(CHANGES, json!({ "from": "2017-07-10", "to": "2017-07-01" }))
            .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{err}");
    assert_eq!(err["extensions"]["field"], "to", "{err}");

    let err = f.db.err(CHANGES, json!({ "s": "nope" })).await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{err}");
    assert_eq!(err["extensions"]["field"], "speakerId", "{err}");

    let unknown = Uuid::now_v7().to_string();
    let err = f.db.err(HISTORY, json!({ "s": unknown, "c": f.c1 })).await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND", "{err}");
    assert_eq!(err["extensions"]["field"], "speakerId", "{err}");
    let err = f.db.err(HISTORY, json!({ "s": f.a, "c": unknown })).await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND", "{err}");
    assert_eq!(err["extensions"]["field"], "claimId", "{err}");

    let err =
        f.db.err(
            SCORECARD,
            json!({ "s": f.a, "from": "2017-07-10", "to": "2017-07-01" }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{err}");
    let err = f.db.err(SCORECARD, json!({ "s": unknown })).await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND", "{err}");
    assert_eq!(err["extensions"]["field"], "speakerId", "{err}");

    assert_eq!(f.db.counts().await, before);
}

#[tokio::test]
async fn scorecard_counts_published_verdicts_by_band_and_changes_in_range() {
    let f = changes_fixture().await;
    let outlet = outlet(&f.db, "PolitiFact").await;
    // Scores 0, 0.25, 0.5, 1 and unrated are published; a DRAFT is not counted.
    let verdicts = [
        (&f.a_c1, json!(1.0), "PUBLISHED"),
        (&f.a_c1, json!(2.0), "PUBLISHED"),
        (&f.a_c2, json!(3.0), "PUBLISHED"),
        (&f.a_c2_again, json!(5.0), "PUBLISHED"),
        (&f.a_c2_again, Value::Null, "PUBLISHED"),
        (&f.a_c2_again, json!(5.0), "DRAFT"),
        (&f.b_c1, json!(5.0), "PUBLISHED"),
    ];
    for (statement, value, status) in verdicts {
        let scale = if value.is_null() {
            json!({})
        } else {
            json!({ "ratingValue": value, "bestRating": 5, "worstRating": 1 })
        };
        let mut input = json!({
            "statementId": statement, "reviewerId": outlet, "ratingLabel": "Rated",
            "status": status, "publishedAt": "2017-08-01T00:00:00Z",
        });
        for (k, v) in scale.as_object().unwrap() {
            input[k] = v.clone();
        }
        f.db.ok(
            "mutation($input: CreateVerdictInput!) { createVerdict(input: $input) { verdict { id } } }",
            json!({ "input": input }),
        )
        .await;
    }
    let card = f.db.ok(SCORECARD, json!({ "s": f.a })).await["scorecard"].clone();
    assert_eq!(card["statements"], 5);
    assert_eq!(card["reportedStatements"], 0);
    assert_eq!(card["claims"], 2);
    assert_eq!(card["positionChanges"], 3);
    assert_eq!(card["verdicts"], 5);
    let bands: Vec<_> = card["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["band"].as_str().unwrap(), b["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        bands,
        [
            ("FALSE", 1),
            ("MOSTLY_FALSE", 1),
            ("MIXED", 1),
            ("MOSTLY_TRUE", 0),
            ("TRUE", 1),
            ("UNRATED", 1),
        ]
    );
    // Within 07-05..07-10: two statements, both changes' later positions, their verdicts.
    let card =
        f.db.ok(
            SCORECARD,
            json!({ "s": f.a, "from": "2017-07-05", "to": "2017-07-10" }),
        )
        .await["scorecard"]
            .clone();
    assert_eq!(
        (
            &card["statements"],
            &card["claims"],
            &card["positionChanges"],
            &card["verdicts"]
        ),
        (&json!(2), &json!(2), &json!(2), &json!(3))
    );
}

// ---------------------------------------------------------------------------------
// Property tests: changes found equal changes computed naively

const STANCES: [StanceKind; 4] = [
    StanceKind::Supports,
    StanceKind::Opposes,
    StanceKind::Neutral,
    StanceKind::Unclear,
];

/// One generated position: a stance, a day of July 2017 (the 1st for MONTH
/// precision), and maybe a time of day with its UTC offset in minutes.
#[derive(Debug, Clone)]
struct Said {
    stance: usize,
    day: u32,
    month: bool,
    time: Option<(u32, u32, i32)>,
}

impl Said {
    fn stated_on(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2017, 7, self.day).unwrap()
    }

    fn time(&self) -> Option<String> {
        self.time.map(|(h, m, offset)| {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.abs();
            format!("{h:02}:{m:02}{sign}{:02}:{:02}", abs / 60, abs % 60)
        })
    }

    /// The UTC instant, when the time of day is known.
    fn instant(&self) -> Option<NaiveDateTime> {
        self.time.map(|(h, m, offset)| {
            self.stated_on().and_hms_opt(h, m, 0).unwrap() - Duration::minutes(i64::from(offset))
        })
    }
}

fn said_strategy() -> impl Strategy<Value = Said> {
    (
        0..4usize,
        // Few days, so that ties on one day are common.
        prop_oneof![1..=3u32, 1..=31u32],
        prop::bool::weighted(0.25),
        prop::option::of((
            0..24u32,
            prop::sample::select(vec![0u32, 30, 59]),
            prop::sample::select(vec![-600i32, -240, 0, 180, 330, 840]),
        )),
    )
        .prop_map(|(stance, day, month, time)| {
            if month {
                Said {
                    stance,
                    day: 1,
                    month: true,
                    time: None,
                }
            } else {
                Said {
                    stance,
                    day,
                    month: false,
                    time,
                }
            }
        })
}

/// Inserts one statement through the service.
async fn insert(
    db: &TestDb,
    speaker: Uuid,
    stances: Vec<(Uuid, StanceKind)>,
    said: &Said,
) -> entity::statement::Model {
    claimtrack::service::statement::create(
        db.db(),
        &Actor::system(),
        NewStatement {
            speaker_id: speaker,
            text: format!("{said:?}"),
            kind: StatementKind::Quote,
            stated_on: said.stated_on(),
            stated_on_precision: if said.month {
                DatePrecision::Month
            } else {
                DatePrecision::Day
            },
            stated_time: said.time(),
            venue: None,
            context: None,
            language: "en".into(),
            reported_by_id: None,
            stances,
            topic_ids: vec![],
            appearances: vec![],
        },
    )
    .await
    .expect("create a statement")
}

async fn new_speaker(db: &TestDb, name: &str) -> Uuid {
    speaker(db, name).await.parse().unwrap()
}

async fn new_claim(db: &TestDb, text: &str) -> Uuid {
    claim(db, text).await.parse().unwrap()
}

/// Position order, computed naively: date, then the UTC instant (untimed first),
/// then creation (uuid v7 ids are time-ordered).
type NaiveKey = (NaiveDate, Option<NaiveDateTime>, Uuid);

fn naive_key(said: &Said, id: Uuid) -> NaiveKey {
    (said.stated_on(), said.instant(), id)
}

/// Consecutive positions with different stances.
fn naive_changes(history: &[(NaiveKey, usize)]) -> Vec<(Uuid, Uuid)> {
    history
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .map(|w| (w[0].0.2, w[1].0.2))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // No regression files next to the sources; a failure prints its case.
        failure_persistence: None,
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(20))]

    #[test]
    fn changes_equal_the_naive_ones_for_any_order_of_insertion(
        inserted in prop::collection::vec(said_strategy(), 1..12)
            .prop_flat_map(|v| Just(v).prop_shuffle())
    ) {
        runtime().block_on(async {
            let db = TestDb::new().await;
            let speaker = new_speaker(&db, "Generated").await;
            let claim = new_claim(&db, "Generated claim").await;
            let mut expected: Vec<(NaiveKey, usize)> = Vec::new();
            let mut utc = HashMap::new();
            for said in &inserted {
                let model = insert(&db, speaker, vec![(claim, STANCES[said.stance])], said).await;
                utc.insert(model.id, said.instant());
                expected.push((naive_key(said, model.id), said.stance));
            }
            expected.sort();

            let found = position::history(db.db(), speaker, claim).await.unwrap();
            let found_ids: Vec<_> = found.iter().map(|p| (p.statement_id, p.stance)).collect();
            let expected_ids: Vec<_> = expected.iter().map(|(k, s)| (k.2, STANCES[*s])).collect();
            assert_eq!(found_ids, expected_ids, "history of {inserted:?}");
            for p in &found {
                assert_eq!(p.stated_at_utc, utc[&p.statement_id], "instant of {p:?}");
                assert!(!p.reported);
            }

            let filter = ChangeFilter {
                speaker_id: Some(speaker),
                claim_id: Some(claim),
                ..ChangeFilter::default()
            };
            let found: Vec<_> = position::changes(db.db(), &filter, None, 1000)
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.from.statement_id, c.to.statement_id))
                .collect();
            let naive = naive_changes(&expected);
            assert_eq!(found, naive, "changes of {inserted:?}");

            let data = db
                .ok(
                    "query($s: ID!, $c: ID!) {
                        positionHistory(speakerId: $s, claimId: $c) { statement { id } }
                        positionChanges(speakerId: $s) { totalCount }
                    }",
                    json!({ "s": speaker, "c": claim }),
                )
                .await;
            assert_eq!(data["positionChanges"]["totalCount"], naive.len());
            assert_eq!(
                ids_of(data["positionHistory"].as_array().unwrap()),
                expected.iter().map(|(k, _)| k.2.to_string()).collect::<Vec<_>>()
            );
        });
    }
}

/// A generated statement of one of two speakers, bearing on one or both of two claims.
#[derive(Debug, Clone)]
struct Mixed {
    speaker: usize,
    stances: [Option<usize>; 2],
    said: Said,
}

fn mixed_strategy() -> impl Strategy<Value = Mixed> {
    (
        0..2usize,
        prop::option::of(0..4usize),
        prop::option::of(0..4usize),
        said_strategy(),
    )
        .prop_map(|(speaker, one, two, said)| Mixed {
            speaker,
            stances: match (one, two) {
                (None, None) => [Some(said.stance), None],
                _ => [one, two],
            },
            said,
        })
}

/// The (speaker, claim, from, to) of each change listed.
fn listed(changes: &[position::ChangeRow]) -> BTreeSet<(Uuid, Uuid, Uuid, Uuid)> {
    changes
        .iter()
        .map(|c| {
            (
                c.to.speaker_id,
                c.to.claim_id,
                c.from.statement_id,
                c.to.statement_id,
            )
        })
        .collect()
}

/// Interleaved histories of two speakers on two claims (a statement may bear on
/// both): every change found lies within one history, and all of them are found.
/// The cases share one database, each with speakers and claims of its own.
#[test]
fn changes_never_cross_speakers_or_claims() {
    let rt = runtime();
    let db = rt.block_on(TestDb::new());
    let strategy =
        prop::collection::vec(mixed_strategy(), 1..16).prop_flat_map(|v| Just(v).prop_shuffle());
    let mut runner = proptest::test_runner::TestRunner::new(config(24));
    let result = runner.run(&strategy, |inserted| {
        rt.block_on(async {
            let case = Uuid::now_v7().simple().to_string();
            let speakers = [
                new_speaker(&db, &format!("One {case}")).await,
                new_speaker(&db, &format!("Two {case}")).await,
            ];
            let claims = [
                new_claim(&db, "First").await,
                new_claim(&db, "Second").await,
            ];
            let mut histories: HashMap<(usize, usize), Vec<(NaiveKey, usize)>> = HashMap::new();
            for m in &inserted {
                let stances = (0..2)
                    .filter_map(|c| m.stances[c].map(|s| (claims[c], STANCES[s])))
                    .collect();
                let model = insert(&db, speakers[m.speaker], stances, &m.said).await;
                for (c, stance) in m.stances.iter().enumerate() {
                    if let Some(s) = stance {
                        histories
                            .entry((m.speaker, c))
                            .or_default()
                            .push((naive_key(&m.said, model.id), *s));
                    }
                }
            }
            // (speaker, claim, from, to) of every change, computed per history.
            let mut expected = BTreeSet::new();
            for ((speaker, claim), history) in &mut histories {
                history.sort();
                for (from, to) in naive_changes(history) {
                    expected.insert((speakers[*speaker], claims[*claim], from, to));
                }
            }

            let list = |filter: ChangeFilter| {
                let db = db.db();
                async move { position::changes(db, &filter, None, 1000).await.unwrap() }
            };
            let mut found = BTreeSet::new();
            for claim in claims {
                let changes = list(ChangeFilter {
                    claim_id: Some(claim),
                    ..ChangeFilter::default()
                })
                .await;
                // Both speakers' changes, in list order: the later position's order.
                let keys: Vec<_> = changes
                    .iter()
                    .map(|c| (c.to.stated_on, c.to.stated_at_utc, c.to.statement_id))
                    .collect();
                let mut sorted = keys.clone();
                sorted.sort();
                assert_eq!(keys, sorted, "list order of {inserted:?}");
                for c in &changes {
                    assert_eq!(c.from.speaker_id, c.to.speaker_id);
                    assert_eq!(c.from.claim_id, claim);
                    assert_eq!(c.to.claim_id, claim);
                }
                let these = listed(&changes);
                assert_eq!(these.len(), changes.len(), "a change listed twice");
                found.extend(these);
            }
            assert_eq!(found, expected, "changes of {inserted:?}");
            for speaker in speakers {
                let changes = list(ChangeFilter {
                    speaker_id: Some(speaker),
                    ..ChangeFilter::default()
                })
                .await;
                let wanted: BTreeSet<_> = expected
                    .iter()
                    .filter(|c| c.0 == speaker)
                    .copied()
                    .collect();
                assert_eq!(listed(&changes), wanted, "changes of {inserted:?}");
            }
        });
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
