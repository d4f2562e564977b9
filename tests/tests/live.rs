//! The event log, subscriptions, watchlists and webhooks: events written with their
//! change and only then; one order for every reader, live or catching up; delivery
//! across instances over real sockets; signed, retried webhooks that survive a killed
//! instance.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use claimtrack::service::event::{self, Event, EventFilter, EventType, Following, Position};
use entity::ApiRole;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tests::check::code;
use tests::fixtures::{self, said};
use tests::process::{Service, agent, graphql};
use tests::receiver::{Answer, Receiver};
use tests::ws::{Client, Refused};
use tests::{TestDb, scalar};
use uuid::Uuid;

const EVENTS: &str = r#"query($after: ID, $filter: EventFilter) {
  events(first: 100, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { id type speaker { id } claims { id } statement { id } verdict { id status } link { id } change { from { stance } to { stance } } } }
  }
}"#;

/// The log as `events` pages it: (type, node) in order.
async fn events(db: &TestDb, filter: Value) -> Vec<Value> {
    db.ok(EVENTS, json!({ "filter": filter })).await["events"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("a type"))
        .collect()
}

const CREATE_VERDICT: &str = "mutation($input: CreateVerdictInput!) { createVerdict(input: $input) { verdict { id version } } }";
const PUBLISH_VERDICT: &str = "mutation($input: PublishVerdictInput!) { publishVerdict(input: $input) { verdict { id version } } }";
const UPDATE_VERDICT: &str = "mutation($input: UpdateVerdictInput!) { updateVerdict(input: $input) { verdict { id version } } }";
const UPDATE_STATEMENT: &str = "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id version } } }";
const CREATE_STATEMENT: &str = "mutation($input: CreateStatementInput!) { createStatement(input: $input) { statement { id } } }";

#[tokio::test]
async fn each_change_writes_its_events_with_it_and_a_refused_one_writes_none() {
    let db = TestDb::new().await;
    let speaker = fixtures::speaker(&db, "Ada Lovelace").await;
    let claim = fixtures::claim(&db, "Engines can compose music").await;
    let before = fixtures::statement(&db, said(&speaker, &claim, "SUPPORTS", "2020-01-01")).await;
    let after = fixtures::statement(&db, said(&speaker, &claim, "OPPOSES", "2021-01-01")).await;
    let log = events(&db, json!(null)).await;
    assert_eq!(
        types(&log),
        [
            "CLAIM_CREATED",
            "STATEMENT_CREATED",
            "STATEMENT_CREATED",
            "POSITION_CHANGED"
        ]
    );
    assert_eq!(log[1]["statement"]["id"], before.as_str());
    assert_eq!(log[3]["statement"]["id"], after.as_str());
    assert_eq!(log[3]["speaker"]["id"], speaker.as_str());
    assert_eq!(log[3]["claims"][0]["id"], claim.as_str());
    assert_eq!(log[3]["change"]["from"]["stance"], "SUPPORTS");
    assert_eq!(log[3]["change"]["to"]["stance"], "OPPOSES");

    // Refused: bad input, a stale version, an unknown reference. Nothing is written.
    let count = db.count("event").await;
    let bad = db
        .err(
            CREATE_STATEMENT,
            json!({ "input": fixtures::with_field(said(&speaker, &claim, "OPPOSES", "2021-02-01"), "text", json!("  ")) }),
        )
        .await;
    assert_eq!(bad["extensions"]["code"], "BAD_USER_INPUT");
    let stale = db
        .err(
            UPDATE_STATEMENT,
            json!({ "input": { "id": after, "version": 7, "text": "edited" } }),
        )
        .await;
    assert_eq!(stale["extensions"]["code"], "CONFLICT");
    let unknown = db
        .err(
            CREATE_STATEMENT,
            json!({ "input": said(&speaker, &Uuid::now_v7().to_string(), "OPPOSES", "2021-02-01") }),
        )
        .await;
    assert_eq!(unknown["extensions"]["code"], "NOT_FOUND");
    assert_eq!(db.count("event").await, count);

    // An edit; a verdict written as a draft (nothing), published, then taken back;
    // a confirmed link; a deletion.
    db.ok(
        UPDATE_STATEMENT,
        json!({ "input": { "id": after, "version": 1, "text": "Engines cannot compose" } }),
    )
    .await;
    let reviewer = fixtures::outlet(&db, "Checkers").await;
    let verdict = db
        .ok(
            CREATE_VERDICT,
            json!({ "input": { "statementId": after, "reviewerId": reviewer, "ratingLabel": "False" } }),
        )
        .await["createVerdict"]["verdict"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        db.count("event").await,
        count + 1,
        "a draft is not an event"
    );
    db.ok(
        PUBLISH_VERDICT,
        json!({ "input": { "id": verdict, "version": 1 } }),
    )
    .await;
    db.ok(
        UPDATE_VERDICT,
        json!({ "input": { "id": verdict, "version": 2, "status": "RETRACTED" } }),
    )
    .await;
    db.ok(
        "mutation($input: CreateLinkInput!) { createLink(input: $input) { link { id } } }",
        json!({ "input": { "sourceStatementId": before, "targetStatementId": after, "relation": "FOLLOWS_UP" } }),
    )
    .await;
    db.ok(
        "mutation($input: DeleteInput!) { deleteStatement(input: $input) { deletedId } }",
        json!({ "input": { "id": before, "version": 1 } }),
    )
    .await;
    let log = events(&db, json!(null)).await;
    assert_eq!(
        types(&log[4..]),
        [
            "STATEMENT_UPDATED",
            "VERDICT_PUBLISHED",
            "VERDICT_RETRACTED",
            "LINK_CONFIRMED",
            "STATEMENT_DELETED"
        ]
    );
    // Records are read as they are now, with the caller's role: an anonymous reader
    // of the log sees no retracted verdict.
    let anonymous = db
        .exec_as(
            claimtrack::auth::Viewer::anonymous(),
            EVENTS,
            json!({ "filter": { "types": ["VERDICT_PUBLISHED"] } }),
        )
        .await;
    let edges = &anonymous["data"]["events"]["edges"];
    assert_eq!(edges.as_array().map(Vec::len), Some(1));
    assert_eq!(edges[0]["node"]["verdict"], Value::Null);
    assert_eq!(log[5]["verdict"]["status"], "RETRACTED", "editors see it");
}

#[tokio::test]
async fn events_page_on_from_any_event_id_and_an_unknown_one_is_not_found() {
    let db = TestDb::new().await;
    let speaker = fixtures::speaker(&db, "Grace Hopper").await;
    let claim = fixtures::claim(&db, "Bugs are moths").await;
    for day in 1..=5 {
        fixtures::statement(
            &db,
            said(&speaker, &claim, "SUPPORTS", &format!("2020-01-0{day}")),
        )
        .await;
    }
    let all = events(&db, json!({ "types": ["STATEMENT_CREATED"] })).await;
    assert_eq!(all.len(), 5);
    let third = all[2]["id"].as_str().expect("id");
    let rest = db
        .ok(
            EVENTS,
            json!({ "after": third, "filter": { "types": ["STATEMENT_CREATED"] } }),
        )
        .await;
    let rest: Vec<&Value> = rest["events"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(rest, [&all[3]["id"], &all[4]["id"]]);
    let missing = db
        .err(EVENTS, json!({ "after": Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(missing["extensions"]["code"], "NOT_FOUND");
    assert_eq!(missing["extensions"]["field"], "after");
}

/// Events are numbered as their transaction commits: a transaction still writing holds
/// nobody back, and its events, committed later, come after everything a reader has
/// already seen, never before.
#[tokio::test]
async fn events_come_in_commit_order_and_an_open_transaction_holds_nothing_back() {
    let db = TestDb::new().await;
    let pool = db.db().get_postgres_connection_pool();
    let revision = |entity: Uuid| {
        sqlx::query(
            "INSERT INTO revision (id, entity_type, entity_id, version, action, after) \
             VALUES ($1, 'claim', $2, 1, 'CREATE', '{}')",
        )
        .bind(Uuid::now_v7())
        .bind(entity)
    };
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let mut slow = pool.begin().await.expect("begin");
    revision(first)
        .execute(&mut *slow)
        .await
        .expect("first write");
    let mut quick = pool.begin().await.expect("begin");
    revision(second)
        .execute(&mut *quick)
        .await
        .expect("second write");
    quick.commit().await.expect("commit the second");
    let seen = event::page(db.db(), Position::default(), 100, &EventFilter::default())
        .await
        .expect("read");
    assert_eq!(
        seen.iter().map(|e| e.claim_ids[0]).collect::<Vec<_>>(),
        [second],
        "the committed event shows at once"
    );
    let read_up_to = seen[0].position;
    slow.commit().await.expect("commit the first");
    let after = event::page(db.db(), read_up_to, 100, &EventFilter::default())
        .await
        .expect("read on");
    assert_eq!(
        after.iter().map(|e| e.claim_ids[0]).collect::<Vec<_>>(),
        [first],
        "the late commit comes after what was read"
    );
    let all = event::page(db.db(), Position::default(), 100, &EventFilter::default())
        .await
        .expect("read all");
    assert_eq!(
        all.iter().map(|e| e.claim_ids[0]).collect::<Vec<_>>(),
        [second, first]
    );
}

/// Many writers at once: positions are unique, and each reader's order is the order
/// of the numbers, which is the order of the commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_get_distinct_positions_in_commit_order() {
    let db = TestDb::new().await;
    let pool = db.db().get_postgres_connection_pool().clone();
    let writers = (0..8).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut committed = Vec::new();
            for _ in 0..10 {
                let mut txn = pool.begin().await.expect("begin");
                let entity = Uuid::now_v7();
                for version in 1..=3 {
                    sqlx::query(
                        "INSERT INTO revision (id, entity_type, entity_id, version, action, after) \
                         VALUES (gen_random_uuid(), 'claim', $1, $2, 'CREATE', '{}')",
                    )
                    .bind(entity)
                    .bind(version)
                    .execute(&mut *txn)
                    .await
                    .expect("write");
                }
                txn.commit().await.expect("commit");
                committed.push(entity);
            }
            committed
        })
    });
    let by_writer: Vec<Vec<Uuid>> = futures::future::join_all(writers)
        .await
        .into_iter()
        .map(|r| r.expect("join"))
        .collect();
    let log = event::page(db.db(), Position::default(), 1000, &EventFilter::default())
        .await
        .expect("read");
    assert_eq!(log.len(), 8 * 10 * 3);
    let positions: HashSet<Position> = log.iter().map(|e| e.position).collect();
    assert_eq!(positions.len(), log.len(), "every position once");
    // A transaction's three events sit together, and each writer's commits in its order.
    for chunk in log.chunks(3) {
        assert!(chunk.iter().all(|e| e.claim_ids == chunk[0].claim_ids));
    }
    for committed in by_writer {
        let order: Vec<Uuid> = log
            .iter()
            .map(|e| e.claim_ids[0])
            .filter(|c| committed.contains(c))
            .collect::<Vec<_>>()
            .chunks(3)
            .map(|c| c[0])
            .collect();
        assert_eq!(order, committed);
    }
}

/// Events older than the retention period go, oldest first; a reader asking to
/// continue after one that is gone is told so.
#[tokio::test]
async fn events_past_retention_expire_and_an_expired_cursor_is_not_found() {
    let db = TestDb::new().await;
    fixtures::claim(&db, "Old news").await;
    fixtures::claim(&db, "New news").await;
    let log = events(&db, json!(null)).await;
    assert_eq!(log.len(), 2);
    let old = log[0]["id"].as_str().expect("id").to_owned();
    db.db()
        .execute_unprepared(&format!(
            "UPDATE event SET at = now() - interval '40 days' WHERE id = '{old}'"
        ))
        .await
        .expect("age the first event");
    let gone = event::expire(db.db(), chrono::Duration::days(30))
        .await
        .expect("expire");
    assert_eq!(gone, 1);
    let kept = events(&db, json!(null)).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["id"], log[1]["id"]);
    let missing = db.err(EVENTS, json!({ "after": old })).await;
    assert_eq!(missing["extensions"]["code"], "NOT_FOUND");
    assert_eq!(missing["extensions"]["field"], "after");
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_event() {
    let db = TestDb::new().await;
    let mut txn = db
        .db()
        .get_postgres_connection_pool()
        .begin()
        .await
        .expect("begin");
    sqlx::query(
        "INSERT INTO revision (id, entity_type, entity_id, version, action, after) \
         VALUES (gen_random_uuid(), 'claim', gen_random_uuid(), 1, 'CREATE', '{}')",
    )
    .execute(&mut *txn)
    .await
    .expect("write");
    let inside: i64 = sqlx::query_scalar("SELECT count(*) FROM event")
        .fetch_one(&mut *txn)
        .await
        .expect("count");
    assert_eq!(inside, 1, "the event is written with its change");
    txn.rollback().await.expect("roll back");
    assert_eq!(db.count("event").await, 0);
}

/// Random events, straight into the log.
fn arbitrary_event() -> impl Strategy<Value = (usize, Option<usize>, Vec<usize>, Vec<usize>)> {
    (
        0..EventType::ALL.len(),
        proptest::option::of(0..4usize),
        proptest::collection::vec(0..4usize, 0..3),
        proptest::collection::vec(0..4usize, 0..3),
    )
}

/// Which types, which speakers, claims and topics, and a watchlist's three lists (as
/// indexes into the ids a test draws from).
type FilterDraw = (
    Option<Vec<usize>>,
    [Option<Vec<usize>>; 3],
    Option<[Vec<usize>; 3]>,
);

fn arbitrary_filter() -> impl Strategy<Value = FilterDraw> {
    let ids = || proptest::option::of(proptest::collection::vec(0..4usize, 0..3));
    (
        proptest::option::of(proptest::collection::vec(0..EventType::ALL.len(), 0..3)),
        [ids(), ids(), ids()],
        proptest::option::of([
            proptest::collection::vec(0..4usize, 0..2),
            proptest::collection::vec(0..4usize, 0..2),
            proptest::collection::vec(0..4usize, 0..2),
        ]),
    )
}

/// The live filter (in memory) and the catching-up one (SQL) are one rule.
#[tokio::test]
async fn the_event_filter_reads_the_same_in_memory_and_in_sql() {
    let db = TestDb::new().await;
    let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let pick = |i: &[usize]| -> Vec<Uuid> { i.iter().map(|&i| ids[i]).collect() };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = proptest::collection::vec(arbitrary_event(), 120)
        .new_tree(&mut runner)
        .expect("events")
        .current();
    for (kind, speaker, claims, topics) in &rows {
        db.db()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO event (type, revision_id, speaker_id, claim_ids, topic_ids) \
                 VALUES ($1, gen_random_uuid(), $2, $3, $4)",
                [
                    EventType::ALL[*kind].as_str().into(),
                    speaker.map(|s| ids[s]).into(),
                    pick(claims).into(),
                    pick(topics).into(),
                ],
            ))
            .await
            .expect("insert an event");
    }
    let all: Vec<Event> = event::page(db.db(), Position::default(), 1000, &EventFilter::default())
        .await
        .expect("the log");
    assert_eq!(all.len(), rows.len());
    let filters = proptest::collection::vec(arbitrary_filter(), 200)
        .new_tree(&mut runner)
        .expect("filters")
        .current();
    let mut matched_some = 0;
    for (types, [speakers, claims, topics], following) in filters {
        let filter = EventFilter {
            types: types.map(|t| t.into_iter().map(|i| EventType::ALL[i]).collect()),
            speaker_ids: speakers.as_deref().map(pick),
            claim_ids: claims.as_deref().map(pick),
            topic_ids: topics.as_deref().map(pick),
            following: following.map(|[s, c, t]| Following {
                speaker_ids: pick(&s),
                claim_ids: pick(&c),
                topic_ids: pick(&t),
            }),
        };
        let in_memory: Vec<Uuid> = all
            .iter()
            .filter(|e| filter.matches(e))
            .map(|e| e.id)
            .collect();
        let in_sql: Vec<Uuid> = event::page(db.db(), Position::default(), 1000, &filter)
            .await
            .expect("a filtered page")
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(in_memory, in_sql, "{filter:?}");
        if !in_sql.is_empty() && in_sql.len() < all.len() {
            matched_some += 1;
        }
    }
    assert!(
        matched_some > 50,
        "the filters were too easy: {matched_some}"
    );
}

const CREATE_WATCHLIST: &str = "mutation($input: CreateWatchlistInput!) { createWatchlist(input: $input) { watchlist { id name speakers { id } claims { id } } } }";
const ADD_TO_WATCHLIST: &str = "mutation($input: WatchlistItemsInput!) { addToWatchlist(input: $input) { watchlist { id speakers { id } } } }";

#[tokio::test]
async fn watchlists_belong_to_their_key_and_concurrent_additions_all_land() {
    let db = TestDb::new().await;
    let reader = db.key(ApiRole::Reader).await;
    let other = db.key(ApiRole::Admin).await;
    let mut speakers = Vec::new();
    for i in 0..6 {
        speakers.push(fixtures::speaker(&db, &format!("Speaker {i}")).await);
    }
    let service = Service::start(&db.url(), &[]);
    let url = service.url("/graphql");
    let call = |key: String, query: &'static str, variables: Value| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || graphql(&agent(), &url, Some(&key), query, variables))
    };
    let (_, made) = call(
        reader.clone(),
        CREATE_WATCHLIST,
        json!({ "input": { "name": "Desk", "speakerIds": [speakers[0]] } }),
    )
    .await
    .expect("join");
    let list = made["data"]["createWatchlist"]["watchlist"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_owned();
    // Five additions at once, through separate connections: every one lands.
    let adds = (1..6).map(|i| {
        call(
            reader.clone(),
            ADD_TO_WATCHLIST,
            json!({ "input": { "watchlistId": list, "speakerIds": [speakers[i]] } }),
        )
    });
    for done in futures::future::join_all(adds).await {
        let (status, body) = done.expect("join");
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{body}");
    }
    let (_, read) = call(
        reader.clone(),
        "query($id: ID!) { watchlist(id: $id) { speakers { id } } }",
        json!({ "id": list }),
    )
    .await
    .expect("join");
    let held: HashSet<&str> = read["data"]["watchlist"]["speakers"]
        .as_array()
        .expect("speakers")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(held, speakers.iter().map(String::as_str).collect());
    // Taken off: the rest stay, in their order.
    let (_, removed) = call(
        reader.clone(),
        "mutation($input: WatchlistItemsInput!) { removeFromWatchlist(input: $input) { watchlist { speakers { id } } } }",
        json!({ "input": { "watchlistId": list, "speakerIds": [speakers[0], speakers[3]] } }),
    )
    .await
    .expect("join");
    let left: Vec<&str> = removed["data"]["removeFromWatchlist"]["watchlist"]["speakers"]
        .as_array()
        .unwrap_or_else(|| panic!("{removed}"))
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(left.len(), 4);
    assert!(!left.contains(&speakers[0].as_str()) && !left.contains(&speakers[3].as_str()));
    // Another key, even ADMIN, neither sees it nor adds to it.
    let (_, theirs) = call(
        other.clone(),
        "query($id: ID!) { watchlist(id: $id) { id } watchlists { id } }",
        json!({ "id": list }),
    )
    .await
    .expect("join");
    assert_eq!(theirs["data"]["watchlist"], Value::Null);
    assert_eq!(theirs["data"]["watchlists"], json!([]));
    let (_, refused) = call(
        other,
        ADD_TO_WATCHLIST,
        json!({ "input": { "watchlistId": list, "speakerIds": [speakers[0]] } }),
    )
    .await
    .expect("join");
    assert_eq!(code(&refused), "NOT_FOUND");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "input.watchlistId"
    );
    // The same name twice is a CONFLICT; an unknown speaker is NOT_FOUND, named.
    let (_, twice) = call(
        reader.clone(),
        CREATE_WATCHLIST,
        json!({ "input": { "name": "Desk" } }),
    )
    .await
    .expect("join");
    assert_eq!(code(&twice), "CONFLICT");
    let (_, unknown) = call(
        reader,
        CREATE_WATCHLIST,
        json!({ "input": { "name": "Other", "speakerIds": [speakers[0], Uuid::now_v7().to_string()] } }),
    )
    .await
    .expect("join");
    assert_eq!(code(&unknown), "NOT_FOUND");
    assert_eq!(
        unknown["errors"][0]["extensions"]["field"],
        "input.speakerIds[1]"
    );
}

/// The first `next` message for operation `op`.
async fn answer(client: &mut Client, op: &str) -> Value {
    let message = client.next_for(op, Duration::from_secs(20)).await;
    assert_eq!(message["type"], "next", "{message}");
    message
}

fn ws_url(service: &Service) -> String {
    format!("ws://127.0.0.1:{}/graphql/ws", service.port)
}

/// Runs a GraphQL request against `service` off the async runtime.
async fn post(service: &Service, key: &str, query: &str, variables: Value) -> Value {
    let (url, key, query) = (service.url("/graphql"), key.to_owned(), query.to_owned());
    let (status, body) =
        tokio::task::spawn_blocking(move || graphql(&agent(), &url, Some(&key), &query, variables))
            .await
            .expect("join");
    assert_eq!(status, 200, "{body}");
    body
}

async fn create_statement(service: &Service, key: &str, input: Value) -> String {
    let body = post(service, key, CREATE_STATEMENT, json!({ "input": input })).await;
    body["data"]["createStatement"]["statement"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no statement made: {body}"))
        .to_owned()
}

const STATEMENT_ADDED: &str =
    "subscription($after: ID) { statementAdded(after: $after) { id text speaker { id } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_instance_gets_in_order_what_editors_write_through_another() {
    let db = TestDb::new().await;
    let editor = db.key(ApiRole::Editor).await;
    let speaker = fixtures::speaker(&db, "Speaker").await;
    let claim = fixtures::claim(&db, "A claim").await;
    let a = Service::start(&db.url(), &[]);
    let b = Service::start(&db.url(), &[]);
    let mut subscriber = Client::connect_as(&ws_url(&a), None).await;
    let op = subscriber.subscribe(STATEMENT_ADDED, json!({})).await;
    // The subscription is in place once the server has answered something after it.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Three editors at once, two through B and one through A, ten statements each.
    let writers = (0..3).map(|w| {
        let service = if w == 2 { &a } else { &b };
        let (editor, speaker, claim) = (editor.clone(), speaker.clone(), claim.clone());
        async move {
            let mut made = Vec::new();
            for i in 0..10 {
                let input = fixtures::with_field(
                    said(&speaker, &claim, "SUPPORTS", "2020-01-01"),
                    "text",
                    json!(format!("writer {w} statement {i}")),
                );
                made.push(create_statement(service, &editor, input).await);
            }
            made
        }
    });
    let started = Instant::now();
    let written: HashSet<String> = futures::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(written.len(), 30);
    let mut received = Vec::new();
    let mut texts = Vec::new();
    let mut event_ids = Vec::new();
    while received.len() < 30 {
        let payload = subscriber.next_payload(&op, Duration::from_secs(10)).await;
        let added = &payload["data"]["statementAdded"];
        received.push(added["id"].as_str().expect("a statement").to_owned());
        texts.push(added["text"].as_str().expect("text").to_owned());
        event_ids.push(
            payload["extensions"]["eventId"]
                .as_str()
                .expect("each message names its event")
                .to_owned(),
        );
    }
    let waited = started.elapsed();
    assert!(
        subscriber
            .drain(Duration::from_millis(500))
            .await
            .is_empty(),
        "no duplicates"
    );
    assert_eq!(received.iter().cloned().collect::<HashSet<_>>(), written);
    // In the log's order, which `events` gives every reader.
    let log = events(&db, json!({ "types": ["STATEMENT_CREATED"] })).await;
    let log_order: Vec<String> = log
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(event_ids, log_order);
    // Each writer's statements in the order it wrote them.
    for w in 0..3 {
        let prefix = format!("writer {w} statement ");
        let order: Vec<usize> = texts
            .iter()
            .filter_map(|t| t.strip_prefix(&prefix))
            .map(|i| i.parse().expect("a number"))
            .collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>(), "writer {w}");
    }
    assert!(waited < Duration::from_secs(30), "took {waited:?}");
    subscriber.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_reconnects_with_its_last_event_misses_nothing_and_sees_nothing_twice() {
    let db = TestDb::new().await;
    let editor = db.key(ApiRole::Editor).await;
    let speaker = fixtures::speaker(&db, "Speaker").await;
    let claim = fixtures::claim(&db, "A claim").await;
    let service = Service::start(&db.url(), &[]);
    let text = |i: usize| numbered(&speaker, &claim, i);
    let mut first = Client::connect_as(&ws_url(&service), None).await;
    let op = first.subscribe(STATEMENT_ADDED, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut made = Vec::new();
    for i in 0..3 {
        made.push(create_statement(&service, &editor, text(i)).await);
    }
    let mut last = String::new();
    for id in &made {
        let payload = first.next_payload(&op, Duration::from_secs(10)).await;
        assert_eq!(payload["data"]["statementAdded"]["id"], id.as_str());
        last = payload["extensions"]["eventId"]
            .as_str()
            .expect("event id")
            .to_owned();
    }
    first.close().await;

    // While it is away: four more.
    for i in 3..7 {
        made.push(create_statement(&service, &editor, text(i)).await);
    }
    let mut again = Client::connect_as(&ws_url(&service), None).await;
    let op = again
        .subscribe(STATEMENT_ADDED, json!({ "after": last }))
        .await;
    let mut got = Vec::new();
    for _ in 3..7 {
        let payload = again.next_payload(&op, Duration::from_secs(10)).await;
        got.push(
            payload["data"]["statementAdded"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    assert_eq!(got, made[3..7]);
    // Then live, without a gap or a repeat.
    let live = create_statement(&service, &editor, text(7)).await;
    let payload = again.next_payload(&op, Duration::from_secs(10)).await;
    assert_eq!(payload["data"]["statementAdded"]["id"], live.as_str());
    assert!(again.drain(Duration::from_millis(500)).await.is_empty());
    // An `after` the log does not hold is an error naming it.
    let op = again
        .subscribe(
            STATEMENT_ADDED,
            json!({ "after": Uuid::now_v7().to_string() }),
        )
        .await;
    let message = answer(&mut again, &op).await;
    assert_eq!(message["id"], op);
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"],
        "NOT_FOUND"
    );
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["field"],
        "after"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_subscriber_never_receives_a_draft() {
    let db = TestDb::new().await;
    let editor = db.key(ApiRole::Editor).await;
    let speaker = fixtures::speaker(&db, "Speaker").await;
    let claim = fixtures::claim(&db, "A claim").await;
    let statement =
        fixtures::statement(&db, said(&speaker, &claim, "SUPPORTS", "2020-01-01")).await;
    let reviewer = fixtures::outlet(&db, "Checkers").await;
    let service = Service::start(&db.url(), &[]);
    let url = ws_url(&service);
    let subscription = "subscription { verdictPublished { id status } }";
    let timeline = r#"subscription($claim: ID!) { timelineEvent(filter: { claimIds: [$claim] }) { kind verdict { id status } } }"#;
    let mut anonymous = Client::connect_as(&url, None).await;
    let anon_verdicts = anonymous.subscribe(subscription, json!({})).await;
    let anon_timeline = anonymous
        .subscribe(timeline, json!({ "claim": claim }))
        .await;
    let mut edit_desk = Client::connect_as(&url, Some(&editor)).await;
    let desk_verdicts = edit_desk.subscribe(subscription, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let verdict = post(
        &service,
        &editor,
        CREATE_VERDICT,
        json!({ "input": { "statementId": statement, "reviewerId": reviewer, "ratingLabel": "False" } }),
    )
    .await["data"]["createVerdict"]["verdict"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    post(
        &service,
        &editor,
        UPDATE_VERDICT,
        json!({ "input": { "id": verdict, "version": 1, "ratingLabel": "Pants on Fire" } }),
    )
    .await;
    assert!(
        anonymous.drain(Duration::from_secs(1)).await.is_empty(),
        "a draft and its edit are no event"
    );
    post(
        &service,
        &editor,
        PUBLISH_VERDICT,
        json!({ "input": { "id": verdict, "version": 2 } }),
    )
    .await;
    for op in [&anon_verdicts, &anon_timeline] {
        let payload = anonymous.next_payload(op, Duration::from_secs(10)).await;
        let data = payload["data"].as_object().expect("data");
        let sent = data.values().next().expect("one field");
        let verdict_sent = if sent["verdict"].is_null() {
            sent
        } else {
            &sent["verdict"]
        };
        assert_eq!(verdict_sent["id"], verdict.as_str());
        assert_eq!(verdict_sent["status"], "PUBLISHED");
    }
    let desk = edit_desk
        .next_payload(&desk_verdicts, Duration::from_secs(10))
        .await;
    assert_eq!(desk["data"]["verdictPublished"]["id"], verdict.as_str());

    // Retracted: a catching-up anonymous subscriber gets no verdict at all.
    post(
        &service,
        &editor,
        UPDATE_VERDICT,
        json!({ "input": { "id": verdict, "version": 3, "status": "RETRACTED" } }),
    )
    .await;
    let first_event = events(&db, json!({ "types": ["CLAIM_CREATED"] })).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut late = Client::connect_as(&url, None).await;
    late.subscribe(
        "subscription($after: ID) { verdictPublished(after: $after) { id status } }",
        json!({ "after": first_event }),
    )
    .await;
    assert!(late.drain(Duration::from_secs(1)).await.is_empty());
    assert!(anonymous.drain(Duration::from_millis(300)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_roles_and_limits_hold_on_the_socket() {
    let db = TestDb::new().await;
    let reader = db.key(ApiRole::Reader).await;
    let service = Service::start(&db.url(), &["--max-subscriptions-per-connection", "2"]);
    let url = ws_url(&service);
    // A bad key closes the connection.
    match Client::connect(&url, json!({ "authorization": "Bearer ct_nope" })).await {
        Err(Refused::Closed(code, reason)) => {
            assert_eq!(code, 1002);
            assert!(reason.contains("not valid"), "{reason}");
        }
        Err(other) => panic!("refused otherwise: {other:?}"),
        Ok(_) => panic!("a bad key was accepted"),
    }
    // A watchlist needs a key.
    let mut anonymous = Client::connect_as(&url, None).await;
    let op = anonymous
        .subscribe(
            "subscription($id: ID!) { watchlistEvent(watchlistId: $id) { id } }",
            json!({ "id": Uuid::now_v7().to_string() }),
        )
        .await;
    let message = answer(&mut anonymous, &op).await;
    assert_eq!(message["id"], op);
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    // The same limits as over HTTP: a document too deep is refused.
    let deep = format!(
        "subscription {{ statementAdded {{ {} id {} }} }}",
        "speaker { statements(first: 1) { nodes { ".repeat(8),
        "} } }".repeat(8)
    );
    let op = anonymous.subscribe(&deep, json!({})).await;
    let message = answer(&mut anonymous, &op).await;
    assert_eq!(message["id"], op);
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    // Two subscriptions a connection, here; the third is refused, and a slot comes back
    // when one completes.
    let mut keyed = Client::connect_as(&url, Some(&reader)).await;
    let one = keyed.subscribe(STATEMENT_ADDED, json!({})).await;
    keyed.subscribe(STATEMENT_ADDED, json!({})).await;
    let third = keyed.subscribe(STATEMENT_ADDED, json!({})).await;
    let message = answer(&mut keyed, &third).await;
    assert_eq!(message["id"], third);
    assert!(
        message["payload"]["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 2 subscriptions")),
        "{message}"
    );
    keyed.complete(&one).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fourth = keyed.subscribe(STATEMENT_ADDED, json!({})).await;
    assert!(
        keyed
            .drain(Duration::from_millis(500))
            .await
            .iter()
            .all(|m| m["id"] != fourth),
        "the fourth is held, not refused"
    );
    // Over HTTP, a subscription is pointed at the socket.
    let body = post(&service, &reader, STATEMENT_ADDED, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/graphql/ws")),
        "{body}"
    );
    // Queries run over the socket too, as the connection's key.
    let op = keyed.subscribe("{ viewer { role } }", json!({})).await;
    let payload = keyed.next_payload(&op, Duration::from_secs(5)).await;
    assert_eq!(payload["data"]["viewer"]["role"], "READER");
}

/// A socket that never initialises is closed (4408), and one that asks for no
/// GraphQL subprotocol is refused at the handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_initialises_is_closed() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let db = TestDb::new().await;
    let service = Service::start(&db.url(), &[]);
    let url = ws_url(&service);
    assert!(
        tokio_tungstenite::connect_async(url.as_str())
            .await
            .is_err(),
        "no subprotocol, no socket"
    );
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    let started = Instant::now();
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close: {other:?}"),
        }
    };
    let frame = closed.expect("a close frame");
    assert_eq!(u16::from(frame.code), 4408, "{frame:?}");
    assert!(started.elapsed() < Duration::from_secs(25));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchlist_events_bring_only_what_the_list_follows() {
    let db = TestDb::new().await;
    let editor = db.key(ApiRole::Editor).await;
    let reader = db.key(ApiRole::Reader).await;
    let followed = fixtures::speaker(&db, "Followed").await;
    let other = fixtures::speaker(&db, "Other").await;
    let topic = fixtures::topic(&db, "Energy").await;
    let claim = fixtures::claim(&db, "A claim").await;
    let topical = fixtures::claim_with_topics(&db, "Wind is cheap", &[&topic]).await;
    let service = Service::start(&db.url(), &[]);
    let list = post(
        &service,
        &reader,
        CREATE_WATCHLIST,
        json!({ "input": { "name": "Desk", "speakerIds": [followed], "topicIds": [topic] } }),
    )
    .await["data"]["createWatchlist"]["watchlist"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut client = Client::connect_as(&ws_url(&service), Some(&reader)).await;
    let op = client
        .subscribe(
            "subscription($id: ID!) { watchlistEvent(watchlistId: $id, types: [STATEMENT_CREATED]) { type statement { id speaker { id } } } }",
            json!({ "id": list }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mine = create_statement(
        &service,
        &editor,
        said(&followed, &claim, "SUPPORTS", "2020-01-01"),
    )
    .await;
    create_statement(
        &service,
        &editor,
        said(&other, &claim, "SUPPORTS", "2020-01-01"),
    )
    .await;
    let on_topic = create_statement(
        &service,
        &editor,
        fixtures::with_field(
            said(&other, &claim, "SUPPORTS", "2020-01-02"),
            "topicIds",
            json!([topic]),
        ),
    )
    .await;
    // A statement on a claim filed under the topic concerns the topic too, as in the
    // timeline.
    let on_topical_claim = create_statement(
        &service,
        &editor,
        said(&other, &topical, "SUPPORTS", "2020-01-03"),
    )
    .await;
    let got: Vec<String> = {
        let mut got = Vec::new();
        for _ in 0..3 {
            let payload = client.next_payload(&op, Duration::from_secs(10)).await;
            got.push(
                payload["data"]["watchlistEvent"]["statement"]["id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            );
        }
        got
    };
    assert_eq!(got, [mine, on_topic, on_topical_claim]);
    assert!(
        client.drain(Duration::from_millis(700)).await.is_empty(),
        "nothing else"
    );
}

/// What a receiver checks: the Standard Webhooks signature of a request, computed
/// here from the secret on the receiver's side.
fn signed_correctly(secret: &str, request: &tests::receiver::Received) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let id = &request.headers["webhook-id"];
    let timestamp = &request.headers["webhook-timestamp"];
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    request.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}

const CREATE_WEBHOOK: &str = "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url eventTypes } } }";
const DELIVERIES: &str = "query($id: ID!) { deliveries(webhookId: $id) { edges { node { status attempts lastStatus event { id type } } } } }";

async fn make_webhook(service: &Service, admin: &str, url: &str, types: Value) -> (String, String) {
    let body = post(
        service,
        admin,
        CREATE_WEBHOOK,
        json!({ "input": { "url": url, "eventTypes": types } }),
    )
    .await;
    let made = &body["data"]["createWebhook"];
    (
        made["webhook"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned(),
        made["secret"].as_str().expect("secret").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_receiver_gets_every_event_signed_and_retried_until_it_answers() {
    let db = TestDb::new().await;
    let admin = db.key(ApiRole::Admin).await;
    let speaker = fixtures::speaker(&db, "Speaker").await;
    let claim = fixtures::claim(&db, "A claim").await;
    let receiver = Receiver::start(vec![Answer::Status(500)]);
    let service = Service::start(
        &db.url(),
        &["--webhook-allow-private", "--webhook-first-retry-ms", "300"],
    );
    let (hook, secret) = make_webhook(
        &service,
        &admin,
        &receiver.url("/hooks"),
        json!(["STATEMENT_CREATED", "POSITION_CHANGED"]),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    create_statement(
        &service,
        &admin,
        said(&speaker, &claim, "SUPPORTS", "2020-01-01"),
    )
    .await;
    create_statement(
        &service,
        &admin,
        said(&speaker, &claim, "OPPOSES", "2021-01-01"),
    )
    .await;
    // Three events (two statements, one position change); the first attempt at the
    // first one got 500, so four requests in all.
    let got = receiver.wait_for(Duration::from_secs(20), |r| {
        r.iter().filter(|r| r.answered == Some(200)).count() == 3
    });
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.iter().all(|r| signed_correctly(&secret, r)));
    assert!(got.iter().all(|r| r.path == "/hooks"));
    let failed = got
        .iter()
        .position(|r| r.answered == Some(500))
        .expect("the answer 500");
    assert!(
        got[failed + 1..]
            .iter()
            .any(|r| r.headers["webhook-id"] == got[failed].headers["webhook-id"]),
        "the retry carries the same id"
    );
    let ids: HashSet<&String> = got.iter().map(|r| &r.headers["webhook-id"]).collect();
    assert_eq!(ids.len(), 3);
    let bodies: Vec<Value> = got
        .iter()
        .filter(|r| r.answered == Some(200))
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect();
    let mut kinds: Vec<&str> = bodies
        .iter()
        .map(|b| b["type"].as_str().expect("type"))
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["position.changed", "statement.created", "statement.created"]
    );
    let deliveries = post(&service, &admin, DELIVERIES, json!({ "id": hook })).await;
    let rows = deliveries["data"]["deliveries"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["node"]["status"] == "DELIVERED"));
    let attempts: Vec<i64> = rows
        .iter()
        .map(|r| r["node"]["attempts"].as_i64().expect("n"))
        .collect();
    assert_eq!(attempts.iter().sum::<i64>(), 4);

    // Redelivery, on demand.
    let first = &rows[2]["node"];
    let delivery_id = scalar::<Uuid>(
        db.db(),
        &format!(
            "SELECT id FROM webhook_delivery WHERE event_id = '{}'",
            first["event"]["id"].as_str().expect("event id")
        ),
    )
    .await;
    post(
        &service,
        &admin,
        "mutation($id: ID!) { redeliver(deliveryId: $id) { delivery { status } } }",
        json!({ "id": delivery_id.to_string() }),
    )
    .await;
    receiver.wait_for(Duration::from_secs(10), |r| r.len() == 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_cut_short_by_a_killed_instance_is_made_by_another() {
    let db = TestDb::new().await;
    let admin = db.key(ApiRole::Admin).await;
    let speaker = fixtures::speaker(&db, "Speaker").await;
    let claim = fixtures::claim(&db, "A claim").await;
    // The first request is held open: the instance sending it dies meanwhile.
    let receiver = Receiver::start(vec![Answer::Hang(Duration::from_secs(30))]);
    let settings = [
        "--webhook-allow-private",
        "--webhook-timeout-ms",
        "1500",
        "--webhook-first-retry-ms",
        "200",
    ];
    let mut doomed = Service::start(&db.url(), &settings);
    let (hook, secret) = make_webhook(
        &doomed,
        &admin,
        &receiver.url("/in"),
        json!(["STATEMENT_CREATED"]),
    )
    .await;
    create_statement(
        &doomed,
        &admin,
        said(&speaker, &claim, "SUPPORTS", "2020-01-01"),
    )
    .await;
    receiver.wait_for(Duration::from_secs(10), |r| r.len() == 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(doomed.pid() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9");
    let _ = doomed.wait_exit(Duration::from_secs(10));
    let killed_at = Instant::now();
    let survivor = Service::start(&db.url(), &settings);
    let got = receiver.wait_for(Duration::from_secs(30), |r| {
        r.iter().any(|r| r.answered == Some(200))
    });
    // The lease (twice the timeout and 5 s) ran out first: never two at once.
    assert!(
        killed_at.elapsed() >= Duration::from_secs(3),
        "{:?}",
        killed_at.elapsed()
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert!(signed_correctly(&secret, &got[1]));
    let deliveries = post(&survivor, &admin, DELIVERIES, json!({ "id": hook })).await;
    let node = &deliveries["data"]["deliveries"]["edges"][0]["node"];
    assert_eq!(node["status"], "DELIVERED");
    assert_eq!(node["attempts"], 2);
}

#[tokio::test]
async fn webhook_targets_are_checked() {
    let db = TestDb::new().await;
    let admin = db.key(ApiRole::Admin).await;
    let editor = db.key(ApiRole::Editor).await;
    let service = Service::start(&db.url(), &[]);
    for (url, why) in [
        ("ftp://example.org/hook", "http or https"),
        ("http://127.0.0.1:9/hook", "internal address"),
        ("http://[::1]/hook", "internal address"),
        ("http://10.1.2.3/hook", "internal address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "internal address",
        ),
        ("http://user:pw@example.org/hook", "user name or password"),
        ("not a url", "is not a URL"),
    ] {
        let body = post(
            &service,
            &admin,
            CREATE_WEBHOOK,
            json!({ "input": { "url": url, "eventTypes": ["STATEMENT_CREATED"] } }),
        )
        .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.url");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(why)),
            "{url}: {body}"
        );
    }
    // With allowed hosts set, any other host is refused before its name is looked up.
    let narrowed = Service::start(&db.url(), &["--webhook-allowed-host", "hooks.example.org"]);
    let body = post(
        &narrowed,
        &admin,
        CREATE_WEBHOOK,
        json!({ "input": { "url": "https://elsewhere.example.org/hook", "eventTypes": ["STATEMENT_CREATED"] } }),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("hooks.example.org")),
        "{body}"
    );
    let body = post(
        &service,
        &editor,
        CREATE_WEBHOOK,
        json!({ "input": { "url": "https://example.org/hook", "eventTypes": ["STATEMENT_CREATED"] } }),
    )
    .await;
    assert_eq!(code(&body), "FORBIDDEN");
    assert_eq!(db.count("webhook").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_caps_on_watchlists_and_webhooks_hold_under_concurrent_creates() {
    use claimtrack::service::{watchlist, webhook};
    let db = TestDb::new().await;
    let keys = claimtrack::auth::KeyStore::new(db.db().clone());
    let admin = keys
        .authenticate(&db.key(ApiRole::Admin).await)
        .await
        .expect("an admin");
    let targets = webhook::Targets {
        allow_private: true,
        hosts: Vec::new(),
    };
    // Five rounds, each a fresh key five watchlists under its cap and the server five
    // webhooks under its own; without the creations taking turns, some round lets one
    // too many through (seen in two runs of three with one round).
    for round in 0..5 {
        let reader = keys
            .authenticate(&db.key(ApiRole::Reader).await)
            .await
            .expect("a reader");
        for i in 0..95 {
            watchlist::create(db.db(), &reader, &format!("Desk {i}"), Default::default())
                .await
                .expect("a watchlist");
        }
        db.db()
            .execute_unprepared(
                "DELETE FROM webhook; \
                 INSERT INTO webhook (id, url, event_types, secret) \
                 SELECT gen_random_uuid(), 'http://127.0.0.1:9/hook', ARRAY['statement.created'], 'whsec_x' \
                 FROM generate_series(1, 995)",
            )
            .await
            .expect("995 webhooks");

        // Fifty creations of each at once, on as many pooled connections as there are:
        // exactly the five under each cap land, the rest are refused.
        let lists = (0..50).map(|i| {
            let name = format!("Rush {i}");
            let (db, reader) = (db.db(), &reader);
            async move {
                watchlist::create(db, reader, &name, Default::default())
                    .await
                    .map(drop)
            }
        });
        let hooks = (0..50).map(|i| {
            let new = webhook::NewWebhook {
                url: format!("http://127.0.0.1:9/rush/{i}"),
                event_types: vec![claimtrack::service::event::EventType::StatementCreated],
                watchlist_id: None,
            };
            let (db, admin, targets) = (db.db(), &admin, &targets);
            async move { webhook::create(db, admin, new, targets).await.map(drop) }
        });
        let (lists, hooks) = futures::future::join(
            futures::future::join_all(lists),
            futures::future::join_all(hooks),
        )
        .await;
        for (made, cap) in [(lists, "watchlists"), (hooks, "webhooks")] {
            let landed = made.iter().filter(|r| r.is_ok()).count();
            assert_eq!(landed, 5, "round {round}, {cap}: {landed} landed");
            for refused in made.iter().filter_map(|r| r.as_ref().err()) {
                assert_eq!(refused.code(), "BAD_USER_INPUT", "{cap}: {refused}");
            }
        }
        assert_eq!(db.count("webhook").await, 1000);
    }
    assert_eq!(db.count("watchlist").await, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_keeps_receiving_across_a_database_restart_with_no_gap_or_repeat() {
    let private = tests::process::PrivateCluster::new("live-restart");
    let cluster = private.start().await;
    let url = cluster.database_url().to_owned();
    let pgdata = cluster.cluster_dir().to_path_buf();
    let service = Service::start(&url, &["--rate-limit-per-key", "0"]);
    let editor = tests::process::run_command(
        &tests::process::Database::Url(&url),
        &["keys", "create", "--name", "live", "--role", "editor"],
    )
    .trim()
    .to_owned();
    let made = |body: Value, field: &str, object: &str| {
        body["data"][field][object]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    };
    let speaker = made(
        post(
            &service,
            &editor,
            "mutation($input: CreateSpeakerInput!) { createSpeaker(input: $input) { speaker { id } } }",
            json!({ "input": { "name": "Speaker", "kind": "PERSON" } }),
        )
        .await,
        "createSpeaker",
        "speaker",
    );
    let claim = made(
        post(
            &service,
            &editor,
            "mutation($input: CreateClaimInput!) { createClaim(input: $input) { claim { id } } }",
            json!({ "input": { "text": "A claim" } }),
        )
        .await,
        "createClaim",
        "claim",
    );
    let text = |i: usize| numbered(&speaker, &claim, i);
    let mut subscriber = Client::connect_as(&ws_url(&service), None).await;
    let op = subscriber.subscribe(STATEMENT_ADDED, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = create_statement(&service, &editor, text(0)).await;
    let payload = subscriber.next_payload(&op, Duration::from_secs(10)).await;
    assert_eq!(payload["data"]["statementAdded"]["id"], before.as_str());

    // Every session ends: the hub's listener, the pool's connections, the watcher's.
    tests::process::restart_cluster_fast(&pgdata);
    let began = Instant::now();
    let mut after = Vec::new();
    while after.len() < 3 {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "no write went through"
        );
        let (url, key) = (service.url("/graphql"), editor.clone());
        let input = text(after.len() + 1);
        let (status, body) = tokio::task::spawn_blocking(move || {
            graphql(
                &agent(),
                &url,
                Some(&key),
                CREATE_STATEMENT,
                json!({ "input": input }),
            )
        })
        .await
        .expect("join");
        match body["data"]["createStatement"]["statement"]["id"].as_str() {
            Some(id) => after.push(id.to_owned()),
            // Refused while the database comes back (503, UNAVAILABLE): written by nobody.
            None => {
                assert_eq!(status, 503, "{body}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // The same socket gets exactly those, in order: none lost, the first not again.
    for id in &after {
        let payload = subscriber.next_payload(&op, Duration::from_secs(15)).await;
        assert_eq!(
            payload["data"]["statementAdded"]["id"],
            id.as_str(),
            "{payload}"
        );
    }
    assert!(
        subscriber
            .drain(Duration::from_millis(1500))
            .await
            .is_empty()
    );
    subscriber.close().await;
}

/// The `i`th of a series of statements by `speaker` on `claim`, told apart by text.
fn numbered(speaker: &str, claim: &str, i: usize) -> Value {
    fixtures::with_field(
        said(speaker, claim, "SUPPORTS", "2020-01-01"),
        "text",
        json!(format!("statement {i}")),
    )
}
