//! Claims through the real schema: create/update/delete with versions and revisions,
//! lookups, the list with its filters and pages, the object's fields, and every
//! refused input (which writes nothing).

use serde_json::{Value, json};
use tests::TestDb;
use tests::check::{revisions, sorted};
use tests::fixtures::{self, outlet, speaker, topic};

const CREATE: &str = r#"mutation($input: CreateClaimInput!) {
    createClaim(input: $input) { claim { id text slug version createdAt updatedAt topics { id } } }
}"#;

const UPDATE: &str = r#"mutation($input: UpdateClaimInput!) {
    updateClaim(input: $input) { claim { id text slug version topics { id } } }
}"#;

const DELETE: &str =
    r#"mutation($input: DeleteInput!) { deleteClaim(input: $input) { deletedId version } }"#;

const BY_ID: &str = r#"query($id: ID) { claim(id: $id) { id text slug version } }"#;

async fn claim(db: &TestDb, text: &str, slug: Option<&str>, topics: &[&str]) -> Value {
    let data = db
        .ok(
            CREATE,
            json!({ "input": { "text": text, "slug": slug, "topicIds": topics } }),
        )
        .await;
    data["createClaim"]["claim"].clone()
}

/// A statement by `speaker` taking `stance` on `claim_id`; returns its id.
async fn statement(db: &TestDb, speaker: &str, claim_id: &str, stance: &str) -> String {
    fixtures::statement(
        db,
        json!({
            "speakerId": speaker,
            "text": "We agreed to discuss a joint cyber security working group.",
            "kind": "QUOTE",
            "statedOn": "2017-07-07",
            "language": "en",
            "stances": [{ "claimId": claim_id, "stance": stance }],
        }),
    )
    .await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_claim_round_trips_with_topics_and_a_revision() {
    let db = TestDb::new().await;
    let (security, russia) = (
        topic(&db, "Cyber security").await,
        topic(&db, "Russia").await,
    );

    let created = claim(
        &db,
        "  Russia and the U.S. will set up a joint cyber security working group  ",
        Some("russia-us-cyber-security-working-group"),
        &[&russia, &security, &russia],
    )
    .await;
    assert_eq!(
        created["text"],
        "Russia and the U.S. will set up a joint cyber security working group"
    );
    assert_eq!(created["slug"], "russia-us-cyber-security-working-group");
    assert_eq!(created["version"], 1);
    assert_eq!(created["createdAt"], created["updatedAt"]);
    assert_eq!(
        sorted(ids(&created["topics"])),
        sorted(vec![security.clone(), russia.clone()])
    );
    assert_eq!(db.count("claim_topic").await, 2);

    let id = created["id"].as_str().unwrap();
    let read = db.ok(BY_ID, json!({ "id": id })).await;
    assert_eq!(read["claim"]["text"], created["text"]);
    let by_slug = db
        .ok(
            r#"query { claim(slug: "russia-us-cyber-security-working-group") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(by_slug["claim"]["id"], id);

    let revs = revisions(&db, id).await;
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].version, 1);
    assert_eq!(revs[0].action, entity::RevisionAction::Create);
    assert!(revs[0].before.is_none());
    let after = revs[0].after.clone().unwrap();
    assert_eq!(after["slug"], "russia-us-cyber-security-working-group");
    let mut snapshot_topics: Vec<String> = after["topic_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    snapshot_topics.sort();
    assert_eq!(snapshot_topics, sorted(vec![security, russia]));
}

#[tokio::test]
async fn update_claim_bumps_the_version_replaces_topics_and_records_both_sides() {
    let db = TestDb::new().await;
    let (a, b) = (
        topic(&db, "Cyber security").await,
        topic(&db, "Diplomacy").await,
    );
    let created = claim(
        &db,
        "A working group will be set up",
        Some("working-group"),
        &[&a],
    )
    .await;
    let id = created["id"].as_str().unwrap();

    let data = db
        .ok(
            UPDATE,
            json!({ "input": { "id": id, "version": 1, "text": "A joint working group will be set up", "slug": null, "topicIds": [b] } }),
        )
        .await;
    let updated = &data["updateClaim"]["claim"];
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["text"], "A joint working group will be set up");
    assert_eq!(
        updated["slug"],
        Value::Null,
        "an explicit null clears the slug"
    );
    assert_eq!(ids(&updated["topics"]), vec![b.clone()]);
    assert_eq!(db.count("claim_topic").await, 1);

    // Leaving a field out leaves it as it is.
    let data = db
        .ok(
            UPDATE,
            json!({ "input": { "id": id, "version": 2, "slug": "joint-working-group" } }),
        )
        .await;
    let updated = &data["updateClaim"]["claim"];
    assert_eq!(updated["version"], 3);
    assert_eq!(updated["text"], "A joint working group will be set up");
    assert_eq!(ids(&updated["topics"]), vec![b.clone()]);

    let revs = revisions(&db, id).await;
    assert_eq!(
        revs.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let second = &revs[1];
    assert_eq!(second.action, entity::RevisionAction::Update);
    let (before, after) = (
        second.before.clone().unwrap(),
        second.after.clone().unwrap(),
    );
    assert_eq!(before["version"], 1);
    assert_eq!(before["topic_ids"], json!([a]));
    assert_eq!(after["version"], 2);
    assert_eq!(after["topic_ids"], json!([b]));
}

#[tokio::test]
async fn update_claim_with_a_stale_version_is_a_conflict_and_writes_nothing() {
    let db = TestDb::new().await;
    let id = claim(&db, "A working group will be set up", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    db.ok(
        UPDATE,
        json!({ "input": { "id": id, "version": 1, "text": "First edit" } }),
    )
    .await;
    let before = db.counts().await;

    let err = db
        .err(
            UPDATE,
            json!({ "input": { "id": id, "version": 1, "text": "Lost edit" } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");
    assert_eq!(err["extensions"]["field"], "version");
    assert_eq!(db.counts().await, before);
    assert_eq!(
        db.ok(BY_ID, json!({ "id": id })).await["claim"]["text"],
        "First edit"
    );
}

#[tokio::test]
async fn create_claim_rejects_a_slug_another_live_claim_holds() {
    let db = TestDb::new().await;
    claim(&db, "First", Some("working-group"), &[]).await;
    let before = db.counts().await;

    let err = db
        .err(
            CREATE,
            json!({ "input": { "text": "Second", "slug": "working-group" } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "input.slug");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn update_claim_rejects_a_slug_another_live_claim_holds() {
    let db = TestDb::new().await;
    claim(&db, "First", Some("working-group"), &[]).await;
    let id = claim(&db, "Second", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = db.counts().await;

    let err = db
        .err(
            UPDATE,
            json!({ "input": { "id": id, "version": 1, "slug": "working-group" } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "input.slug");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn create_claim_rejects_an_unknown_topic_naming_its_position() {
    let db = TestDb::new().await;
    let known = topic(&db, "Cyber security").await;
    let before = db.counts().await;

    let unknown = uuid::Uuid::now_v7().to_string();
    let err = db
        .err(
            CREATE,
            json!({ "input": { "text": "A claim", "topicIds": [known, unknown] } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND");
    assert_eq!(err["extensions"]["field"], "input.topicIds[1]");
    assert_eq!(db.counts().await, before);

    let err = db
        .err(
            CREATE,
            json!({ "input": { "text": "A claim", "topicIds": ["not-a-uuid"] } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "input.topicIds[0]");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn update_claim_rejects_an_unknown_topic_and_keeps_the_old_ones() {
    let db = TestDb::new().await;
    let known = topic(&db, "Cyber security").await;
    let id = claim(&db, "A claim", None, &[&known]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = db.counts().await;

    let unknown = uuid::Uuid::now_v7().to_string();
    let err = db
        .err(
            UPDATE,
            json!({ "input": { "id": id, "version": 1, "topicIds": [unknown] } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND");
    assert_eq!(err["extensions"]["field"], "input.topicIds[0]");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn create_claim_rejects_empty_too_long_and_badly_slugged_input() {
    let db = TestDb::new().await;
    let before = db.counts().await;
    let cases = [
        (json!({ "text": "   " }), "input.text"),
        (json!({ "text": "x".repeat(2001) }), "input.text"),
        (
            json!({ "text": "A claim", "slug": "Not A Slug" }),
            "input.slug",
        ),
        (json!({ "text": "A claim", "slug": "" }), "input.slug"),
    ];
    for (input, field) in cases {
        let err = db.err(CREATE, json!({ "input": input })).await;
        assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{input}");
        assert_eq!(err["extensions"]["field"], field, "{input}");
    }
    assert_eq!(db.counts().await, before);
    // The limit itself is fine.
    claim(&db, &"x".repeat(2000), None, &[]).await;
}

#[tokio::test]
async fn claim_lookup_takes_exactly_one_of_id_and_slug() {
    let db = TestDb::new().await;
    let id = claim(&db, "A claim", Some("a-claim"), &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let err = db.err(r#"query { claim { id } }"#, json!({})).await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "id");
    let err = db
        .err(
            r#"query($id: ID) { claim(id: $id, slug: "a-claim") { id } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");

    let missing = db
        .ok(BY_ID, json!({ "id": uuid::Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(missing["claim"], Value::Null);
    let missing = db
        .ok(
            r#"query { claim(slug: "no-such-claim") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(missing["claim"], Value::Null);
}

#[tokio::test]
async fn claims_are_listed_newest_first_in_pages() {
    let db = TestDb::new().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            claim(&db, &format!("Claim {i}"), None, &[]).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let page = r#"query($first: Int, $after: String, $last: Int, $before: String) {
        claims(first: $first, after: $after, last: $last, before: $before) {
            totalCount
            edges { cursor node { id } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
    }"#;

    let one = db.ok(page, json!({ "first": 2 })).await["claims"].clone();
    assert_eq!(one["totalCount"], 5);
    let nodes = |c: &Value| -> Vec<String> {
        c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(nodes(&one), newest_first[0..2]);
    assert_eq!(one["pageInfo"]["hasNextPage"], true);
    assert_eq!(one["pageInfo"]["hasPreviousPage"], false);

    let two = db
        .ok(
            page,
            json!({ "first": 2, "after": one["pageInfo"]["endCursor"] }),
        )
        .await["claims"]
        .clone();
    assert_eq!(nodes(&two), newest_first[2..4]);
    let three = db
        .ok(
            page,
            json!({ "first": 2, "after": two["pageInfo"]["endCursor"] }),
        )
        .await["claims"]
        .clone();
    assert_eq!(nodes(&three), newest_first[4..5]);
    assert_eq!(three["pageInfo"]["hasNextPage"], false);

    let back = db
        .ok(
            page,
            json!({ "last": 2, "before": three["pageInfo"]["startCursor"] }),
        )
        .await["claims"]
        .clone();
    assert_eq!(nodes(&back), newest_first[2..4]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);

    let err = db.err(page, json!({ "first": 101 })).await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    let err = db.err(page, json!({ "after": "garbage" })).await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn claims_filter_by_topics_and_by_text_taken_literally() {
    let db = TestDb::new().await;
    let (security, ukraine) = (
        topic(&db, "Cyber security").await,
        topic(&db, "Ukraine").await,
    );
    let group = claim(
        &db,
        "Russia and the U.S. will set up a cyber security working group",
        None,
        &[&security],
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let channel = claim(
        &db,
        "Russia and the U.S. will open a channel on Ukraine",
        None,
        &[&ukraine],
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let percent = claim(&db, "Turnout was 100% in the district", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    claim(&db, "Turnout was 1000 in the district", None, &[]).await;

    let list = r#"query($filter: ClaimFilter) { claims(filter: $filter) { totalCount edges { node { id } } } }"#;
    let nodes = |v: Value| -> Vec<String> {
        v["claims"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };

    assert_eq!(
        nodes(
            db.ok(list, json!({ "filter": { "topicIds": [security] } }))
                .await
        ),
        vec![group.clone()]
    );
    assert_eq!(
        nodes(
            db.ok(
                list,
                json!({ "filter": { "topicIds": [security, ukraine] } })
            )
            .await
        ),
        vec![channel.clone(), group.clone()]
    );
    assert_eq!(
        nodes(
            db.ok(list, json!({ "filter": { "text": "CYBER SECURITY" } }))
                .await
        ),
        vec![group.clone()]
    );
    assert_eq!(
        nodes(db.ok(list, json!({ "filter": { "text": "0%" } })).await),
        vec![percent],
        "% is literal"
    );
    assert_eq!(
        nodes(db.ok(list, json!({ "filter": { "text": "u_s" } })).await),
        Vec::<String>::new(),
        "_ is literal"
    );
    assert_eq!(
        nodes(
            db.ok(
                list,
                json!({ "filter": { "text": "russia", "topicIds": [ukraine] } })
            )
            .await
        ),
        vec![channel]
    );
    assert_eq!(
        nodes(db.ok(list, json!({ "filter": { "topicIds": [] } })).await),
        Vec::<String>::new(),
        "an empty topic list matches nothing"
    );
    let all = db.ok(list, json!({ "filter": { "text": "  " } })).await;
    assert_eq!(
        all["claims"]["totalCount"], 4,
        "a blank text filters nothing"
    );

    let err = db
        .err(list, json!({ "filter": { "topicIds": ["nope"] } }))
        .await;
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "filter.topicIds[0]");
}

#[tokio::test]
async fn delete_claim_hides_it_frees_its_slug_and_records_a_revision() {
    let db = TestDb::new().await;
    let t = topic(&db, "Cyber security").await;
    let id = claim(&db, "A claim", Some("a-claim"), &[&t]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let data = db
        .ok(DELETE, json!({ "input": { "id": id, "version": 1 } }))
        .await;
    assert_eq!(data["deleteClaim"]["deletedId"], id.as_str());
    assert_eq!(data["deleteClaim"]["version"], 2);
    assert_eq!(
        db.ok(BY_ID, json!({ "id": id })).await["claim"],
        Value::Null
    );
    assert_eq!(
        db.ok(r#"query { claims { totalCount } }"#, json!({})).await["claims"]["totalCount"],
        0
    );
    assert_eq!(db.count("claim").await, 1, "soft delete keeps the row");

    let revs = revisions(&db, &id).await;
    let last = revs.last().unwrap();
    assert_eq!(last.action, entity::RevisionAction::Delete);
    assert_eq!(last.version, 2);
    assert_eq!(last.before.clone().unwrap()["topic_ids"], json!([t]));
    assert!(!last.after.clone().unwrap()["deleted_at"].is_null());

    claim(&db, "Another claim", Some("a-claim"), &[]).await;

    let err = db
        .err(DELETE, json!({ "input": { "id": id, "version": 2 } }))
        .await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn delete_claim_with_a_stale_version_is_a_conflict() {
    let db = TestDb::new().await;
    let id = claim(&db, "A claim", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    db.ok(
        UPDATE,
        json!({ "input": { "id": id, "version": 1, "text": "Edited" } }),
    )
    .await;
    let before = db.counts().await;

    let err = db
        .err(DELETE, json!({ "input": { "id": id, "version": 1 } }))
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");
    assert_eq!(db.counts().await, before);
}

#[tokio::test]
async fn delete_claim_is_refused_while_a_live_statement_takes_a_stance_on_it() {
    let db = TestDb::new().await;
    let id = claim(&db, "A claim", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let putin = speaker(&db, "Vladimir Putin").await;
    let statement_id = statement(&db, &putin, &id, "SUPPORTS").await;
    let before = db.counts().await;

    let err = db
        .err(DELETE, json!({ "input": { "id": id, "version": 1 } }))
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");
    assert_eq!(err["extensions"]["field"], "id");
    assert_eq!(db.counts().await, before);

    db.ok(
        r#"mutation($input: DeleteInput!) { deleteStatement(input: $input) { deletedId } }"#,
        json!({ "input": { "id": statement_id, "version": 1 } }),
    )
    .await;
    db.ok(DELETE, json!({ "input": { "id": id, "version": 1 } }))
        .await;
}

#[tokio::test]
async fn delete_claim_is_refused_while_a_live_verdict_rates_it() {
    let db = TestDb::new().await;
    let id = claim(&db, "A claim", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reviewer = outlet(&db, "PolitiFact").await;
    let data = db
        .ok(
            r#"mutation($input: CreateVerdictInput!) { createVerdict(input: $input) { verdict { id version } } }"#,
            json!({ "input": { "claimId": id, "reviewerId": reviewer, "ratingLabel": "False" } }),
        )
        .await;
    let verdict = data["createVerdict"]["verdict"].clone();
    let before = db.counts().await;

    let err = db
        .err(DELETE, json!({ "input": { "id": id, "version": 1 } }))
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");
    assert_eq!(db.counts().await, before);

    db.ok(
        r#"mutation($input: DeleteInput!) { deleteVerdict(input: $input) { deletedId } }"#,
        json!({ "input": { "id": verdict["id"], "version": verdict["version"] } }),
    )
    .await;
    db.ok(DELETE, json!({ "input": { "id": id, "version": 1 } }))
        .await;
}

#[tokio::test]
async fn a_claim_shows_its_statements_and_verdicts() {
    let db = TestDb::new().await;
    let id = claim(&db, "A claim", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = claim(&db, "Another claim", None, &[]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let trump = speaker(&db, "Donald Trump").await;
    let on_claim = statement(&db, &trump, &id, "SUPPORTS").await;
    statement(&db, &trump, &other, "OPPOSES").await;
    let reviewer = outlet(&db, "PolitiFact").await;
    let verdict = db
        .ok(
            r#"mutation($input: CreateVerdictInput!) { createVerdict(input: $input) { verdict { id } } }"#,
            json!({ "input": { "claimId": id, "reviewerId": reviewer, "ratingLabel": "Unproven" } }),
        )
        .await["createVerdict"]["verdict"]["id"]
        .clone();

    let data = db
        .ok(
            r#"query($id: ID) { claim(id: $id) {
                statements(first: 10) { totalCount edges { node { id } } }
                verdicts { id ratingLabel }
            } }"#,
            json!({ "id": id }),
        )
        .await;
    let claim = &data["claim"];
    assert_eq!(claim["statements"]["totalCount"], 1);
    assert_eq!(
        claim["statements"]["edges"][0]["node"]["id"],
        on_claim.as_str()
    );
    assert_eq!(
        claim["verdicts"],
        json!([{ "id": verdict, "ratingLabel": "Unproven" }])
    );
}
