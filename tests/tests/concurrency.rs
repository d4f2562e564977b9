//! Many editors at once: 32 clients adding and editing one speaker's statements on one
//! claim over HTTP, against the real binary, all succeed, and leave the position
//! history and the contradiction suggestions that the same writes made one after the
//! other (through the schema, on another database) leave.

use std::collections::BTreeSet;
use std::sync::Arc;

use tests::process::{Service, graphql, keep_alive_agent};

use chrono::{Days, NaiveDate};
use serde_json::{Value, json};
use tests::TestDb;

const WRITERS: usize = 32;
const EACH: usize = 3;

const CREATE: &str = "mutation($input: CreateStatementInput!) {
    createStatement(input: $input) { statement { id version } }
}";

const UPDATE: &str = "mutation($input: UpdateStatementInput!) {
    updateStatement(input: $input) { statement { id version } }
}";

/// The stance of the `i`-th statement: runs of three, so the history changes often.
fn stance(i: usize, flipped: bool) -> &'static str {
    match (i / 3).is_multiple_of(2) != flipped {
        true => "SUPPORTS",
        false => "OPPOSES",
    }
}

fn date(i: usize) -> String {
    let start = NaiveDate::from_ymd_opt(2017, 1, 1).expect("a date");
    (start + Days::new(i as u64)).to_string()
}

/// One speaker and one claim; their ids.
async fn setup(db: &TestDb) -> (String, String) {
    let speaker = db
        .created("mutation { createSpeaker(input: { name: \"Many Editors\", kind: PERSON }) { speaker { id } } }")
        .await;
    let claim = db
        .created("mutation { createClaim(input: { text: \"The working group will be set up\" }) { claim { id } } }")
        .await;
    (speaker, claim)
}

fn statement(speaker: &str, claim: &str, i: usize) -> Value {
    json!({
        "speakerId": speaker,
        "text": format!("Statement number {i} of the many editors"),
        "kind": "QUOTE",
        "statedOn": date(i),
        "language": "en",
        "stances": [{ "claimId": claim, "stance": stance(i, false) }],
    })
}

fn flip(id: &str, version: i64, claim: &str, i: usize) -> Value {
    json!({
        "id": id,
        "version": version,
        "stances": [{ "claimId": claim, "stance": stance(i, true) }],
    })
}

/// Runs a mutation; the error, if it failed.
async fn write(db: &TestDb, query: &str, input: Value) -> Result<Value, Value> {
    answer(db.exec(query, json!({ "input": input })).await)
}

/// Runs a mutation over HTTP as the holder of `key`, from a thread of its own.
async fn write_over_http(
    url: Arc<(String, String)>,
    query: &'static str,
    input: Value,
) -> Result<Value, Value> {
    tokio::task::spawn_blocking(move || {
        let (status, body) = graphql(
            &keep_alive_agent(),
            &url.0,
            Some(&url.1),
            query,
            json!({ "input": input }),
        );
        match status {
            200 => answer(body),
            _ => Err(json!({ "status": status, "body": body })),
        }
    })
    .await
    .expect("a client thread")
}

fn answer(response: Value) -> Result<Value, Value> {
    match response.get("errors") {
        Some(errors) => Err(errors.clone()),
        None => Ok(response["data"].clone()),
    }
}

/// What a run leaves: the position history (date, stance, text) and the live
/// suggestions (from and to, by date), and how many suggestions a pair has.
async fn outcome(
    db: &TestDb,
    speaker: &str,
    claim: &str,
) -> (Vec<Value>, BTreeSet<(String, String)>, i64) {
    let history = db
        .ok(
            "query($s: ID!, $c: ID!) { positionHistory(speakerId: $s, claimId: $c) { statedOn stance statement { text } } }",
            json!({ "s": speaker, "c": claim }),
        )
        .await["positionHistory"]
        .as_array()
        .expect("a history")
        .clone();
    let suggestions = db
        .ok(
            "{ contradictionCandidates(first: 100) { totalCount nodes { source { statedOn } targetStatement { statedOn } } } }",
            json!({}),
        )
        .await;
    let total = suggestions["contradictionCandidates"]["totalCount"].as_u64();
    assert!(
        total.is_some_and(|n| n <= 100),
        "one page holds them all: {total:?}"
    );
    let pairs: BTreeSet<(String, String)> = suggestions["contradictionCandidates"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["source"]["statedOn"].as_str().expect("a date").to_owned(),
                n["targetStatement"]["statedOn"]
                    .as_str()
                    .expect("a date")
                    .to_owned(),
            )
        })
        .collect();
    let duplicates = tests::scalar::<i64>(
        db.db(),
        "SELECT count(*) - count(DISTINCT (source_statement_id, target_statement_id)) \
         FROM link WHERE deleted_at IS NULL",
    )
    .await;
    (history, pairs, duplicates)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn thirty_two_editors_on_one_claim_all_succeed_and_leave_what_a_sequential_run_leaves() {
    let (concurrent, sequential) = tokio::join!(TestDb::new(), TestDb::new());
    let ((c_speaker, c_claim), (s_speaker, s_claim)) =
        tokio::join!(setup(&concurrent), setup(&sequential));
    let key = concurrent.key(entity::ApiRole::Editor).await;
    let url = concurrent.url();
    let service = tokio::task::spawn_blocking(move || {
        Service::start(&url, &["--no-migrate", "--rate-limit-per-key", "0"])
    })
    .await
    .expect("start the service");
    let endpoint = Arc::new((service.url("/graphql"), key));

    // Phase 1: each writer adds its statements, all at once.
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (endpoint, speaker, claim) = (endpoint.clone(), c_speaker.clone(), c_claim.clone());
        writers.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for k in 0..EACH {
                let i = k * WRITERS + w;
                let data =
                    write_over_http(endpoint.clone(), CREATE, statement(&speaker, &claim, i))
                        .await?;
                made.push((i, data["createStatement"]["statement"].clone()));
            }
            Ok::<_, Value>(made)
        }));
    }
    let mut made = Vec::new();
    let mut failures = Vec::new();
    for writer in writers {
        match writer.await.expect("a writer") {
            Ok(statements) => made.extend(statements),
            Err(errors) => failures.push(errors),
        }
    }
    assert!(failures.is_empty(), "refused writes: {failures:#?}");
    assert_eq!(made.len(), WRITERS * EACH);

    // Phase 2: each writer flips the stance of its first statement, all at once.
    let mut flippers = Vec::new();
    for (i, statement) in made.iter().filter(|(i, _)| *i < WRITERS).cloned() {
        let (endpoint, claim) = (endpoint.clone(), c_claim.clone());
        flippers.push(tokio::spawn(async move {
            let id = statement["id"].as_str().expect("an id").to_owned();
            let version = statement["version"].as_i64().expect("a version");
            write_over_http(endpoint, UPDATE, flip(&id, version, &claim, i)).await
        }));
    }
    for flipper in flippers {
        let result = flipper.await.expect("a flipper");
        assert!(result.is_ok(), "refused update: {result:#?}");
    }

    // The same writes, one after the other.
    let mut ids = Vec::new();
    for i in 0..WRITERS * EACH {
        let data = write(&sequential, CREATE, statement(&s_speaker, &s_claim, i))
            .await
            .expect("a sequential write");
        ids.push(data["createStatement"]["statement"].clone());
    }
    for (i, statement) in ids.iter().enumerate().take(WRITERS) {
        let id = statement["id"].as_str().expect("an id");
        let version = statement["version"].as_i64().expect("a version");
        write(&sequential, UPDATE, flip(id, version, &s_claim, i))
            .await
            .expect("a sequential update");
    }

    let (c_history, c_pairs, c_duplicates) = outcome(&concurrent, &c_speaker, &c_claim).await;
    let (s_history, s_pairs, s_duplicates) = outcome(&sequential, &s_speaker, &s_claim).await;
    assert_eq!(c_history.len(), WRITERS * EACH);
    assert_eq!(c_history, s_history, "position histories differ");
    assert!(!s_pairs.is_empty(), "the run makes suggestions to compare");
    assert_eq!(c_pairs, s_pairs, "suggestions differ");
    assert_eq!(
        (c_duplicates, s_duplicates),
        (0, 0),
        "a pair suggested twice"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_referring_to_a_record_being_deleted_waits_for_the_delete_and_is_refused() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let db = Arc::new(TestDb::new().await);
    let (speaker, claim) = setup(&db).await;
    // A delete of the speaker in flight, as `deleteSpeaker` makes it: the row locked,
    // nothing refers to it yet, the row soft-deleted, not yet committed.
    let deleting = db.db().begin().await.expect("begin");
    for sql in [
        format!("SELECT 1 FROM speaker WHERE id = '{speaker}' FOR UPDATE"),
        format!(
            "UPDATE speaker SET deleted_at = now(), version = version + 1 WHERE id = '{speaker}'"
        ),
    ] {
        deleting.execute_unprepared(&sql).await.expect("the delete");
    }
    let writer = {
        let db = db.clone();
        tokio::spawn(async move { write(&db, CREATE, statement(&speaker, &claim, 0)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !writer.is_finished(),
        "the write did not wait for the delete"
    );
    deleting.commit().await.expect("commit the delete");
    let refused = writer
        .await
        .expect("the writer")
        .expect_err("the write is refused");
    assert_eq!(refused[0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    assert_eq!(
        refused[0]["extensions"]["field"], "input.speakerId",
        "{refused}"
    );
    assert_eq!(db.count("statement").await, 0);
}
