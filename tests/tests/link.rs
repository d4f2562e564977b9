//! Links through the real schema: create and delete with revisions, the object's
//! fields, and every refused link (which writes nothing): no target or two, a link to
//! itself, a link back in time, unknown ids, and a duplicate.

use serde_json::{Value, json};
use tests::TestDb;
use tests::check::{assert_refused, revisions};
use tests::fixtures::{self, outlet, speaker};

const CREATE: &str = r#"mutation($input: CreateLinkInput!) {
    createLink(input: $input) {
        link {
            id version relation note status createdAt updatedAt
            source { id } targetStatement { id } targetArticle { id }
        }
    }
}"#;

const DELETE: &str =
    r#"mutation($input: DeleteInput!) { deleteLink(input: $input) { deletedId version } }"#;

const BY_ID: &str = r#"query($id: ID!) { link(id: $id) { id relation } }"#;

/// A statement by `speaker`; `stated_time` is a time of day with offset, or null.
async fn statement(
    db: &TestDb,
    speaker: &str,
    text: &str,
    stated_on: &str,
    stated_time: Value,
) -> String {
    fixtures::statement(
        db,
        json!({
            "speakerId": speaker, "text": text, "kind": "QUOTE", "statedOn": stated_on,
            "statedTime": stated_time, "language": "en",
        }),
    )
    .await
}

/// An article of TASS.
async fn article(db: &TestDb) -> String {
    let tass = outlet(db, "TASS").await;
    fixtures::article(
        db,
        &tass,
        "Lavrov says establishment of Russia-US cyber security working group still on agenda",
    )
    .await
}

/// Trump's two posts of 2017-07-09 (the second reverses the first) and Putin's
/// statement of 2017-07-07.
struct Fixture {
    hamburg: String,
    unit: String,
    cant_happen: String,
}

async fn fixture(db: &TestDb) -> Fixture {
    let (putin, trump) = (
        speaker(db, "Vladimir Putin").await,
        speaker(db, "Donald Trump").await,
    );
    let hamburg = statement(
        db,
        &putin,
        "We agreed to discuss a cyber security working group.",
        "2017-07-07",
        Value::Null,
    )
    .await;
    let unit = statement(
        db,
        &trump,
        "Putin & I discussed forming an impenetrable Cyber Security unit.",
        "2017-07-09",
        json!("07:50-04:00"),
    )
    .await;
    let cant_happen = statement(
        db,
        &trump,
        "The fact that President Putin and I discussed a Cyber Security unit doesn't mean I think it can happen. It can't.",
        "2017-07-09",
        json!("20:45-04:00"),
    )
    .await;
    Fixture {
        hamburg,
        unit,
        cant_happen,
    }
}

/// Runs `createLink` expecting a refusal; checks its code and field and that nothing
/// was written.
async fn refused(db: &TestDb, input: Value, code: &str, field: &str) -> Value {
    assert_refused(db, CREATE, json!({ "input": input }), code, field).await
}

#[tokio::test]
async fn create_link_to_a_later_statement_round_trips_with_a_revision() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;

    let data = db
        .ok(
            CREATE,
            json!({ "input": { "sourceStatementId": f.unit, "targetStatementId": f.cant_happen,
                               "relation": "REVERSES", "note": "  Same day, hours later.  " } }),
        )
        .await;
    let link = &data["createLink"]["link"];
    assert_eq!(link["relation"], "REVERSES");
    assert_eq!(
        link["status"], "CONFIRMED",
        "confirmed unless said otherwise"
    );
    assert_eq!(link["note"], "Same day, hours later.");
    assert_eq!(link["version"], 1);
    assert_eq!(link["source"]["id"], f.unit.as_str());
    assert_eq!(link["targetStatement"]["id"], f.cant_happen.as_str());
    assert_eq!(link["targetArticle"], Value::Null);

    let id = link["id"].as_str().unwrap();
    let read = db.ok(BY_ID, json!({ "id": id })).await;
    assert_eq!(read["link"]["relation"], "REVERSES");

    let revs = revisions(&db, id).await;
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].action, entity::RevisionAction::Create);
    assert_eq!(revs[0].after.clone().unwrap()["relation"], "REVERSES");
}

#[tokio::test]
async fn create_link_to_an_article_with_a_status() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let article = article(&db).await;

    let data = db
        .ok(
            CREATE,
            json!({ "input": { "sourceStatementId": f.hamburg, "targetArticleId": article,
                               "relation": "FOLLOWS_UP", "status": "SUGGESTED" } }),
        )
        .await;
    let link = &data["createLink"]["link"];
    assert_eq!(link["targetArticle"]["id"], article.as_str());
    assert_eq!(link["targetStatement"], Value::Null);
    assert_eq!(link["status"], "SUGGESTED");
    assert_eq!(link["note"], Value::Null);
}

#[tokio::test]
async fn a_link_across_days_points_forward() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    db.ok(
        CREATE,
        json!({ "input": { "sourceStatementId": f.hamburg, "targetStatementId": f.unit, "relation": "REAFFIRMS" } }),
    )
    .await;
}

#[tokio::test]
async fn create_link_needs_exactly_one_target() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let article = article(&db).await;

    refused(
        &db,
        json!({ "sourceStatementId": f.hamburg, "relation": "FOLLOWS_UP" }),
        "BAD_USER_INPUT",
        "input.targetStatementId",
    )
    .await;
    refused(
        &db,
        json!({ "sourceStatementId": f.hamburg, "targetStatementId": f.unit, "targetArticleId": article,
                "relation": "FOLLOWS_UP" }),
        "BAD_USER_INPUT",
        "input.targetStatementId",
    )
    .await;
}

#[tokio::test]
async fn create_link_refuses_a_link_to_itself() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    refused(
        &db,
        json!({ "sourceStatementId": f.unit, "targetStatementId": f.unit, "relation": "REPEATS" }),
        "BAD_USER_INPUT",
        "input.targetStatementId",
    )
    .await;
}

#[tokio::test]
async fn create_link_refuses_a_target_stated_before_the_source() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;

    let err = refused(
        &db,
        json!({ "sourceStatementId": f.unit, "targetStatementId": f.hamburg, "relation": "FOLLOWS_UP" }),
        "BAD_USER_INPUT",
        "input.targetStatementId",
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("links point forward in time"),
        "{err}"
    );

    // On one day, the known times of day decide.
    refused(
        &db,
        json!({ "sourceStatementId": f.cant_happen, "targetStatementId": f.unit, "relation": "REVERSES" }),
        "BAD_USER_INPUT",
        "input.targetStatementId",
    )
    .await;
}

#[tokio::test]
async fn create_link_names_the_unknown_statement_or_article() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let nothing = uuid::Uuid::now_v7().to_string();

    refused(
        &db,
        json!({ "sourceStatementId": nothing, "targetStatementId": f.unit, "relation": "FOLLOWS_UP" }),
        "NOT_FOUND",
        "input.sourceStatementId",
    )
    .await;
    refused(
        &db,
        json!({ "sourceStatementId": f.unit, "targetStatementId": nothing, "relation": "FOLLOWS_UP" }),
        "NOT_FOUND",
        "input.targetStatementId",
    )
    .await;
    refused(
        &db,
        json!({ "sourceStatementId": f.unit, "targetArticleId": nothing, "relation": "FOLLOWS_UP" }),
        "NOT_FOUND",
        "input.targetArticleId",
    )
    .await;
    refused(
        &db,
        json!({ "sourceStatementId": "not-an-id", "targetStatementId": f.unit, "relation": "FOLLOWS_UP" }),
        "BAD_USER_INPUT",
        "input.sourceStatementId",
    )
    .await;
}

#[tokio::test]
async fn create_link_refuses_a_duplicate_until_the_first_is_deleted() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let input = json!({ "sourceStatementId": f.unit, "targetStatementId": f.cant_happen, "relation": "REVERSES" });
    let first = db.ok(CREATE, json!({ "input": input })).await["createLink"]["link"].clone();

    refused(
        &db,
        input.clone(),
        "BAD_USER_INPUT",
        "input.targetStatementId",
    )
    .await;

    // Another relation between the same statements is another link.
    db.ok(
        CREATE,
        json!({ "input": { "sourceStatementId": f.unit, "targetStatementId": f.cant_happen, "relation": "CONTRADICTS" } }),
    )
    .await;

    db.ok(
        DELETE,
        json!({ "input": { "id": first["id"], "version": first["version"] } }),
    )
    .await;
    db.ok(CREATE, json!({ "input": input })).await;
}

#[tokio::test]
async fn create_link_refuses_a_duplicate_article_link() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let article = article(&db).await;
    let input = json!({ "sourceStatementId": f.hamburg, "targetArticleId": article, "relation": "FOLLOWS_UP" });
    db.ok(CREATE, json!({ "input": input })).await;
    refused(&db, input, "BAD_USER_INPUT", "input.targetArticleId").await;
}

#[tokio::test]
async fn create_link_refuses_an_overlong_note() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    refused(
        &db,
        json!({ "sourceStatementId": f.unit, "targetStatementId": f.cant_happen, "relation": "REVERSES",
                "note": "x".repeat(5001) }),
        "BAD_USER_INPUT",
        "input.note",
    )
    .await;
}

#[tokio::test]
async fn delete_link_hides_it_and_records_a_revision() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let link = db
        .ok(
            CREATE,
            json!({ "input": { "sourceStatementId": f.unit, "targetStatementId": f.cant_happen, "relation": "REVERSES" } }),
        )
        .await["createLink"]["link"]
        .clone();
    let before = db.counts().await;

    let err = db
        .err(
            DELETE,
            json!({ "input": { "id": link["id"], "version": 2 } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "CONFLICT");
    assert_eq!(err["extensions"]["field"], "version");
    assert_eq!(db.counts().await, before);

    let data = db
        .ok(
            DELETE,
            json!({ "input": { "id": link["id"], "version": 1 } }),
        )
        .await;
    assert_eq!(data["deleteLink"]["deletedId"], link["id"]);
    assert_eq!(data["deleteLink"]["version"], 2);
    assert_eq!(
        db.ok(BY_ID, json!({ "id": link["id"] })).await["link"],
        Value::Null
    );

    let revs = revisions(&db, link["id"].as_str().unwrap()).await;
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[1].action, entity::RevisionAction::Delete);

    let err = db
        .err(
            DELETE,
            json!({ "input": { "id": link["id"], "version": 2 } }),
        )
        .await;
    assert_eq!(err["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn deleting_a_statement_deletes_its_links_with_revisions() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    let created = db
        .ok(
            CREATE,
            json!({ "input": { "sourceStatementId": f.unit, "targetStatementId": f.cant_happen, "relation": "REVERSES" } }),
        )
        .await;
    let link_id = created["createLink"]["link"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let version = db
        .ok(
            "query($id: ID!) { statement(id: $id) { version } }",
            json!({ "id": f.cant_happen }),
        )
        .await["statement"]["version"]
        .clone();
    db.ok(
        "mutation($input: DeleteInput!) { deleteStatement(input: $input) { deletedId } }",
        json!({ "input": { "id": f.cant_happen, "version": version } }),
    )
    .await;
    assert!(
        db.ok(BY_ID, json!({ "id": link_id })).await["link"].is_null(),
        "the link outlived its target"
    );
    let backlinks = db
        .ok(
            "query($id: ID!) { statement(id: $id) { links { id } } }",
            json!({ "id": f.unit }),
        )
        .await;
    assert_eq!(backlinks["statement"]["links"], json!([]));
    let revisions = revisions(&db, &link_id).await;
    assert_eq!(revisions.len(), 2, "create and delete");
    assert_eq!(revisions[1].action, entity::RevisionAction::Delete);
}

#[tokio::test]
async fn update_statement_refuses_a_date_that_would_reverse_a_link() {
    let db = TestDb::new().await;
    let f = fixture(&db).await;
    db.ok(
        CREATE,
        json!({ "input": { "sourceStatementId": f.hamburg, "targetStatementId": f.unit, "relation": "FOLLOWS_UP" } }),
    )
    .await;
    let before = db.counts().await;
    let error = db
        .err(
            "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id } } }",
            json!({ "input": { "id": f.hamburg, "version": 1, "statedOn": "2017-07-20" } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "input.statedOn");
    assert_eq!(db.counts().await, before);
    let kept = db
        .ok(
            "query($id: ID!) { statement(id: $id) { statedOn version } }",
            json!({ "id": f.hamburg }),
        )
        .await;
    assert_eq!(
        kept["statement"],
        json!({ "statedOn": "2017-07-07", "version": 1 })
    );
    // Moving it to another day that keeps the order is fine.
    db.ok(
        "mutation($input: UpdateStatementInput!) { updateStatement(input: $input) { statement { id } } }",
        json!({ "input": { "id": f.hamburg, "version": 1, "statedOn": "2017-07-08" } }),
    )
    .await;
}
