//! Contradiction candidates through the real schema: a statement whose stance on a
//! claim differs from the same speaker's earlier one proposes a SUGGESTED `REVERSES`
//! link from the earlier to the later; editors confirm or dismiss it; a dismissed pair
//! is never proposed again; an edit that ends the conflict withdraws the suggestion;
//! only nearest pairs are proposed; refused settlements write nothing.

use entity::link;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::TestDb;
use tests::fixtures::{claim, said, speaker, statement};
use uuid::Uuid;

const CANDIDATES: &str = "query($first: Int, $after: String) {
    contradictionCandidates(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id version status relation note source { id } targetStatement { id } }
    }
}";

const CONFIRM: &str = "mutation($input: SettleLinkInput!) {
    confirmLink(input: $input) { link { id version status relation source { id } targetStatement { id } } }
}";

const DISMISS: &str = "mutation($input: SettleLinkInput!) {
    dismissLink(input: $input) { link { id version status relation } }
}";

const UPDATE: &str = "mutation($input: UpdateStatementInput!) {
    updateStatement(input: $input) { statement { id version } }
}";

const LINKS: &str = "query($id: ID!) {
    statement(id: $id) {
        links { id status relation targetStatement { id } }
        backlinks { id status relation source { id } }
    }
}";

const CHANGES: &str = "query($s: ID!) {
    positionChanges(speakerId: $s) {
        totalCount
        nodes { from { statement { id } } to { statement { id } } links { id relation status } }
    }
}";

// ---------------------------------------------------------------------------------
// Setup through the mutations

/// A statement's current version.
async fn version(db: &TestDb, id: &str) -> i64 {
    db.ok(
        "query($id: ID!) { statement(id: $id) { version } }",
        json!({ "id": id }),
    )
    .await["statement"]["version"]
        .as_i64()
        .unwrap()
}

/// Updates a statement read at its current version with the given fields.
async fn update(db: &TestDb, id: &str, fields: Value) {
    let mut input = json!({ "id": id, "version": version(db, id).await });
    for (k, v) in fields.as_object().unwrap() {
        input[k] = v.clone();
    }
    db.ok(UPDATE, json!({ "input": input })).await;
}

fn stances(claim: &str, stance: &str) -> Value {
    json!({ "stances": [{ "claimId": claim, "stance": stance }] })
}

async fn candidates(db: &TestDb) -> Vec<Value> {
    let conn = db.ok(CANDIDATES, json!({ "first": 100 })).await["contradictionCandidates"].clone();
    let nodes = conn["nodes"].as_array().unwrap().clone();
    assert_eq!(conn["totalCount"], nodes.len());
    nodes
}

/// The (source, target) statement ids of the waiting suggestions, sorted.
async fn suggested_pairs(db: &TestDb) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = candidates(db)
        .await
        .iter()
        .map(|l| {
            assert_eq!(l["status"], "SUGGESTED");
            assert_eq!(l["relation"], "REVERSES");
            (
                l["source"]["id"].as_str().unwrap().to_owned(),
                l["targetStatement"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

async fn link_row(db: &TestDb, id: &Value) -> link::Model {
    let id: Uuid = id.as_str().unwrap().parse().unwrap();
    link::Entity::find_by_id(id)
        .one(db.db())
        .await
        .unwrap()
        .expect("the link row")
}

fn settle(link: &Value) -> Value {
    json!({ "input": { "id": link["id"], "version": link["version"] } })
}

/// S1 (SUPPORTS, 07-07) then S2 (OPPOSES, 07-09) by one speaker on one claim.
struct Pair {
    db: TestDb,
    speaker: String,
    claim: String,
    s1: String,
    s2: String,
}

async fn pair_fixture() -> Pair {
    let db = TestDb::new().await;
    let speaker = speaker(&db, "Donald Trump").await;
    let claim = claim(&db, "A joint cyber security unit").await;
    let s1 = statement(&db, said(&speaker, &claim, "SUPPORTS", "2017-07-07")).await;
    let s2 = statement(&db, said(&speaker, &claim, "OPPOSES", "2017-07-09")).await;
    Pair {
        db,
        speaker,
        claim,
        s1,
        s2,
    }
}

// ---------------------------------------------------------------------------------
// Proposals

#[tokio::test]
async fn an_opposite_stance_by_the_same_speaker_is_proposed_once() {
    let p = pair_fixture().await;
    let found = candidates(&p.db).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["status"], "SUGGESTED");
    assert_eq!(found[0]["relation"], "REVERSES");
    assert_eq!(found[0]["source"]["id"], p.s1.as_str());
    assert_eq!(found[0]["targetStatement"]["id"], p.s2.as_str());
    assert!(found[0]["note"].as_str().unwrap().contains("SUPPORTS"));

    // Another speaker's opposite stance, and the same speaker on another claim,
    // propose nothing.
    let other = speaker(&p.db, "Vladimir Putin").await;
    statement(&p.db, said(&other, &p.claim, "OPPOSES", "2017-07-10")).await;
    let elsewhere = claim(&p.db, "Another claim").await;
    statement(&p.db, said(&p.speaker, &elsewhere, "UNCLEAR", "2017-07-11")).await;
    assert_eq!(suggested_pairs(&p.db).await, [pair(&p.s1, &p.s2)]);

    // The suggestion shows on the statement, but is no confirmed link of the change.
    let links = p.db.ok(LINKS, json!({ "id": p.s1 })).await;
    assert_eq!(links["statement"]["links"][0]["status"], "SUGGESTED");
    let changes = p.db.ok(CHANGES, json!({ "s": p.speaker })).await;
    assert_eq!(changes["positionChanges"]["totalCount"], 1);
    assert_eq!(changes["positionChanges"]["nodes"][0]["links"], json!([]));
}

#[tokio::test]
async fn a_suggestion_points_from_the_earlier_position_whatever_the_order_of_entry() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Speaker").await;
    let (c1, c2) = (claim(&db, "One").await, claim(&db, "Two").await);
    // Days: the later one entered first.
    let late = statement(&db, said(&s, &c1, "OPPOSES", "2017-07-09")).await;
    let early = statement(&db, said(&s, &c1, "SUPPORTS", "2017-07-07")).await;
    // One day, times known: the evening post entered before the morning one.
    let mut evening = said(&s, &c2, "OPPOSES", "2017-07-09");
    evening["statedTime"] = json!("20:00-04:00");
    let evening = statement(&db, evening).await;
    let mut morning = said(&s, &c2, "SUPPORTS", "2017-07-09");
    morning["statedTime"] = json!("08:00-04:00");
    let morning = statement(&db, morning).await;
    assert_eq!(suggested_pairs(&db).await, {
        let mut v = vec![pair(&early, &late), pair(&morning, &evening)];
        v.sort();
        v
    });
}

#[tokio::test]
async fn contradiction_candidates_list_newest_first_in_pages() {
    let db = TestDb::new().await;
    let c = claim(&db, "A claim").await;
    let mut targets = Vec::new();
    for name in ["One", "Two", "Three"] {
        let s = speaker(&db, name).await;
        statement(&db, said(&s, &c, "SUPPORTS", "2017-07-01")).await;
        targets.push(statement(&db, said(&s, &c, "OPPOSES", "2017-07-02")).await);
    }
    targets.reverse();
    let first = db.ok(CANDIDATES, json!({ "first": 2 })).await["contradictionCandidates"].clone();
    assert_eq!(first["totalCount"], 3);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = db
        .ok(
            CANDIDATES,
            json!({ "first": 2, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["contradictionCandidates"]
        .clone();
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    let listed: Vec<_> = first["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["nodes"].as_array().unwrap())
        .map(|l| l["targetStatement"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, targets);
}

// ---------------------------------------------------------------------------------
// Settling

#[tokio::test]
async fn a_dismissed_pair_is_hidden_and_never_proposed_again() {
    let p = pair_fixture().await;
    let suggestion = candidates(&p.db).await[0].clone();
    let dismissed = p.db.ok(DISMISS, settle(&suggestion)).await["dismissLink"]["link"].clone();
    assert_eq!(dismissed["status"], "DISMISSED");
    assert_eq!(dismissed["version"], 2);
    assert!(candidates(&p.db).await.is_empty());
    let links = p.db.ok(LINKS, json!({ "id": p.s1 })).await;
    assert_eq!(links["statement"]["links"], json!([]));
    let links = p.db.ok(LINKS, json!({ "id": p.s2 })).await;
    assert_eq!(links["statement"]["backlinks"], json!([]));
    let changes = p.db.ok(CHANGES, json!({ "s": p.speaker })).await;
    assert_eq!(changes["positionChanges"]["nodes"][0]["links"], json!([]));

    // Edits of the later statement never bring the pair back.
    update(&p.db, &p.s2, json!({ "text": "It can't happen." })).await;
    assert!(candidates(&p.db).await.is_empty());
    update(&p.db, &p.s2, stances(&p.claim, "SUPPORTS")).await;
    assert!(candidates(&p.db).await.is_empty());
    update(&p.db, &p.s2, stances(&p.claim, "OPPOSES")).await;
    assert!(candidates(&p.db).await.is_empty());
    // Nor do edits of the earlier one.
    update(&p.db, &p.s1, json!({ "text": "We discussed a unit." })).await;
    assert!(candidates(&p.db).await.is_empty());

    // One row, still dismissed and live.
    assert_eq!(p.db.count("link").await, 1);
    let row = link_row(&p.db, &suggestion["id"]).await;
    assert_eq!(row.status, entity::LinkStatus::Dismissed);
    assert!(row.deleted_at.is_none());
}

#[tokio::test]
async fn a_confirmed_suggestion_is_a_link_of_the_position_change() {
    let p = pair_fixture().await;
    let suggestion = candidates(&p.db).await[0].clone();
    let confirmed = p.db.ok(CONFIRM, settle(&suggestion)).await["confirmLink"]["link"].clone();
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert_eq!(confirmed["relation"], "REVERSES");
    assert_eq!(confirmed["source"]["id"], p.s1.as_str());
    assert_eq!(confirmed["targetStatement"]["id"], p.s2.as_str());
    assert!(candidates(&p.db).await.is_empty());

    let changes = p.db.ok(CHANGES, json!({ "s": p.speaker })).await;
    let change = &changes["positionChanges"]["nodes"][0];
    assert_eq!(change["from"]["statement"]["id"], p.s1.as_str());
    assert_eq!(change["to"]["statement"]["id"], p.s2.as_str());
    assert_eq!(
        change["links"],
        json!([{ "id": suggestion["id"], "relation": "REVERSES", "status": "CONFIRMED" }])
    );
    let links = p.db.ok(LINKS, json!({ "id": p.s1 })).await;
    assert_eq!(links["statement"]["links"][0]["status"], "CONFIRMED");

    // A settled pair is not proposed again on edit.
    update(&p.db, &p.s2, json!({ "text": "It can't happen." })).await;
    assert!(candidates(&p.db).await.is_empty());
    assert_eq!(p.db.count("link").await, 1);
}

#[tokio::test]
async fn an_edit_that_ends_the_conflict_withdraws_the_suggestion() {
    let p = pair_fixture().await;
    let suggestion = candidates(&p.db).await[0].clone();
    update(&p.db, &p.s2, stances(&p.claim, "SUPPORTS")).await;
    assert!(candidates(&p.db).await.is_empty());
    let row = link_row(&p.db, &suggestion["id"]).await;
    assert!(row.deleted_at.is_some(), "the suggestion is withdrawn");
    assert_eq!(row.status, entity::LinkStatus::Suggested);
    let links = p.db.ok(LINKS, json!({ "id": p.s1 })).await;
    assert_eq!(links["statement"]["links"], json!([]));
    assert_eq!(
        p.db.ok(CHANGES, json!({ "s": p.speaker })).await["positionChanges"]["totalCount"],
        0
    );

    // The conflict back: a suggestion waits again.
    update(&p.db, &p.s2, stances(&p.claim, "OPPOSES")).await;
    assert_eq!(suggested_pairs(&p.db).await, [pair(&p.s1, &p.s2)]);
    // Dropping the stance altogether ends the conflict too.
    update(&p.db, &p.s2, json!({ "stances": [] })).await;
    assert!(candidates(&p.db).await.is_empty());
}

// ---------------------------------------------------------------------------------
// Nearest pairs only

#[tokio::test]
async fn alternating_stances_propose_only_nearest_pairs() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Flip-flopper").await;
    let c = claim(&db, "A claim").await;
    let mut ids = Vec::new();
    for (day, stance) in ["SUPPORTS", "OPPOSES", "SUPPORTS", "OPPOSES"]
        .into_iter()
        .enumerate()
    {
        ids.push(statement(&db, said(&s, &c, stance, &format!("2017-07-0{}", day + 1))).await);
    }
    assert_eq!(
        suggested_pairs(&db).await,
        [
            pair(&ids[0], &ids[1]),
            pair(&ids[1], &ids[2]),
            pair(&ids[2], &ids[3]),
        ]
    );
}

#[tokio::test]
async fn repeating_a_stance_proposes_nothing_new() {
    // S1 SUPPORTS, S2 OPPOSES, S3 OPPOSES: one change of position (S1 → S2), so one
    // suggestion; S3 only repeats S2.
    let p = pair_fixture().await;
    let s3 = statement(&p.db, said(&p.speaker, &p.claim, "OPPOSES", "2017-07-12")).await;
    let changes = p.db.ok(CHANGES, json!({ "s": p.speaker })).await;
    assert_eq!(changes["positionChanges"]["totalCount"], 1);
    assert_eq!(
        suggested_pairs(&p.db).await,
        [pair(&p.s1, &p.s2)],
        "{s3} repeats {} and reverses nothing",
        p.s2
    );
}

#[tokio::test]
async fn alternating_stances_entered_out_of_order_propose_only_nearest_pairs() {
    let db = TestDb::new().await;
    let s = speaker(&db, "Flip-flopper").await;
    let c = claim(&db, "A claim").await;
    // The history S, O, S, O, entered as the 1st, 2nd, 4th and then the 3rd: the
    // 3rd comes between the 2nd and the 4th and takes their place as neighbours.
    let first = statement(&db, said(&s, &c, "SUPPORTS", "2017-07-01")).await;
    let second = statement(&db, said(&s, &c, "OPPOSES", "2017-07-02")).await;
    let fourth = statement(&db, said(&s, &c, "OPPOSES", "2017-07-04")).await;
    let third = statement(&db, said(&s, &c, "SUPPORTS", "2017-07-03")).await;
    let mut expected = vec![
        pair(&first, &second),
        pair(&second, &third),
        pair(&third, &fourth),
    ];
    expected.sort();
    assert_eq!(suggested_pairs(&db).await, expected);
}

// ---------------------------------------------------------------------------------
// Refusals

#[tokio::test]
async fn settling_refuses_stale_versions_and_links_that_are_no_suggestion() {
    let p = pair_fixture().await;
    let suggestion = candidates(&p.db).await[0].clone();

    let refused = |query: &'static str, vars: Value, code: &'static str, field: Option<&str>| {
        let db = &p.db;
        let field = field.map(str::to_owned);
        async move {
            let before = db.counts().await;
            let err = db.err(query, vars.clone()).await;
            assert_eq!(err["extensions"]["code"], code, "{vars}: {err}");
            if let Some(field) = field {
                assert_eq!(err["extensions"]["field"], field.as_str(), "{vars}: {err}");
            }
            assert_eq!(db.counts().await, before, "{vars} wrote something");
        }
    };
    let stale = json!({ "input": { "id": suggestion["id"], "version": 7 } });
    refused(CONFIRM, stale.clone(), "CONFLICT", None).await;
    refused(DISMISS, stale, "CONFLICT", None).await;
    let unknown = json!({ "input": { "id": Uuid::now_v7().to_string(), "version": 1 } });
    refused(CONFIRM, unknown, "NOT_FOUND", None).await;
    // Still waiting, unchanged.
    assert_eq!(link_row(&p.db, &suggestion["id"]).await.version, 1);

    let confirmed = p.db.ok(CONFIRM, settle(&suggestion)).await["confirmLink"]["link"].clone();
    for query in [CONFIRM, DISMISS] {
        refused(
            query,
            settle(&confirmed),
            "BAD_USER_INPUT",
            Some("input.id"),
        )
        .await;
    }

    // A link an editor made is no suggestion either.
    let made = p
        .db
        .ok(
            "mutation($input: CreateLinkInput!) { createLink(input: $input) { link { id version status } } }",
            json!({ "input": { "sourceStatementId": p.s1, "targetStatementId": p.s2, "relation": "FOLLOWS_UP" } }),
        )
        .await["createLink"]["link"]
        .clone();
    assert_eq!(made["status"], "CONFIRMED");
    refused(CONFIRM, settle(&made), "BAD_USER_INPUT", Some("input.id")).await;
    refused(DISMISS, settle(&made), "BAD_USER_INPUT", Some("input.id")).await;

    // Nor can a link be created dismissed.
    refused(
        "mutation($input: CreateLinkInput!) { createLink(input: $input) { link { id } } }",
        json!({ "input": { "sourceStatementId": p.s1, "targetStatementId": p.s2,
                           "relation": "SOFTENS", "status": "DISMISSED" } }),
        "BAD_USER_INPUT",
        Some("input.status"),
    )
    .await;

    // A dismissed link cannot be confirmed afterwards.
    let s3 = statement(&p.db, said(&p.speaker, &p.claim, "SUPPORTS", "2017-07-10")).await;
    let next = candidates(&p.db).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0]["targetStatement"]["id"], s3.as_str());
    let dismissed = p.db.ok(DISMISS, settle(&next[0])).await["dismissLink"]["link"].clone();
    refused(
        CONFIRM,
        settle(&dismissed),
        "BAD_USER_INPUT",
        Some("input.id"),
    )
    .await;
    assert_eq!(
        link_row(&p.db, &dismissed["id"]).await.status,
        entity::LinkStatus::Dismissed
    );
}
