//! The merged timeline through the real schema: each kind of event (statements made,
//! verdicts published, follow-ups, position changes) and what is left out (draft
//! verdicts, suggested links), the order within one instant, every filter,
//! `Claim.timeline`, refused filters, and a walk over a timeline of more than 500
//! events, page by page, that meets every event exactly once.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, FixedOffset};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tests::TestDb;
use tests::check::id_of;
use tests::fixtures::{claim, claim_with_topics, outlet, said, speaker, statement, topic};
use uuid::Uuid;

const TIMELINE: &str = "query($f: TimelineFilter!, $first: Int, $after: String) {
    timeline(filter: $f, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node {
            at kind
            statement { id }
            verdict { id status }
            link { id status relation }
            article { id }
            change { speaker { id } claim { id } from { stance statement { id } } to { stance statement { id } } }
        } }
    }
}";

const KINDS: [&str; 4] = [
    "STATEMENT",
    "VERDICT_PUBLISHED",
    "FOLLOW_UP",
    "POSITION_CHANGE",
];

// ---------------------------------------------------------------------------------
// Setup through the mutations

async fn create(db: &TestDb, mutation: &str, input: Value) -> Value {
    let data = db
        .ok(
            &format!(
                "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ {} {{ id version }} }} }}",
                input_type(mutation),
                payload_field(mutation),
            ),
            json!({ "input": input }),
        )
        .await;
    data[mutation][payload_field(mutation)].clone()
}

/// `createArticle` → `CreateArticle`; both settlements take a `SettleLinkInput`.
fn input_type(mutation: &str) -> String {
    if mutation == "confirmLink" {
        return "SettleLink".to_owned();
    }
    let mut c = mutation.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `createArticle` → `article`, `publishVerdict` → `verdict`.
fn payload_field(mutation: &str) -> &'static str {
    match mutation {
        "createArticle" => "article",
        "createVerdict" | "publishVerdict" => "verdict",
        "createLink" | "confirmLink" => "link",
        other => panic!("no payload field for {other}"),
    }
}

/// A confirmed FOLLOWS_UP link from one statement to a later statement.
async fn follow_up(db: &TestDb, source: &str, target: &str) -> String {
    id_of(&create(
        db,
        "createLink",
        json!({ "sourceStatementId": source, "targetStatementId": target, "relation": "FOLLOWS_UP" }),
    )
    .await)
}

async fn verdict(db: &TestDb, subject: Value, reviewer: &str, status: &str, at: Value) -> Value {
    let mut input = json!({
        "reviewerId": reviewer, "ratingLabel": "Mostly False", "ratingValue": 2,
        "bestRating": 5, "worstRating": 1, "status": status, "publishedAt": at,
    });
    for (k, v) in subject.as_object().unwrap() {
        input[k] = v.clone();
    }
    create(db, "createVerdict", input).await
}

async fn timeline(db: &TestDb, filter: Value) -> Value {
    db.ok(TIMELINE, json!({ "f": filter, "first": 100 })).await["timeline"].clone()
}

fn at(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
}

fn instant(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// An event as (kind, the id that names it): the statement made, the verdict, the
/// link, or the later statement of a position change.
fn event(node: &Value) -> (String, String) {
    let kind = node["kind"].as_str().unwrap().to_owned();
    let subject = match kind.as_str() {
        "STATEMENT" => &node["statement"]["id"],
        "VERDICT_PUBLISHED" => &node["verdict"]["id"],
        "FOLLOW_UP" => &node["link"]["id"],
        "POSITION_CHANGE" => &node["change"]["to"]["statement"]["id"],
        other => panic!("unknown kind {other}"),
    };
    (kind, subject.as_str().unwrap().to_owned())
}

fn events(conn: &Value) -> Vec<(String, String)> {
    conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| event(&e["node"]))
        .collect()
}

fn ev(kind: &str, subject: &str) -> (String, String) {
    (kind.to_owned(), subject.to_owned())
}

// ---------------------------------------------------------------------------------
// Kinds of events

#[tokio::test]
async fn timeline_lists_statements_published_verdicts_follow_ups_and_changes() {
    let db = TestDb::new().await;
    let (a, c) = (speaker(&db, "A").await, claim(&db, "A claim").await);
    let reviewer = outlet(&db, "PolitiFact").await;
    let s1 = statement(&db, said(&a, &c, "SUPPORTS", "2017-07-01")).await;
    let mut later = said(&a, &c, "OPPOSES", "2017-07-05");
    later["statedTime"] = json!("10:00+00:00");
    let s2 = statement(&db, later).await;
    let f1 = follow_up(&db, &s1, &s2).await;
    let article = create(
        &db,
        "createArticle",
        json!({ "outletId": reviewer, "title": "A report", "publishedAt": "2017-07-20T12:00:00Z" }),
    )
    .await;
    let f2 = id_of(&create(
        &db,
        "createLink",
        json!({ "sourceStatementId": s1, "targetArticleId": id_of(&article), "relation": "FOLLOWS_UP" }),
    )
    .await);
    let draft = verdict(
        &db,
        json!({ "statementId": s1 }),
        &reviewer,
        "DRAFT",
        Value::Null,
    )
    .await;
    // Creating s2 proposed a REVERSES link s1 → s2: a suggestion is no follow-up.
    let suggestion = db
        .ok(
            "{ contradictionCandidates { nodes { id version } } }",
            json!({}),
        )
        .await["contradictionCandidates"]["nodes"][0]
        .clone();
    assert!(suggestion["id"].is_string(), "a suggestion was proposed");

    let filter = json!({ "speakerIds": [a] });
    let conn = timeline(&db, filter.clone()).await;
    assert_eq!(
        events(&conn),
        [
            ev("STATEMENT", &s1),
            ev("STATEMENT", &s2),
            ev("FOLLOW_UP", &f1),
            ev("POSITION_CHANGE", &s2),
            ev("FOLLOW_UP", &f2),
        ]
    );
    assert_eq!(conn["totalCount"], 5);
    let nodes: Vec<_> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let times: Vec<_> = nodes.iter().map(|n| at(&n["at"])).collect();
    assert_eq!(
        times,
        [
            instant("2017-07-01T00:00:00Z"),
            instant("2017-07-05T10:00:00Z"),
            instant("2017-07-05T10:00:00Z"),
            instant("2017-07-05T10:00:00Z"),
            instant("2017-07-20T12:00:00Z"),
        ]
    );
    // The follow-up to an article names it; the one to a statement, its source.
    assert_eq!(nodes[4]["article"]["id"], id_of(&article).as_str());
    assert_eq!(nodes[4]["statement"]["id"], s1.as_str());
    assert_eq!(nodes[2]["link"]["status"], "CONFIRMED");
    // The change names both positions.
    let change = &nodes[3]["change"];
    assert_eq!(change["from"]["statement"]["id"], s1.as_str());
    assert_eq!(change["from"]["stance"], "SUPPORTS");
    assert_eq!(change["to"]["statement"]["id"], s2.as_str());
    assert_eq!(change["to"]["stance"], "OPPOSES");
    assert_eq!(change["speaker"]["id"], a.as_str());
    assert_eq!(change["claim"]["id"], c.as_str());
    assert!(nodes[0]["change"].is_null() && nodes[0]["verdict"].is_null());

    // Publishing the draft puts it on the timeline at its publication time.
    let published = create(
        &db,
        "publishVerdict",
        json!({ "id": id_of(&draft), "version": draft["version"], "publishedAt": "2017-07-03T09:00:00Z" }),
    )
    .await;
    let conn = timeline(&db, filter.clone()).await;
    let found = events(&conn);
    assert_eq!(found.len(), 6);
    assert_eq!(found[1], ev("VERDICT_PUBLISHED", &id_of(&published)));
    assert_eq!(
        at(&conn["edges"][1]["node"]["at"]),
        instant("2017-07-03T09:00:00Z")
    );
    assert_eq!(conn["edges"][1]["node"]["statement"]["id"], s1.as_str());

    // Confirming the suggestion makes it a follow-up.
    create(
        &db,
        "confirmLink",
        json!({ "id": suggestion["id"], "version": suggestion["version"] }),
    )
    .await;
    let conn = timeline(&db, filter).await;
    let found = events(&conn);
    assert_eq!(conn["totalCount"], 7);
    let kinds: Vec<_> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "STATEMENT",
            "VERDICT_PUBLISHED",
            "STATEMENT",
            "FOLLOW_UP",
            "FOLLOW_UP",
            "POSITION_CHANGE",
            "FOLLOW_UP",
        ]
    );
    let same_instant: BTreeSet<_> = found[3..5].iter().cloned().collect();
    assert_eq!(
        same_instant,
        BTreeSet::from([
            ev("FOLLOW_UP", &f1),
            ev("FOLLOW_UP", suggestion["id"].as_str().unwrap())
        ])
    );
}

#[tokio::test]
async fn timeline_changes_show_the_positions_of_the_position_history() {
    let db = TestDb::new().await;
    let (a, reporter) = (speaker(&db, "A").await, speaker(&db, "B").await);
    let c = claim(&db, "A claim").await;
    let mut month = said(&a, &c, "SUPPORTS", "2017-07-01");
    month["statedOnPrecision"] = json!("MONTH");
    month["reportedById"] = json!(reporter);
    let s1 = statement(&db, month).await;
    let mut timed = said(&a, &c, "OPPOSES", "2017-07-09");
    timed["statedTime"] = json!("10:00+02:00");
    let s2 = statement(&db, timed).await;
    let s3 = statement(&db, said(&a, &c, "NEUTRAL", "2017-08-01")).await;

    const POSITION: &str = "stance statedOn statedOnPrecision reported statement { id text } speaker { id } claim { id }";
    let history = db
        .ok(
            &format!("query($s: ID!, $c: ID!) {{ positionHistory(speakerId: $s, claimId: $c) {{ {POSITION} }} }}"),
            json!({ "s": a, "c": c }),
        )
        .await["positionHistory"]
        .clone();
    let ids: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["statement"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [s1.as_str(), s2.as_str(), s3.as_str()]);
    assert_eq!(history[0]["statement"]["text"], "SUPPORTS on 2017-07-01");
    assert_eq!(
        (&history[0]["statedOnPrecision"], &history[0]["reported"]),
        (&json!("MONTH"), &json!(true))
    );

    // Through `edges.node` and through `nodes` with a fragment: the same changes, each
    // made of two consecutive positions of the history.
    let data = db
        .ok(
            &format!(
                "fragment change on TimelineEvent {{ statement {{ id text }} change {{ days speaker {{ id }} claim {{ id }} from {{ {POSITION} }} to {{ {POSITION} }} }} }}
                 query($s: ID!) {{
                   edges: timeline(filter: {{ speakerIds: [$s], kinds: [POSITION_CHANGE] }}) {{ edges {{ node {{ ...change }} }} }}
                   nodes: timeline(filter: {{ speakerIds: [$s], kinds: [POSITION_CHANGE] }}) {{ nodes {{ ...change }} }}
                 }}"
            ),
            json!({ "s": a }),
        )
        .await;
    let by_edges: Vec<Value> = data["edges"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(&Value::Array(by_edges.clone()), &data["nodes"]["nodes"]);
    assert_eq!(by_edges.len(), 2);
    for (i, node) in by_edges.iter().enumerate() {
        let change = &node["change"];
        assert_eq!(change["from"], history[i]);
        assert_eq!(change["to"], history[i + 1]);
        assert_eq!(node["statement"], history[i + 1]["statement"]);
        assert_eq!(
            (&change["speaker"]["id"], &change["claim"]["id"]),
            (&json!(a), &json!(c))
        );
    }
    assert_eq!(by_edges[0]["change"]["days"], 8);
    assert_eq!(by_edges[1]["change"]["days"], 23);
}

#[tokio::test]
async fn events_at_one_instant_order_statement_verdict_follow_up_change() {
    let db = TestDb::new().await;
    let (a, c) = (speaker(&db, "A").await, claim(&db, "A claim").await);
    let reviewer = outlet(&db, "PolitiFact").await;
    let s1 = statement(&db, said(&a, &c, "SUPPORTS", "2017-07-07")).await;
    // Entered before the statement it shares its instant with.
    let v = verdict(
        &db,
        json!({ "statementId": s1 }),
        &reviewer,
        "PUBLISHED",
        json!("2017-07-09T00:00:00Z"),
    )
    .await;
    let s2 = statement(&db, said(&a, &c, "OPPOSES", "2017-07-09")).await;
    let f = follow_up(&db, &s1, &s2).await;

    let conn = timeline(&db, json!({ "speakerIds": [a] })).await;
    assert_eq!(
        events(&conn),
        [
            ev("STATEMENT", &s1),
            ev("STATEMENT", &s2),
            ev("VERDICT_PUBLISHED", &id_of(&v)),
            ev("FOLLOW_UP", &f),
            ev("POSITION_CHANGE", &s2),
        ]
    );
    for edge in &conn["edges"].as_array().unwrap()[1..] {
        assert_eq!(at(&edge["node"]["at"]), instant("2017-07-09T00:00:00Z"));
    }
    // The same order across page boundaries.
    let mut walked = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = db
            .ok(
                TIMELINE,
                json!({ "f": { "speakerIds": [a] }, "first": 1, "after": after }),
            )
            .await["timeline"]
            .clone();
        walked.extend(events(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(walked, events(&conn));
}

// ---------------------------------------------------------------------------------
// Filters

struct Fixture {
    db: TestDb,
    a: String,
    b: String,
    c1: String,
    c2: String,
    claim_topic: String,
    statement_topic: String,
    a1: String,
    a2: String,
    a3: String,
    b1: String,
    b2: String,
    /// Published 2017-07-06T12:00Z, on b1.
    verdict: String,
    /// Published 2017-07-08T00:00Z, on the claim c1 itself.
    claim_verdict: String,
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let claim_topic = topic(&db, "Cyber security").await;
    let statement_topic = topic(&db, "Twitter").await;
    let c1 = claim_with_topics(&db, "Claim one", &[&claim_topic]).await;
    let c2 = claim(&db, "Claim two").await;
    let (a, b) = (speaker(&db, "A").await, speaker(&db, "B").await);
    let reviewer = outlet(&db, "PolitiFact").await;
    let a1 = statement(&db, said(&a, &c1, "SUPPORTS", "2017-07-01")).await;
    let b1 = statement(&db, said(&b, &c1, "SUPPORTS", "2017-07-02")).await;
    let a2 = statement(&db, said(&a, &c1, "OPPOSES", "2017-07-03")).await;
    let b2 = statement(&db, said(&b, &c2, "OPPOSES", "2017-07-04")).await;
    let mut input = said(&a, &c2, "SUPPORTS", "2017-07-05");
    input["topicIds"] = json!([statement_topic]);
    let a3 = statement(&db, input).await;
    let verdict = id_of(
        &verdict(
            &db,
            json!({ "statementId": b1 }),
            &reviewer,
            "PUBLISHED",
            json!("2017-07-06T12:00:00Z"),
        )
        .await,
    );
    let claim_verdict = id_of(&verdict_on_claim(&db, &c1, &reviewer).await);
    Fixture {
        db,
        a,
        b,
        c1,
        c2,
        claim_topic,
        statement_topic,
        a1,
        a2,
        a3,
        b1,
        b2,
        verdict,
        claim_verdict,
    }
}

async fn verdict_on_claim(db: &TestDb, claim: &str, reviewer: &str) -> Value {
    verdict(
        db,
        json!({ "claimId": claim }),
        reviewer,
        "PUBLISHED",
        json!("2017-07-08T00:00:00Z"),
    )
    .await
}

#[tokio::test]
async fn timeline_filters_by_speakers_claims_topics_dates_and_kinds() {
    let f = fixture().await;
    let s = |id: &str| ev("STATEMENT", id);
    let change = ev("POSITION_CHANGE", &f.a2);
    let v = ev("VERDICT_PUBLISHED", &f.verdict);
    let cv = ev("VERDICT_PUBLISHED", &f.claim_verdict);
    let cases = [
        (
            json!({ "speakerIds": [f.a] }),
            vec![s(&f.a1), s(&f.a2), change.clone(), s(&f.a3)],
        ),
        (
            json!({ "speakerIds": [f.a, f.b] }),
            vec![
                s(&f.a1),
                s(&f.b1),
                s(&f.a2),
                change.clone(),
                s(&f.b2),
                s(&f.a3),
                v.clone(),
            ],
        ),
        (
            json!({ "claimIds": [f.c1] }),
            vec![
                s(&f.a1),
                s(&f.b1),
                s(&f.a2),
                change.clone(),
                v.clone(),
                cv.clone(),
            ],
        ),
        (json!({ "claimIds": [f.c2] }), vec![s(&f.b2), s(&f.a3)]),
        (
            json!({ "claimIds": [f.c1, f.c2] }),
            vec![
                s(&f.a1),
                s(&f.b1),
                s(&f.a2),
                change.clone(),
                s(&f.b2),
                s(&f.a3),
                v.clone(),
                cv.clone(),
            ],
        ),
        // Statements on claims filed under the topic, and verdicts on those claims.
        (
            json!({ "topicIds": [f.claim_topic] }),
            vec![
                s(&f.a1),
                s(&f.b1),
                s(&f.a2),
                change.clone(),
                v.clone(),
                cv.clone(),
            ],
        ),
        // Statements filed under the topic.
        (json!({ "topicIds": [f.statement_topic] }), vec![s(&f.a3)]),
        // Dimensions combine: A's events on c1 only.
        (
            json!({ "speakerIds": [f.a], "claimIds": [f.c1] }),
            vec![s(&f.a1), s(&f.a2), change.clone()],
        ),
        (
            json!({ "speakerIds": [f.b], "claimIds": [f.c2] }),
            vec![s(&f.b2)],
        ),
        // Days bound the events, both inclusive.
        (
            json!({ "speakerIds": [f.a, f.b], "from": "2017-07-02", "to": "2017-07-04" }),
            vec![s(&f.b1), s(&f.a2), change.clone(), s(&f.b2)],
        ),
        (
            json!({ "speakerIds": [f.a, f.b], "from": "2017-07-06", "to": "2017-07-06" }),
            vec![v.clone()],
        ),
        (
            json!({ "claimIds": [f.c1], "from": "2017-07-07" }),
            vec![cv.clone()],
        ),
        (
            json!({ "speakerIds": [f.a, f.b], "kinds": ["POSITION_CHANGE", "VERDICT_PUBLISHED"] }),
            vec![change.clone(), v.clone()],
        ),
        (
            json!({ "claimIds": [f.c1], "kinds": ["VERDICT_PUBLISHED"] }),
            vec![v.clone(), cv.clone()],
        ),
        (
            json!({ "speakerIds": [f.a], "kinds": ["FOLLOW_UP"] }),
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        let conn = timeline(&f.db, filter.clone()).await;
        assert_eq!(events(&conn), expected, "{filter}");
        assert_eq!(conn["totalCount"], expected.len(), "{filter}");
    }
}

/// Every combination of kinds, under every shape of filter, lists exactly the events of
/// those kinds from the unrestricted timeline (whichever kinds a page combines, its
/// SQL branches agree on their column types).
#[tokio::test]
async fn every_combination_of_kinds_lists_the_events_of_those_kinds() {
    let f = fixture().await;
    let link = follow_up(&f.db, &f.b1, &f.b2).await;
    let filters = [
        json!({ "speakerIds": [f.a] }),
        json!({ "speakerIds": [f.a, f.b] }),
        json!({ "claimIds": [f.c1] }),
        json!({ "claimIds": [f.c1, f.c2] }),
        json!({ "topicIds": [f.claim_topic, f.statement_topic] }),
        json!({ "claimIds": [f.c1, f.c2], "topicIds": [f.claim_topic, f.statement_topic] }),
        json!({ "speakerIds": [f.a, f.b], "claimIds": [f.c1, f.c2], "from": "2017-07-02" }),
    ];
    let mut kinds_seen = HashSet::new();
    for filter in filters {
        let all = events(&timeline(&f.db, filter.clone()).await);
        kinds_seen.extend(all.iter().map(|(kind, _)| kind.clone()));
        for mask in 1..(1u32 << KINDS.len()) {
            let kinds: Vec<&str> = KINDS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, kind)| *kind)
                .collect();
            let mut restricted = filter.clone();
            restricted["kinds"] = json!(kinds);
            let conn = timeline(&f.db, restricted.clone()).await;
            let expected: Vec<_> = all
                .iter()
                .filter(|(kind, _)| kinds.contains(&kind.as_str()))
                .cloned()
                .collect();
            assert_eq!(events(&conn), expected, "{restricted}");
            assert_eq!(conn["totalCount"], expected.len(), "{restricted}");
        }
    }
    assert!(
        KINDS.iter().all(|kind| kinds_seen.contains(*kind)),
        "the fixture meets every kind: {kinds_seen:?} (follow-up {link})"
    );
}

#[tokio::test]
async fn claim_timeline_is_the_timeline_of_the_claim() {
    let f = fixture().await;
    let data = f
        .db
        .ok(
            "query($c: ID!) { claim(id: $c) {
                all: timeline { totalCount nodes { kind at statement { id } verdict { id } } }
                statements: timeline(kinds: [STATEMENT], first: 2) { totalCount nodes { statement { id } } pageInfo { hasNextPage } }
            } }",
            json!({ "c": f.c1 }),
        )
        .await;
    let expected = f
        .db
        .ok(
            "query($c: ID!) { timeline(filter: { claimIds: [$c] }) { totalCount nodes { kind at statement { id } verdict { id } } } }",
            json!({ "c": f.c1 }),
        )
        .await;
    assert_eq!(data["claim"]["all"], expected["timeline"]);
    assert_eq!(data["claim"]["all"]["totalCount"], 6);
    let statements = &data["claim"]["statements"];
    assert_eq!(statements["totalCount"], 3);
    assert_eq!(statements["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        statements["nodes"],
        json!([{ "statement": { "id": f.a1 } }, { "statement": { "id": f.b1 } }])
    );
    // Another claim's timeline holds none of it.
    let other =
        f.db.ok(
            "query($c: ID!) { claim(id: $c) { timeline { totalCount } } }",
            json!({ "c": f.c2 }),
        )
        .await;
    assert_eq!(other["claim"]["timeline"]["totalCount"], 2);
}

#[tokio::test]
async fn timeline_refuses_a_filter_naming_nobody_and_bad_arguments() {
    let f = fixture().await;
    let before = f.db.counts().await;
    let refused = [
        (json!({}), Value::Null, "filter"),
        (
            json!({ "kinds": ["STATEMENT"], "from": "2017-07-01" }),
            Value::Null,
            "filter",
        ),
        (
            json!({ "speakerIds": [], "claimIds": [], "topicIds": [] }),
            Value::Null,
            "filter",
        ),
        (
            json!({ "speakerIds": [f.a], "from": "2017-07-05", "to": "2017-07-01" }),
            Value::Null,
            "filter.to",
        ),
        (
            json!({ "speakerIds": ["not-an-id"] }),
            Value::Null,
            "filter.speakerIds[0]",
        ),
        (
            json!({ "speakerIds": [f.a] }),
            json!("not-a-cursor"),
            "after",
        ),
    ];
    for (filter, after, field) in refused {
        let err =
            f.db.err(TIMELINE, json!({ "f": filter, "after": after }))
                .await;
        assert_eq!(
            err["extensions"]["code"], "BAD_USER_INPUT",
            "{filter}: {err}"
        );
        assert_eq!(err["extensions"]["field"], field, "{filter}: {err}");
    }
    // A cursor of another list is no timeline cursor.
    let changes =
        f.db.ok(
            "{ positionChanges(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await["positionChanges"]["pageInfo"]["endCursor"]
            .clone();
    assert!(changes.is_string());
    let err =
        f.db.err(
            TIMELINE,
            json!({ "f": { "speakerIds": [f.a] }, "after": changes }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{err}");
    assert_eq!(err["extensions"]["field"], "after", "{err}");
    // An unknown id names nothing: no events, no error.
    let conn = timeline(&f.db, json!({ "speakerIds": [Uuid::now_v7()] })).await;
    assert_eq!(conn["totalCount"], 0);
    assert_eq!(f.db.counts().await, before);
    // B's statements and the verdict on one of them.
    assert_eq!(
        timeline(&f.db, json!({ "speakerIds": [f.b] })).await["totalCount"],
        3
    );
}

// ---------------------------------------------------------------------------------
// Pagination over a large timeline

/// Runs SQL whose rows are (kind, id, claim id of a change or '').
async fn identities(db: &TestDb, sql: &str) -> BTreeSet<(String, String, String)> {
    db.db()
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                row.try_get_by_index::<String>(0).unwrap(),
                row.try_get_by_index::<Uuid>(1).unwrap().to_string(),
                row.try_get_by_index::<String>(2).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_timeline_of_more_than_500_events_pages_every_event_exactly_once() {
    let db = TestDb::new().await;
    let (a, b) = (speaker(&db, "A").await, speaker(&db, "B").await);
    let (c1, c2) = (claim(&db, "One").await, claim(&db, "Two").await);
    let reviewer = outlet(&db, "PolitiFact").await;
    let article = id_of(&create(
        &db,
        "createArticle",
        json!({ "outletId": reviewer, "title": "A report", "publishedAt": "2017-03-01T06:00:00Z" }),
    )
    .await);
    // 400 statements of A and 60 of B, seven a day: a third without time of day (so
    // many share midnight), the others at a few hours and offsets (so some collide).
    let sql = format!(
        "INSERT INTO statement (id, speaker_id, text, kind, stated_on, stated_on_precision,
                                stated_time, stated_utc_offset_minutes, language)
         SELECT gen_random_uuid(), sp, 'generated ' || g, 'QUOTE'::statement_kind,
                DATE '2017-01-01' + g / 7, 'DAY'::date_precision,
                CASE WHEN g % 3 = 0 THEN NULL ELSE TIME '08:00' + (g % 4) * INTERVAL '1 hour' END,
                CASE WHEN g % 3 = 0 THEN NULL ELSE (g % 5 - 2) * 60 END,
                'en'
         FROM (SELECT '{a}'::uuid AS sp, g FROM generate_series(1, 400) g
               UNION ALL SELECT '{b}'::uuid, g FROM generate_series(1, 60) g) AS gen;
         CREATE TEMP VIEW gen AS
           SELECT s.id, s.speaker_id, s.stated_on, split_part(s.text, ' ', 2)::int AS n
           FROM statement s WHERE s.text LIKE 'generated %';
         INSERT INTO stance (id, statement_id, claim_id, stance)
         SELECT gen_random_uuid(), id, '{c1}',
                (CASE WHEN n % 4 < 2 THEN 'SUPPORTS' ELSE 'OPPOSES' END)::stance_kind
         FROM gen;
         INSERT INTO stance (id, statement_id, claim_id, stance)
         SELECT gen_random_uuid(), id, '{c2}',
                (CASE n % 3 WHEN 0 THEN 'NEUTRAL' WHEN 1 THEN 'UNCLEAR' ELSE 'SUPPORTS' END)::stance_kind
         FROM gen WHERE n % 5 = 0;
         INSERT INTO verdict (id, statement_id, reviewer_id, rating_label, published_at, status)
         SELECT gen_random_uuid(), id, '{reviewer}', 'Rated',
                (stated_on + TIME '12:00') AT TIME ZONE 'UTC',
                (CASE WHEN n % 4 = 0 THEN 'PUBLISHED' ELSE 'DRAFT' END)::verdict_status
         FROM gen WHERE n % 2 = 0;
         INSERT INTO link (id, source_statement_id, target_statement_id, relation, status)
         SELECT gen_random_uuid(), s.id, t.id, 'FOLLOWS_UP'::link_relation,
                (CASE WHEN s.n % 10 = 0 THEN 'CONFIRMED' ELSE 'SUGGESTED' END)::link_status
         FROM gen s JOIN gen t ON t.speaker_id = s.speaker_id AND t.n = s.n + 7
         WHERE s.n % 5 = 0;
         INSERT INTO link (id, source_statement_id, target_article_id, relation, status)
         SELECT gen_random_uuid(), id, '{article}', 'FOLLOWS_UP'::link_relation, 'CONFIRMED'::link_status
         FROM gen WHERE n % 50 = 0;
         DROP VIEW gen;"
    );
    db.db().execute_unprepared(&sql).await.unwrap();

    // What the timeline of A must hold, computed independently.
    let a_filter = format!("s.speaker_id = '{a}' AND s.deleted_at IS NULL");
    let expected = identities(
        &db,
        &format!(
            "SELECT 'STATEMENT', s.id, '' FROM statement s WHERE {a_filter}
             UNION ALL
             SELECT 'VERDICT_PUBLISHED', v.id, '' FROM verdict v JOIN statement s ON s.id = v.statement_id
             WHERE {a_filter} AND v.status = 'PUBLISHED' AND v.deleted_at IS NULL
             UNION ALL
             SELECT 'FOLLOW_UP', l.id, '' FROM link l JOIN statement s ON s.id = l.source_statement_id
             WHERE {a_filter} AND l.status = 'CONFIRMED' AND l.deleted_at IS NULL
             UNION ALL
             SELECT 'POSITION_CHANGE', id, claim_id::text FROM (
               SELECT s.id, st.claim_id, st.stance, lag(st.stance) OVER (
                   PARTITION BY st.claim_id
                   ORDER BY s.stated_on,
                            s.stated_on + s.stated_time - make_interval(mins => s.stated_utc_offset_minutes) NULLS FIRST,
                            s.id) AS before
               FROM stance st JOIN statement s ON s.id = st.statement_id WHERE {a_filter}) p
             WHERE before IS NOT NULL AND before <> stance"
        ),
    )
    .await;
    let count = db
        .db()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT (SELECT count(*) FROM statement s WHERE {a_filter})
                      + (SELECT count(*) FROM verdict v JOIN statement s ON s.id = v.statement_id
                         WHERE {a_filter} AND v.status = 'PUBLISHED')
                      + (SELECT count(*) FROM link l JOIN statement s ON s.id = l.source_statement_id
                         WHERE {a_filter} AND l.status = 'CONFIRMED')
                      + (SELECT count(*) FROM (
                           SELECT st.stance, lag(st.stance) OVER (PARTITION BY st.claim_id
                               ORDER BY s.stated_on, s.stated_at_utc NULLS FIRST, s.id) AS before
                           FROM stance st JOIN statement s ON s.id = st.statement_id WHERE {a_filter}) p
                         WHERE before IS NOT NULL AND before <> stance)"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap() as usize;
    assert!(count >= 500, "only {count} events");

    let filter = json!({ "speakerIds": [a] });
    let mut walked: Vec<(String, String)> = Vec::new();
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let page = db
            .ok(
                TIMELINE,
                json!({ "f": filter, "first": 37, "after": after }),
            )
            .await["timeline"]
            .clone();
        pages += 1;
        assert_eq!(page["totalCount"], count, "page {pages}");
        let edges = page["edges"].as_array().unwrap();
        for edge in edges {
            let node = &edge["node"];
            let e = event(node);
            // A change is named by its later statement and its claim.
            let claim = node["change"]["claim"]["id"].as_str().unwrap_or_default();
            assert!(
                seen.insert((e.clone(), claim.to_owned())),
                "{e:?} listed twice"
            );
            let kind = KINDS.iter().position(|k| *k == e.0).unwrap();
            keys.push((at(&node["at"]), kind));
            walked.push(e);
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        assert_eq!(edges.len(), 37, "a short page before the end");
        after = page["pageInfo"]["endCursor"].clone();
        assert!(pages < 100, "the walk does not end");
    }
    assert_eq!(walked.len(), count);
    assert_eq!(expected.len(), count);
    assert_eq!(pages, count.div_ceil(37));
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "events out of order");
    // Every event exactly once: the very events the independent query finds.
    let seen: BTreeSet<_> = seen
        .into_iter()
        .map(|((kind, id), claim)| (kind, id, claim))
        .collect();
    assert_eq!(seen, expected);
    assert!(
        expected
            .iter()
            .any(|e| e.0 == "POSITION_CHANGE" && e.2 == c2),
        "changes on both claims page together"
    );
    // B's events stay out of A's timeline.
    let b_total = timeline(&db, json!({ "speakerIds": [b] })).await["totalCount"]
        .as_u64()
        .unwrap() as usize;
    assert!(b_total >= 60);
    let both = timeline(&db, json!({ "speakerIds": [a, b] })).await["totalCount"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(both, count + b_total);
}
